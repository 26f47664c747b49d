"""The line-art network of sketch mode: drawings synthesized from colored pictures
(train.lineart), training and export of a ``task = "sketch"`` network, and the pipeline using it
only where a drawing's region has no dab."""

import json

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

import colorizer
from train import loop
from train.config import TrainConfig
from train.data import DataError, ImageSet, load_sources, of_classes
from train.export import export_run
from train.lineart import drawing_views, line_drawing, outlines, gray_class_pages, white_page, white_pages

pytestmark = pytest.mark.usefixtures("shared_cache")


def test_outlines_are_two_pixel_lines_where_the_color_changes():
    picture = np.full((16, 16, 3), 255, np.uint8)
    picture[:, 8:] = (200, 30, 30)
    picture[:, :8] = (250, 250, 240)  # a step of 5 levels: shading, not an outline
    drawing, lines = line_drawing(picture)
    assert lines[:, 7:9].all() and lines.sum() == 2 * 16  # on both sides of the change, nowhere else
    assert drawing[lines].max() == 0 and drawing[~lines].min() == 255
    assert line_drawing(picture, width=1)[1].sum() == 16


def test_white_page_whitens_a_plain_page_only():
    rgb = torch.full((2, 3, 8, 8), 0.3)
    rgb[:, 0, 2:6, 2:6] = 0.9  # an object on a plain page
    rgb[1, :, 0, 0] = 0.8  # a corner of another color: not a plain page
    out = white_page(rgb)
    assert (out[0, :, 0] == 1).all() and torch.allclose(out[0, 0, 3, 3], torch.tensor(0.9))
    assert torch.equal(out[1], rgb[1])
    images = (rgb * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy().copy()
    assert white_pages(images) is images and (images[0, 0, 0] == 255).all() and (images[1, 1, 1] == 76).all()  # in place


def test_class_pages_change_only_the_named_classes_plain_pages():
    images = np.full((3, 8, 8, 3), (200, 40, 240), np.uint8)  # a plain violet page in every image
    images[:, 3:5, 3:5] = (10, 200, 10)  # an object on it
    images[2, 0, 0] = (90, 20, 20)  # one corner of another color: not a plain page
    image_set = ImageSet(["clipart_a", "photo_b", "clipart_c"], images.copy(), ["corpus"] * 3)
    assert gray_class_pages(image_set, ["clipart"]) is image_set
    out = image_set.images
    violet_gray = round(0.299 * 200 + 0.587 * 40 + 0.114 * 240)  # the page keeps its luminance, loses its chroma
    assert (out[0, 0, 7] == violet_gray).all() and (out[0, 3, 3] == (10, 200, 10)).all()
    assert (out[1] == images[1]).all() and (out[2] == images[2]).all()  # a photo; a picture whose corners differ
    assert (white_pages(out[[0]].copy())[0, 0, 7] == 255).all()  # a gray page is plain too: white for the line-art pages
    assert (gray_class_pages(image_set, []).images == out).all()
    with pytest.raises(ValueError, match="'clip-art'"):
        gray_class_pages(image_set, ["clip-art"])


def test_drawing_views_keep_a_crop_that_lies_on_one_flat_object():
    """Pages are whitened once, on the whole picture; a crop inside a flat red object keeps its red."""
    picture = np.full((1, 16, 16, 3), 255, np.uint8)
    picture[0, 2:14, 2:14] = (200, 30, 30)
    crop = torch.from_numpy(white_pages(picture.copy()))[:, 4:12, 4:12]
    target, drawing = drawing_views(crop)
    assert torch.allclose(target[0, :, 3, 3], torch.tensor([200, 30, 30]) / 255.0)
    assert drawing.shape == (1, 1, 8, 8) and (drawing == 1).all()  # no outline inside the object
    assert torch.equal(drawing, outlines(target))


def test_of_classes_keeps_the_named_classes(tiny_data):
    images = load_sources([str(tiny_data)], "train", 32)
    sky = of_classes(images, ["sky"])
    assert len(sky) == 6 and all(n.startswith("sky_") for n in sky.names)
    assert of_classes(images, []) is images
    with pytest.raises(DataError, match="'cloud'"):
        of_classes(images, ["sky", "cloud"])


def house(size=96):
    image = Image.new("L", (size, size), 255)
    ImageDraw.Draw(image).rectangle([24, 24, 72, 72], outline=0, width=3)
    return image


def test_a_trained_line_art_network_fills_only_undabbed_regions(tmp_path, tiny_data, monkeypatch):
    cfg = TrainConfig(model="lineart_unet", data=[str(tiny_data)], classes=["sky"], epochs=6, batch_size=3, lr=3e-3,
                      grid_epochs=[], keep_epochs=[], checkpoint_every=1, out_dir=str(tmp_path / "run"), threads=1,
                      working_size=64)
    history = json.loads((loop.train(cfg, show_progress=False) / "history.json").read_text())["epochs"]
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    assert json.loads((tmp_path / "run" / "history.json").read_text())["epochs"][-1]["val_psnr"] > 0
    weights = tmp_path / "weights"
    export_run(tmp_path / "run" / "checkpoint.safetensors", weights / "lines", run_eval=False)
    assert "line-art network" in (weights / "lines" / "README.md").read_text()
    torch.manual_seed(0)
    colorizer.save_weights(weights / "seed", colorizer.create_model("seed_cnn"), {
        "architecture": {"name": "seed_cnn", "kwargs": {}}, "normalization": {"gray_mean": 120.0, "gray_std": 60.0}})
    monkeypatch.setenv("COLORIZER_WEIGHTS", str(weights))
    assert list(colorizer.shipped_models()) == ["seed"] and list(colorizer.shipped_models("sketch")) == ["lines"]
    model = colorizer.load()  # the default is a colorizer, never the line-art network
    assert model.name == "seed"
    red = (214, 40, 40)
    out = np.asarray(model.colorize(house(), mode="sketch", hints=[(5, 5, red)]))
    assert (out[5, 5] == red).all()  # the dabbed page
    inside = out[30:67, 30:67].reshape(-1, 3)
    assert (inside == inside[0]).all() and not (inside[0] == 255).all()  # flat, in the network's color
    lines = colorizer.load(weights / "lines")
    guess = lines.lineart_colors(np.asarray(house()) < 128)[0]  # at the working size
    cells = [torch.from_numpy(np.arange(27, 70) * n // 96) for n in guess.shape[-2:]]  # the box's pixels' nearest cells
    expected = guess[:, cells[0]][:, :, cells[1]].mean(dim=(1, 2))
    assert np.abs(inside[0] - expected.numpy() * 255).max() <= 0.5 + 1e-4  # the mean of the guess over the box
    np.testing.assert_array_equal(np.asarray(lines.colorize(house(), mode="sketch", hints=[(5, 5, red)])), out)
    with pytest.raises(ValueError, match="line-art network"):
        lines.colorize(house())  # not a photo colorizer
    monkeypatch.setenv("COLORIZER_WEIGHTS", str(tmp_path / "none"))
    assert (np.asarray(model.colorize(house(), mode="sketch", hints=[(5, 5, red)]))[30:67, 30:67] == 255).all()  # no network: white
    from train.sketch_eval import main as sketch_eval

    assert sketch_eval(["--model", str(weights / "lines"), "--count", "2", "--size", "64", "--json", str(tmp_path / "s.json"),
                         "--panels", str(tmp_path / "p.png")]) == 0
    assert Image.open(tmp_path / "p.png").width == 2 * 3 * 64 + 8
    from train.sketch_eval import clip_art

    first = clip_art(64, np.random.default_rng(0))  # the first picture, its output the panel's middle tile
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "p.png"))[:64, 64:128],
                                  np.asarray(colorizer.load(weights / "lines").colorize(line_drawing(first)[0], mode="sketch")))
    numbers = json.loads((tmp_path / "s.json").read_text())
    assert numbers["pictures"] == 2 and numbers["worst_region_share_min"] >= 0.95 and numbers["undabbed_colorfulness"] > 0
    assert 0 <= numbers["undabbed_hue_accuracy"] <= 1
    assert numbers["psnr"] <= numbers["psnr_perfect_fill"] and 0 < numbers["line_share"] < 0.5  # no fill beats the picture itself


