"""Evaluation and the hint curve on a tiny image tree, with networks whose answer is known."""

import json

import pytest
import torch

import colorizer
from train.evaluate import evaluate, format_table, main as evaluate_main
from train.data import load_sources
from train.hint_curve import hint_curve, main as hint_main

from .test_train import make_tree


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return make_tree(tmp_path_factory.mktemp("evaltree"), n_train=2, n_test=3)


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("COLORIZER_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def weights(folder, name, zero_head=False):
    torch.manual_seed(0)
    model = colorizer.create_model(name)
    if zero_head:  # chroma 0 everywhere: the colorizer returns exactly the gray image
        torch.nn.init.zeros_(model.head.weight)
        torch.nn.init.zeros_(model.head.bias)
    colorizer.save_weights(folder, model, {"architecture": {"name": name, "kwargs": {}},
                                           "normalization": {"gray_mean": 120.0, "gray_std": 60.0, "scheme": "standard"}})
    return folder


def test_a_colorizer_that_adds_no_color_scores_exactly_the_gray_baseline(tmp_path, tree):
    model = colorizer.load(weights(tmp_path / "w", "chroma_unet", zero_head=True))
    table = evaluate(model, load_sources([tree], "test"))
    assert set(table) == {tree.name, "pooled"}
    row = table["pooled"]
    assert row["images"] == 6
    assert row["psnr"] == row["psnr_gray"] and row["ssim"] == row["ssim_gray"] and row["mse"] == row["mse_gray"]
    assert row["colorfulness"] == 0 and row["colorfulness_original"] > 10
    assert row["loss_sum"] == pytest.approx(row["mse"] * 6 / 100)
    assert "| pooled | 6 |" in format_table(table)


def test_evaluate_cli_writes_json(tmp_path, tree, capsys):
    folder = weights(tmp_path / "w", "seed_cnn")
    assert evaluate_main(["--model", str(folder), "--data", str(tree), "--limit", "2", "--json", str(tmp_path / "e.json")]) == 0
    assert "gray PSNR" in capsys.readouterr().out
    assert json.loads((tmp_path / "e.json").read_text())["table"]["pooled"]["images"] == 2
    assert evaluate_main(["--model", str(tmp_path / "missing"), "--data", str(tree)]) == 1


def test_hint_curve_is_deterministic_and_counts_hints(tmp_path, tree):
    model = colorizer.load(weights(tmp_path / "h", "chroma_unet_hints"))
    images = load_sources([tree], "test").images
    a = hint_curve(model, images, [0, 2, 10])
    assert a == hint_curve(model, images, [0, 2, 10])
    assert set(a) == {0, 2, 10, "gray"}
    assert hint_main(["--model", str(weights(tmp_path / "s", "seed_cnn")), "--data", str(tree), "--counts", "0,1"]) == 1


def test_evaluate_files_groups_by_prefix(tmp_path, capsys):
    from PIL import Image

    for name, size in (("emoji_a.png", 40), ("emoji_b.png", 40), ("cifar10_c.png", 32)):
        Image.new("RGB", (size, size), (200, 40, 40)).save(tmp_path / name)
    folder = weights(tmp_path / "w", "chroma_unet", zero_head=True)
    files = [str(p) for p in sorted(tmp_path.glob("*.png"))]
    assert evaluate_main(["--model", str(folder), "--files", *files]) == 0
    out = capsys.readouterr().out
    assert "| emoji | 2 |" in out and "| cifar10 | 1 |" in out


def test_several_models_get_one_comparison_table_with_one_gray_baseline(tmp_path, tree, capsys):
    gray_only = weights(tmp_path / "gray_only", "chroma_unet", zero_head=True)
    seed = weights(tmp_path / "seed", "seed_cnn")
    out_json = tmp_path / "c.json"
    assert evaluate_main(["--model", str(gray_only), str(seed), "--data", str(tree), "--json", str(out_json)]) == 0
    comparison = capsys.readouterr().out.split("| set | output |")[1]
    rows = {tuple(cell.strip() for cell in line.split("|")[1:3]): line for line in comparison.splitlines() if line.startswith("| pooled")}
    assert set(rows) == {("pooled", "gray (baseline)"), ("pooled", "gray_only"), ("pooled", "seed"), ("pooled", "original")}
    # the model that adds no color scores exactly the baseline: same row, other name
    assert rows["pooled", "gray_only"].split("|")[3:] == rows["pooled", "gray (baseline)"].split("|")[3:]
    assert set(json.loads(out_json.read_text())["models"]) == {"gray_only", "seed"}
