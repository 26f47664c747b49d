import json

import numpy as np
import pytest
import torch
from PIL import Image

import colorizer
from colorizer import WeightsError, create_model, save_weights, to_gray
from colorizer.hints import hint_channels, parse_hints
from colorizer.upsample import guided_upsample

from .test_bins import bins_weights


def make_weights(folder, name, psnr=None, **kwargs):
    torch.manual_seed(0)
    model = create_model(name, **kwargs)
    config = {
        "architecture": {"name": name, "kwargs": kwargs},
        "normalization": {"gray_mean": 120.0, "gray_std": 60.0, "scheme": "standard"},
        "inference": {"working_size": 64},
        "epochs": 1,
        "metrics": {} if psnr is None else {"val_psnr": psnr},
    }
    save_weights(folder, model, config)
    return folder


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    root = tmp_path_factory.mktemp("weights")
    make_weights(root / "seed_cnn", "seed_cnn", psnr=22.0)
    make_weights(root / "chroma", "chroma_unet", psnr=25.0)
    make_weights(root / "hints", "chroma_unet_hints", psnr=24.0)
    bins_weights(root / "bins")  # a bin network at working size 64, vividness 0.5, float16
    return root


@pytest.fixture(autouse=True)
def weights_env(shipped, monkeypatch):
    monkeypatch.setenv("COLORIZER_WEIGHTS", str(shipped))


def test_default_is_the_best_validation_psnr_and_names_resolve(shipped):
    assert colorizer.default_model_name() == "chroma"
    assert set(colorizer.shipped_models()) == {"seed_cnn", "chroma", "hints", "bins"}
    assert colorizer.load().name == "chroma"
    assert colorizer.load("seed_cnn").model.fixed_size == 32
    assert colorizer.load(shipped / "hints").accepts_hints


def test_a_model_exported_as_default_wins_over_a_better_psnr():
    configs = {"sharp": {"metrics": {"val_psnr": 26.0}}, "vivid": {"metrics": {"val_psnr": 25.5}, "default": True},
               "plain": {"metrics": {"val_psnr": 25.0}}}
    assert colorizer.best_model_name(configs) == "vivid"
    configs["vivid"]["default"] = False
    assert colorizer.best_model_name(configs) == "sharp"


def test_unknown_model_lists_the_shipped_ones():
    with pytest.raises(WeightsError, match="seed_cnn"):
        colorizer.load("nope")


@pytest.mark.parametrize("name", ["seed_cnn", "chroma", "hints", "bins"])
@pytest.mark.parametrize("size", [(1, 1), (1, 7), (9, 1), (333, 517), (32, 32)])
def test_output_same_size_and_luminance_exact(name, size):
    h, w = size
    rgb = np.random.default_rng(h * 1000 + w).integers(0, 256, (h, w, 3), dtype=np.uint8)
    out = colorizer.load(name).colorize(rgb)
    assert out.mode == "RGB" and out.size == (w, h)
    # the output's gray equals the input's gray within one 8-bit level
    diff = np.abs(np.rint(to_gray(np.asarray(out))) - np.rint(to_gray(rgb)))
    assert diff.max() <= 1


@pytest.mark.parametrize("name", ["chroma", "bins"])
def test_gray_and_color_inputs_agree_and_output_is_deterministic(name):
    model = colorizer.load(name)
    rgb = np.random.default_rng(5).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    gray = to_gray(Image.fromarray(rgb))
    a, b = np.asarray(model.colorize(gray)), np.asarray(model.colorize(gray))
    assert (a == b).all()
    # a color input is colorized from its exact gray, the gray image from the rounded one
    diff = np.abs(a.astype(int) - np.asarray(model.colorize(rgb)).astype(int))
    assert diff.max() <= 3 and diff.mean() < 0.6