def test_the_perfect_fill_is_the_picture_with_the_lines_drawn_on_it():
    from train.sketch_eval import perfect_fill

    picture = np.zeros((6, 6, 3), np.uint8)
    picture[:] = (200, 30, 40)
    drawing = np.full((6, 6), 255, np.uint8)
    drawing[:, 2] = 0
    out = perfect_fill(picture, drawing)
    assert (out[:, 2] == 0).all() and (out[:, [0, 1, 3, 4, 5]] == (200, 30, 40)).all() and (picture[:, 2] == (200, 30, 40)).all()


def test_the_colorfulness_term_leaves_a_white_page_out():
    from train.batches import colorfulness_torch

    rgb = torch.ones(1, 3, 8, 8)
    rgb[0, :, 2:6, 2:6] = torch.tensor([0.9, 0.2, 0.1]).reshape(3, 1, 1)  # a red square on white
    page = (rgb < 1).any(dim=1)
    assert colorfulness_torch(rgb, page) < colorfulness_torch(rgb)  # flat red: no spread once the page is out
    tinted = rgb.clone()
    tinted[..., :2, :] = torch.tensor([0.8, 1.0, 1.0]).reshape(3, 1, 1)  # a pale cyan page
    assert colorfulness_torch(tinted, page) == colorfulness_torch(rgb, page)  # ... so tinting it gains nothing


