"""Strokes obeyed at full resolution and kept in their region (colorizer.propagate), and sketch
mode (colorizer.sketch): issue 18's library checks.

The photo checks use two stand-in hint networks whose answers are known: ``FloodNet`` paints the
mean hint chroma over the whole image (the worst flood a hinted network can do), ``BlindNet``
ignores its hints (so whatever obeys a stroke is the full-resolution step alone).
"""

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

import colorizer
from colorizer.color import delta_e, rgb_to_lab
from colorizer.pipeline import Colorizer

CONFIG = {"architecture": {"name": "stand-in"}, "normalization": {"gray_mean": 120.0, "gray_std": 60.0},
          "inference": {"working_size": 32}}


class FloodNet(torch.nn.Module):
    """Gray + (Cb, Cr, mask) hint channels -> the mean hint chroma everywhere (0 without hints)."""

    in_channels, output, fixed_size, size_multiple, task = 4, "chroma", None, 1, "color"

    def forward(self, x):
        mask = x[:, 3:4]
        mean = (x[:, 1:3] * mask).sum((2, 3), keepdim=True) / mask.sum((2, 3), keepdim=True).clamp_min(1)
        return mean.expand(-1, -1, *x.shape[-2:])


class BlindNet(FloodNet):
    def forward(self, x):
        return torch.zeros(x.shape[0], 2, *x.shape[-2:])