def test_seed_mode_returns_the_raw_network_output_upscaled():
    model = colorizer.load("seed_cnn")
    rgb = np.random.default_rng(6).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    y = torch.from_numpy(to_gray(rgb) / 255.0).float()[None, None]
    raw = model.model((y * 255 - model.gray_mean) / model.gray_std)
    expected = (raw[0].permute(1, 2, 0).detach().numpy() * 255).round().astype(np.uint8)
    out = np.asarray(model.colorize(rgb, mode="seed"))
    assert np.abs(out.astype(int) - expected).max() <= 1
    big = model.colorize(np.zeros((64, 96), np.uint8), mode="seed")
    assert big.size == (96, 64)
    with pytest.raises(ValueError):
        model.colorize(rgb, mode="bogus")


def test_flip_average_makes_the_colorization_of_a_mirrored_image_the_mirrored_colorization():
    y = torch.rand(2, 1, 37, 53)
    for name in ("chroma", "hints"):
        plain, averaged = colorizer.load(name), colorizer.load(name, flip_average=True)
        assert not plain.flip_average  # off unless the weights config's inference section says so
        mirrored = averaged.predict(y.flip(-1)).flip(-1)
        assert torch.allclose(averaged.predict(y), mirrored, atol=1e-5)
        assert not torch.allclose(plain.predict(y), plain.predict(y.flip(-1)).flip(-1), atol=1e-3)
        # an ensemble of two runs of the same network: close to either
        assert (averaged.predict(y) - plain.predict(y)).abs().mean() < 0.05
    seed, seed_averaged = colorizer.load("seed_cnn"), colorizer.load("seed_cnn", flip_average=True)
    assert torch.equal(seed.predict(y, mode="seed"), seed_averaged.predict(y, mode="seed"))  # the raw output, as shown


def test_scales_average_the_working_size_and_larger_views_of_unhinted_images_only():
    y = torch.rand(2, 1, 37, 53)
    hints = torch.zeros(2, 3, 40, 56)  # the working shape of 37 x 53
    hints[1, :, 10, 20] = torch.tensor([0.3, -0.2, 1.0])
    plain, scaled = colorizer.load("hints"), colorizer.load("hints", scales=(1.0, 1.5))
    assert plain.scales == (1.0,) and scaled.working_shape(37, 53, 1.5) == (56, 80)
    out, single = scaled.predict(y, hints=hints), plain.predict(y, hints=hints)
    assert not torch.allclose(out[0], single[0], atol=1e-3)  # no hints: two scales averaged
    assert torch.equal(out[1], single[1])  # hinted: the working size alone, where the hints were placed
    for rgb, gray in zip(out.permute(0, 2, 3, 1).numpy(), y[:, 0].numpy()):
        assert np.allclose(to_gray(rgb), gray, atol=1e-4)  # luminance kept
    assert (scaled.predict(y) - plain.predict(y)).abs().mean() < 0.05  # an ensemble of one network: close to it
    assert torch.equal(colorizer.load("seed_cnn", scales=(1.0, 1.5)).predict(y), colorizer.load("seed_cnn").predict(y))  # fixed size
    for bad in [(), (1.25,), (1.0, 0.0)]:
        with pytest.raises(ValueError, match="scales"):
            colorizer.load("hints", scales=bad)


def test_fixed_size_and_working_size():
    assert colorizer.load("seed_cnn").working_shape(500, 300) == (32, 32)
    chroma = colorizer.load("chroma")  # working_size 64 from its config
    assert chroma.working_shape(500, 300) == (64, 40)
    assert chroma.working_shape(10, 10) == (8, 8)


def test_hints_api():
    model = colorizer.load("hints")
    rgb = np.full((50, 80, 3), 128, np.uint8)
    out = model.colorize(rgb, hints=[(10, 5, (255, 0, 0)), (70, 40, (0, 0, 255))])
    assert out.size == (80, 50)
    hint_image = Image.new("RGBA", (80, 50), (0, 0, 0, 0))
    hint_image.putpixel((10, 5), (255, 0, 0, 255))
    assert model.colorize(rgb, hints=hint_image).size == (80, 50)
    with pytest.raises(ValueError, match="outside"):
        model.colorize(rgb, hints=[(80, 0, (1, 2, 3))])
    with pytest.raises(ValueError, match="does not take"):
        colorizer.load("chroma").colorize(rgb, hints=[(1, 1, (255, 0, 0))])
    # the default model (gray-only here) routes hinted calls to the shipped hint network
    default = colorizer.load()
    assert default.name == "chroma" and not default.accepts_hints
    routed = np.asarray(default.colorize(rgb, hints=[(10, 5, (255, 0, 0))]))
    direct = np.asarray(model.colorize(rgb, hints=[(10, 5, (255, 0, 0))]))
    assert (routed == direct).all()