def test_the_shipped_line_art_network_fills_a_shape_and_leaves_the_page_white(monkeypatch):
    monkeypatch.delenv("COLORIZER_WEIGHTS", raising=False)
    if "sketch_lineart" not in colorizer.shipped_models("sketch"):
        pytest.skip("no shipped line-art network")
    out = np.asarray(colorizer.load("sketch_lineart").colorize(house(), mode="sketch")).astype(int)
    inside = out[30:67, 30:67].reshape(-1, 3)
    assert (inside == inside[0]).all() and np.ptp(inside[0]) > 20  # flat, and a color, not gray or white
    assert (out[:20] == 255).all() and (out[80:] == 255).all()  # the page
    assert (out[48, 24] < 60).all()  # the line as drawn


def test_the_card_shows_sketch_hue_accuracy_when_measured():
    from train.card import model_card

    sketch = {"pictures": 3, "psnr": 11.0, "psnr_drawing": 6.0, "worst_region_share_min": 1.0, "worst_region_share_mean": 1.0,
              "undabbed_psnr": 7.0, "undabbed_below_drawing": 0.1, "undabbed_colorfulness": 40.0, "colorfulness_original": 90.0}
    config = {"architecture": {"name": "lineart_unet", "kwargs": {}}, "epochs": 1, "data": {"sources": ["corpus-128.tar.gz"]},
              "normalization": {"gray_mean": 120.0, "gray_std": 60.0, "scheme": "standard"},
              "inference": {"working_size": 128}, "metrics": {"sketch": sketch}}
    row = next(line for line in model_card("lines", config, {}, [], []).splitlines() if line.startswith("| no dab"))
    assert row.endswith("| 40.0 (90.0) | – | – |")  # measured before December 2026: no hue column value
    config["metrics"]["sketch"] = {**sketch, "undabbed_hue_accuracy": 0.148}
    row = next(line for line in model_card("lines", config, {}, [], []).splitlines() if line.startswith("| no dab"))
    assert row.endswith("| 40.0 (90.0) | 14.8% | – |")
