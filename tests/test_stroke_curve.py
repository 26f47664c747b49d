"""train.stroke_curve: the hint curve with painted dabs, on data sets and on photo files of any size."""

import json

import numpy as np
from PIL import Image

from colorizer.metrics import psnr_batch
from colorizer.pipeline import Colorizer
from tests.test_strokes import CONFIG, BlindNet
from train.stroke_curve import below_limit, flood_check, main, random_dabs, stroke_curve


def photos(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in sizes]


def test_dabs_are_squares_of_the_mean_true_color_cut_at_the_border():
    image = np.zeros((10, 10, 3), np.uint8)
    image[:, 5:] = (200, 100, 50)
    hints = random_dabs(image, 4, np.random.default_rng(1), side=3)
    assert 4 <= len(hints) <= 36 and all(0 <= x < 10 and 0 <= y < 10 for x, y, _ in hints)


def test_curve_takes_photos_of_different_sizes_and_count_zero_is_automatic():
    model = Colorizer(BlindNet(), CONFIG)
    images = photos([(40, 56), (64, 48)])
    curve = stroke_curve(model, images, counts=(0, 2))
    assert set(curve) == {0, 2} and all(len(v) == 2 for v in curve.values())
    automatic = [psnr_batch(np.asarray(model.colorize(im))[None], im[None])[0] for im in images]
    assert np.allclose(curve[0], automatic, atol=0.05)  # uint8 rounding of the gray input aside
    stacked = stroke_curve(model, np.stack(photos([(40, 40), (40, 40)])), counts=(0, 2))
    assert all(len(v) == 2 for v in stacked.values())


def test_flood_check_of_a_network_that_ignores_hints_is_small():
    assert flood_check(Colorizer(BlindNet(), CONFIG), size=64) < 0.1


def test_cli_runs_on_files_of_different_sizes(tmp_path, capsys):
    paths = []
    for i, image in enumerate(photos([(48, 40), (40, 64)])):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(image).save(paths[-1])
    out = tmp_path / "curve.json"
    assert main(["--data", "--files", *paths, "--counts", "0,1", "--json", str(out)]) == 0
    assert "files: 2 images" in capsys.readouterr().out
    results = json.loads(out.read_text())
    assert set(results["files"]) == {"0", "1"} and "flood" in results
    assert all(0 <= point["below_limit"] <= 2 for point in results["files"].values())


def test_below_limit_counts_losses_beyond_half_a_db():
    assert below_limit(np.array([20.0, 19.4, 19.6, 25.0]), np.array([20.0, 20.0, 20.0, 20.0])) == 1


def test_cli_seed_draws_other_dabs_and_repeats_itself(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(photos([(48, 40)])[0]).save(path)
    curves = []
    for seed in ("0", "0", "1"):
        out = tmp_path / f"curve{len(curves)}.json"
        assert main(["--data", "--files", str(path), "--counts", "0,2", "--seed", seed, "--json", str(out)]) == 0
        results = json.loads(out.read_text())
        assert results["seed"] == int(seed)
        curves.append(results["files"]["2"]["mean"])
    assert curves[0] == curves[1] != curves[2]