def test_hint_channels_average_hints_on_one_working_pixel():
    points = parse_hints([(0, 0, (255, 0, 0)), (1, 1, (0, 0, 255)), (99, 99, (0, 255, 0))], (100, 100))
    channels = hint_channels(points, (100, 100), (10, 10))
    assert channels.shape == (1, 3, 10, 10)
    assert channels[0, 2].sum() == 2 and channels[0, 2, 0, 0] == 1 and channels[0, 2, 9, 9] == 1
    red, blue = colorizer.rgb_to_ycbcr(np.array([[1.0, 0, 0], [0, 0, 1.0]]))[:, 1:]
    np.testing.assert_allclose(channels[0, :2, 0, 0].numpy(), (red + blue) / 2, atol=1e-6)


def test_hint_channels_thin_a_painted_region_to_one_point_per_block():
    # a 6x6 red square at the working size (a stroke) and one isolated blue point
    xs, ys = np.meshgrid(np.arange(3, 9), np.arange(3, 9))
    hints = [(x, y, (255, 0, 0)) for x, y in zip(xs.ravel(), ys.ravel())] + [(15, 1, (0, 0, 255))]
    channels = hint_channels(parse_hints(hints, (20, 12)), (20, 12), (12, 20))[0]
    mask = channels[2].numpy()
    assert mask.sum() == 5  # 2x2 blocks of 3x3 working pixels, plus the isolated point
    assert mask[[4, 4, 7, 7], [4, 7, 4, 7]].all() and mask[1, 15] == 1  # the block centres
    red, blue = colorizer.rgb_to_ycbcr(np.array([[1.0, 0, 0], [0, 0, 1.0]]))[:, 1:]
    np.testing.assert_allclose(channels[:2, 4, 4].numpy(), red, atol=1e-6)
    np.testing.assert_allclose(channels[:2, 1, 15].numpy(), blue, atol=1e-6)
    # a block holding two colors carries their mean
    two = hint_channels(parse_hints([(0, 0, (255, 0, 0)), (2, 2, (0, 0, 255))], (6, 6)), (6, 6), (6, 6))[0]
    assert two[2].sum() == 1 and two[2, 0, 0] == 1  # equally near the centre: the first stays
    np.testing.assert_allclose(two[:2, 0, 0].numpy(), (red + blue) / 2, atol=1e-6)


def test_guided_upsample_keeps_color_edges_on_luminance_edges():
    # left half dark and red-ish chroma, right half bright and blue-ish: a sharp full-res edge
    y_full = torch.zeros(1, 1, 64, 64)
    y_full[..., 32:] = 1.0
    y_small = torch.nn.functional.avg_pool2d(y_full, 8)
    chroma_small = torch.where(y_small > 0.5, 0.2, -0.2).repeat(1, 2, 1, 1)
    guided = guided_upsample(chroma_small, y_small, y_full)
    bilinear = torch.nn.functional.interpolate(chroma_small, size=(64, 64), mode="bilinear")
    ideal = torch.where(y_full > 0.5, 0.2, -0.2)
    assert (guided - ideal).abs().mean() < 0.5 * (bilinear - ideal).abs().mean()


def test_float16_weights_keep_integer_counters_exact(tmp_path):
    model = create_model("chroma_unet")
    counters = [name for name, tensor in model.state_dict().items() if not tensor.is_floating_point()]
    assert counters  # batch norm's num_batches_tracked
    for name in counters:
        model.state_dict()[name].fill_(72_000)  # a long run: above float16's largest value, 65504
    save_weights(tmp_path, model, {"architecture": {"name": "chroma_unet", "kwargs": {}},
                                   "normalization": {"gray_mean": 120.0, "gray_std": 60.0, "scheme": "standard"}}, half=True)
    loaded, config = colorizer.load_model(tmp_path)
    assert config["dtype"] == "float16"
    assert all(loaded.state_dict()[name].item() == 72_000 for name in counters)