def two_regions(size=128):
    """Gray uint8: left half dark (0.35), right half light (0.75), split by a clear edge."""
    return np.where(np.arange(size)[None, :] < size // 2, 89, 191).astype(np.uint8) * np.ones((size, 1), np.uint8)


def chroma(image):
    return colorizer.rgb_to_ycbcr(np.asarray(image, dtype=np.float64) / 255)[..., 1:]


@pytest.mark.parametrize("net", [FloodNet, BlindNet])
def test_a_dab_moves_the_other_region_by_under_a_tenth_of_its_chroma(net):
    model = Colorizer(net(), CONFIG)
    gray = two_regions()
    red = (214, 40, 40)
    dab = [(32 + dx, 64 + dy, red) for dx in range(-2, 3) for dy in range(-2, 3)]
    plain, hinted = chroma(model.colorize(gray)), chroma(model.colorize(gray, hints=dab))
    shift = np.linalg.norm(hinted[:, 64:].mean((0, 1)) - plain[:, 64:].mean((0, 1)))
    assert shift < 0.1 * np.linalg.norm(chroma([[red]])[0, 0])
    # ...while its own region takes the color around the dab, more than half way
    want = chroma([[red]])[0, 0]
    assert np.dot(hinted[54:75, 22:43].mean((0, 1)), want) / np.dot(want, want) > 0.5


def test_a_three_pixel_dab_is_obeyed_at_full_resolution():
    """256 x 256 seen by the network at 32 x 32: the dab is under one working pixel, and the
    network ignores it anyway; the dab's pixels still carry its chroma and its region follows."""
    model = Colorizer(BlindNet(), CONFIG)
    gray = two_regions(256)
    blue = (150, 200, 240)  # about the light region's luminance: its chroma fits the RGB gamut there
    out = chroma(model.colorize(gray, hints=[(200, 100, blue), (201, 100, blue), (202, 100, blue)]))
    want = chroma([[blue]])[0, 0]
    assert np.abs(out[100, 200:203] - want).max() < 0.01
    assert np.dot(out[104, 201], want) / np.dot(want, want) > 0.5  # 4 px away: pulled more than half way
    assert np.abs(out[:, :120]).max() < 0.01  # across the edge: untouched


class OverreachNet(FloodNet):
    """Automatic: blue where the gray is bright (the sky), no color elsewhere; with hints: the
    mean hint chroma over the whole picture, as the shipped network did with one dab on an
    eagle's beak (-11.5 dB against its automatic result)."""

    def forward(self, x):
        auto = (x[:, :1] > 0.5).float() * torch.tensor([0.1, -0.05]).reshape(1, 2, 1, 1)  # gray above Y = 0.59
        hinted = x[:, 3:4].amax((2, 3), keepdim=True) > 0
        return torch.where(hinted, super().forward(x), auto)


def sky_and_field(size=128):
    """RGB uint8: a bright blue sky (Y 0.70..0.75) over a textured green field (Y about 0.4),
    joined by a soft 16-pixel ramp, not a clear edge."""
    rng = np.random.default_rng(0)
    rows = np.arange(size)[:, None] * np.ones((1, size))
    sky = rows < size // 2
    ramp = np.clip((rows - size // 2 + 8) / 16, 0, 1)
    y = (0.70 + 0.05 * rows / size) * (1 - ramp) + (0.4 + rng.normal(0, 0.03, (size, size))) * ramp
    cbcr = np.where(sky[..., None], [0.1, -0.05], [-0.08, -0.08])
    return (colorizer.ycbcr_to_rgb(np.dstack([y, cbcr])).clip(0, 1) * 255).round().astype(np.uint8)


def true_dab(rgb_uint8, x, y):
    color = tuple(int(v) for v in rgb_uint8[y - 1 : y + 2, x - 1 : x + 2].reshape(-1, 3).mean(0).round())
    return [(x + dx, y + dy, color) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]


@pytest.mark.parametrize("places", [[(40, 20)], [(90, 100)], [(40, 20), (90, 100)], [(10, 60), (70, 30), (120, 110)]])
def test_true_color_dabs_never_make_the_picture_worse(places):
    """Issue 18: no image more than 0.5 dB below its automatic result. A dab on the sky, which the
    automatic colors got right, asks for nothing and must change nothing the network floods; a
    dab on the field, which they got wrong, may bring green to the field, not to the sky."""
    from colorizer.metrics import psnr

    model = Colorizer(OverreachNet(), CONFIG)
    truth = sky_and_field()
    auto = psnr(np.asarray(model.colorize(truth)), truth)
    hinted = psnr(np.asarray(model.colorize(truth, hints=[p for x, y in places for p in true_dab(truth, x, y)])), truth)
    assert hinted >= auto - 0.5


def test_strokes_need_a_hint_network_and_valid_points():
    model = Colorizer(BlindNet(), CONFIG)
    gray = two_regions(64)
    with pytest.raises(ValueError, match="outside"):
        model.colorize(gray, hints=[(64, 0, (255, 0, 0))])
    with pytest.raises(ValueError, match="8-bit"):
        model.colorize(gray, hints=[(1, 1, (256, 0, 0))])
    with pytest.raises(ValueError):
        model.colorize(gray, hints=Image.new("RGBA", (10, 10)))  # not the input's size


def test_lab_matches_known_values():
    lab = rgb_to_lab(np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    np.testing.assert_allclose(lab, [[100, 0, 0], [53.24, 80.09, 67.20], [32.30, 79.19, -107.86]], atol=0.01)
    assert delta_e(np.array([0.5, 0.5, 0.5]), np.array([0.5, 0.5, 0.5])) == 0


def house(size=128, gap=2):
    """A closed box (outline 3 px) with a ``gap``-pixel opening in its top, on white."""
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle([32, 32, 96, 96], outline=0, width=3)
    draw.rectangle([60, 32, 60 + gap - 1, 35], fill=255)  # the gap
    return image


def test_sketch_fills_the_dabbed_region_and_leaves_the_rest_white():
    model = Colorizer(BlindNet(), CONFIG)
    red = (214, 40, 40)
    out = np.asarray(model.colorize(house(), mode="sketch", hints=[(64 + dx, 64 + dy, red) for dx in range(3) for dy in range(3)]))
    inside, outside = out[38:91, 38:91], np.concatenate([out[:28].reshape(-1, 3), out[100:].reshape(-1, 3)])
    assert (delta_e(inside / 255.0, np.array(red) / 255.0) < 10).mean() >= 0.95  # the gap was closed
    assert (outside == 255).all()  # no dab outside: still white
    assert (out[64, 33] == 0).all()  # the line stays as drawn


def test_sketch_fill_sets_luminance_and_a_guess_fills_undabbed_regions():
    from colorizer.sketch import fill_sketch, hint_colors

    sky = (110, 170, 240)
    y = torch.from_numpy(np.asarray(house(), dtype=np.float32) / 255)[None, None]
    out = fill_sketch(y, hint_colors([(5, 5, sky)], (128, 128)))[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(out[10, 10] * 255, sky, atol=1)  # a white page becomes blue sky
    assert np.allclose(out[64, 64], 1.0)  # the box has no dab
    seen = []

    def guess(lines):  # a line-art network's colors at its working size: two halves of the box guessed differently
        seen.append(lines)
        rgb = torch.tensor([0.2, 0.6, 0.3]).reshape(1, 3, 1, 1).repeat(1, 1, 32, 32)
        rgb[..., :, 16:] = torch.tensor([0.4, 0.2, 0.3]).reshape(1, 3, 1, 1)
        return rgb

    out = fill_sketch(y, hint_colors([(5, 5, sky)], (128, 128)), guess=guess)[0].permute(1, 2, 0).numpy()
    assert seen[0][64, 33] and not seen[0][64, 64]  # called with the closed lines
    np.testing.assert_allclose(out[40, 40], out[90, 90], atol=1e-6)  # the region is filled flat, with the mean guess
    np.testing.assert_allclose(out[64, 64], [0.3, 0.4, 0.3], atol=0.02)
    np.testing.assert_allclose(out[10, 10] * 255, sky, atol=1)  # dabs still win
    seen.clear()
    fill_sketch(y, hint_colors([(5, 5, sky), (64, 64, sky)], (128, 128)), guess=guess)
    assert not seen  # every region dabbed: no network run



def test_sketch_dabs_of_two_colors_split_their_region_and_a_dab_on_a_line_still_fills_beside_it():
    from colorizer.sketch import fill_sketch, hint_colors

    red, blue = (214, 40, 40), (40, 60, 220)
    y = torch.from_numpy(np.asarray(house(gap=1), dtype=np.float32) / 255)[None, None]  # a gap that closes
    out = fill_sketch(y, hint_colors([(40, 64, red), (88, 64, blue)], (128, 128)))[0].permute(1, 2, 0).numpy() * 255
    np.testing.assert_allclose(out[64, 50], red, atol=1)  # each pixel of the box takes its nearest dab
    np.testing.assert_allclose(out[64, 78], blue, atol=1)
    assert np.allclose(out[10, 10], 255)  # the page has no dab
    # the only dab lies on the box's line (its inner edge): kept, its color fills the box beside it
    out = fill_sketch(y, hint_colors([(34, 64, red)], (128, 128)))[0].permute(1, 2, 0).numpy() * 255
    np.testing.assert_allclose(out[64, 64], red, atol=1)
    assert np.allclose(out[10, 10], 255)

def test_sketch_fill_is_the_same_when_swept_in_small_blocks(monkeypatch):
    """The sweeps and the region pooling work a block of rows or columns at a time (memory at
    16 MP); blocks that split rows, columns and regions must not change the result."""
    from colorizer import regions, sketch

    drawing = house()
    ImageDraw.Draw(drawing).ellipse([80, 80, 120, 110], outline=0, width=2)  # a second, slanted shape
    y = torch.from_numpy(np.asarray(drawing, dtype=np.float32) / 255)[None, None]
    dabs = sketch.hint_colors([(5, 5, (110, 170, 240)), (100, 95, (200, 40, 40)), (101, 96, (40, 200, 40))], (128, 128))

    def guess(lines):
        return torch.rand(1, 3, 24, 40, generator=torch.Generator().manual_seed(0))

    whole = sketch.fill_sketch(y, dabs, guess)
    monkeypatch.setattr(regions, "BLOCK", 100)  # under one row: blocks of single rows and columns
    assert torch.equal(sketch.fill_sketch(y, dabs, guess), whole)
    monkeypatch.setattr(regions, "BLOCK", 1000)  # several rows, several columns
    assert torch.equal(sketch.fill_sketch(y, dabs, guess), whole)



def test_sketch_regions_are_the_connected_components_in_raster_order():
    """The union-find on row runs gives the regions that spreading minima gives (each pixel's
    region named by the smallest flat index in it, slow at 16 MP), numbered alike."""
    from colorizer import regions

    rng = np.random.default_rng(0)
    masks = [rng.random(shape) < density for shape, density in (((37, 53), 0.6), ((40, 40), 0.45), ((1, 9), 0.7),
                                                                 ((9, 1), 0.7), ((30, 30), 0.9))]
    yy, xx = np.mgrid[:60, :60]
    masks += [np.hypot(xx - 30, yy - 30) % 12 > 2, np.zeros((5, 5), bool), np.ones((5, 5), bool)]  # rings; empty; full
    for free in masks:
        index = np.where(free, np.arange(free.size).reshape(free.shape), regions.FAR)
        reference = regions.spread(index, free, 0)
        region = regions.connected_regions(free)
        assert np.array_equal(region >= regions.FAR, ~free)
        if free.any():  # the same partition, in the same order of first pixels
            assert np.array_equal(np.unique(region[free], return_inverse=True)[1],
                                  np.unique(reference[free], return_inverse=True)[1])


def test_sketch_lines_take_the_same_colors_breadth_first_or_by_sweeps(monkeypatch):
    """Line pixels get their labels breadth-first, a round per pixel of distance; ink thicker than
    LINE_ROUNDS is finished by the sweeps, seeded with the distances so far: the same fill."""
    from colorizer import regions, sketch

    drawing = house()
    draw = ImageDraw.Draw(drawing)
    draw.ellipse([70, 70, 120, 115], outline=0, width=9)  # thick ink
    draw.rectangle([10, 100, 30, 120], fill=0)  # a filled block: many rounds to its middle
    y = torch.from_numpy(np.asarray(drawing, dtype=np.float32) / 255)[None, None]
    dabs = sketch.hint_colors([(5, 5, (110, 170, 240)), (64, 64, (200, 40, 40)), (95, 92, (40, 200, 40))], (128, 128))
    whole = sketch.fill_sketch(y, dabs)
    for rounds in (0, 1, 3):
        monkeypatch.setattr(regions, "LINE_ROUNDS", rounds)
        assert torch.equal(sketch.fill_sketch(y, dabs), whole)

def test_sketch_mode_takes_a_dense_hint_image_and_rejects_bad_hints():
    model = Colorizer(BlindNet(), CONFIG)
    drawing = house()
    dense = Image.new("RGBA", drawing.size, (40, 150, 60, 255))  # every pixel a dab: 16k points
    assert np.asarray(model.colorize(drawing, mode="sketch", hints=dense))[64, 64].tolist() == [40, 150, 60]
    with pytest.raises(ValueError, match="outside"):
        model.colorize(drawing, mode="sketch", hints=[(500, 5, (1, 2, 3))])
    with pytest.raises(ValueError, match="unknown mode"):
        model.colorize(drawing, mode="paint")


def test_cli_sketch_mode_takes_dabs_painted_on_the_drawing(tmp_path):
    from colorizer.cli import main

    drawing = house().convert("RGB")
    ImageDraw.Draw(drawing).ellipse([60, 60, 68, 68], fill=(58, 134, 255))  # a blue dab in the box
    drawing.save(tmp_path / "house.png")
    assert main([str(tmp_path / "house.png"), "-o", str(tmp_path / "out"), "--mode", "sketch"]) == 0
    out = np.asarray(Image.open(tmp_path / "out" / "house.png"))
    assert out[45, 45].tolist() == [58, 134, 255] and out[10, 10].tolist() == [255, 255, 255]


@pytest.mark.parametrize("mode", ["full", "sketch"])
@pytest.mark.parametrize("hints, message", [([(float("nan"), 1, (1, 2, 3))], "NaN"), ([(1, 1, (float("inf"), 2, 3))], "infinity"),
                                            ([(1, 1, (1, 2, 3))] * 20_000, "too many hints")])
def test_bad_hints_get_a_one_line_error_in_both_modes(mode, hints, message):
    with pytest.raises(ValueError, match=message) as error:
        Colorizer(BlindNet(), CONFIG).colorize(house(), mode=mode, hints=hints)
    assert "\n" not in str(error.value)