def test_weights_errors_name_the_file(tmp_path):
    folder = make_weights(tmp_path / "w", "seed_cnn")
    (folder / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes()[:1000])
    with pytest.raises(WeightsError, match="model.safetensors"):
        colorizer.load(folder)
    folder = make_weights(tmp_path / "w2", "seed_cnn")
    config = json.loads((folder / "config.json").read_text())
    config["architecture"]["name"] = "seed_cnn_half"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(WeightsError, match="shape"):
        colorizer.load(folder)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(WeightsError, match="config.json"):
        colorizer.load(folder)
    config["architecture"]["name"] = "seed_cnn"
    config["inference"]["scales"] = [1.25, 1.0]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(WeightsError, match="config.json: inference scales"):
        colorizer.load(folder)


def gain_weights(folder, **inference):
    """A regression hint network whose chroma is clearly non-zero (its head's bias set), with
    ``inference`` settings (vividness_gain, vividness) added."""
    torch.manual_seed(0)
    model = create_model("chroma_unet_hints", widths=[8, 8, 16, 16])
    with torch.no_grad():
        model.head.weight.mul_(0.1)
        model.head.bias.copy_(torch.tensor([-0.03, 0.04]))  # a warm cast: Cb below, Cr above neutral
    config = {"architecture": {"name": "chroma_unet_hints", "kwargs": {"widths": [8, 8, 16, 16]}},
              "normalization": {"gray_mean": 120.0, "gray_std": 60.0, "scheme": "standard"},
              "inference": {"working_size": 64, **inference}}
    save_weights(folder, model, config)
    return folder


def test_a_regression_network_with_a_vividness_gain_scales_its_chroma_and_keeps_luminance(tmp_path):
    from colorizer.weights import default_vividness

    plain = colorizer.load(gain_weights(tmp_path / "plain"))
    vivid = colorizer.load(gain_weights(tmp_path / "vivid", vividness_gain=1.0, vividness=0.25))
    assert default_vividness(plain.config) is None and default_vividness(vivid.config) == 0.25
    gray = np.linspace(70, 185, 96 * 80).reshape(80, 96).astype(np.uint8)
    base = np.asarray(plain.colorize(gray), float)
    assert np.array_equal(np.asarray(vivid.colorize(gray, vividness=0)), base.astype(np.uint8))  # 0: the network's own colors
    for v in (0.25, 1.0):
        out = np.asarray(vivid.colorize(gray, vividness=v), float)
        assert np.abs(to_gray(out) - gray).max() <= 1  # luminance kept
        chroma_base, chroma = (colorizer.rgb_to_ycbcr(x / 255)[..., 1:] for x in (base, out))
        inside = np.abs(chroma_base).max(-1) > 0.02  # clearly colored (and in gamut at twice the chroma here)
        assert inside.mean() > 0.5
        np.testing.assert_allclose(chroma[inside], (1 + v) * chroma_base[inside], atol=3 / 255)
    assert np.array_equal(np.asarray(vivid.colorize(gray)), np.asarray(vivid.colorize(gray, vividness=0.25)))  # default
    # the gain is for the automatic colors: a stroke's own color stays the stroke's
    red = (200, 40, 40)
    hinted = np.asarray(vivid.colorize(gray, hints=[(48, 40, red)], vividness=1.0), float)
    want = colorizer.rgb_to_ycbcr(np.asarray(red, float) / 255)[1:]
    assert np.abs(colorizer.rgb_to_ycbcr(hinted[40, 48] / 255)[1:] - want).max() < 0.03


@pytest.mark.parametrize("gain", [-0.5, 5, "x", float("nan"), True])
def test_a_bad_vividness_gain_is_refused_at_load(tmp_path, gain):
    gain_weights(tmp_path / "w", vividness_gain=gain)
    with pytest.raises(WeightsError, match="vividness_gain"):
        colorizer.load(tmp_path / "w")
