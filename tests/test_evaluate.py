"""Evaluation and the hint curve on a tiny image tree, with networks whose answer is known."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

import colorizer
from train.evaluate import evaluate, format_table, main as evaluate_main
from train.data import load_sources
from train.hint_curve import hint_curve, main as hint_main

from .test_pipeline import gain_weights
from .tiny_trees import make_tree


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return make_tree(tmp_path_factory.mktemp("evaltree"), n_train=2, n_test=3)


pytestmark = pytest.mark.usefixtures("shared_cache")


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
    assert row["colorfulness_ratio"] == 0 and row["below_gray"] == 0  # equal to gray is not below it
    assert row["hue_accuracy"] == 0 == row["hue_accuracy_gray"]
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


def test_rows_have_colorfulness_ratio_share_below_gray_and_hue_accuracy():
    from colorizer.color import rgb_to_ycbcr, ycbcr_to_rgb
    from train.evaluate import metrics_row

    rng = np.random.default_rng(0)
    originals = rng.integers(40, 216, (4, 16, 16, 3), dtype=np.uint8)
    ycbcr = rgb_to_ycbcr(originals / 255.0)
    grays = np.repeat((ycbcr[..., :1] * 255).round().astype(np.uint8), 3, axis=-1)
    half = ycbcr * [1.0, 0.5, 0.5]  # the same hues at half the chroma
    outputs = (ycbcr_to_rgb(half) * 255).round().clip(0, 255).astype(np.uint8)
    outputs[3] = (ycbcr_to_rgb(ycbcr[3] * [1.0, -2.0, -2.0]) * 255).round().clip(0, 255).astype(np.uint8)  # wrong way round
    row = metrics_row(outputs, grays, originals)
    assert row["below_gray"] == 0.25  # only the turned image scores below the gray one
    plain = metrics_row(outputs[:3], grays[:3], originals[:3])
    assert plain["colorfulness_ratio"] == pytest.approx(0.5, abs=0.02) and plain["hue_accuracy"] == 1.0
    assert metrics_row(originals, grays, originals)["colorfulness_ratio"] == 1.0


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    """A corpus-128 archive with 9 test images of a photo source and 9 of a clip-art source, written
    by the corpus builder's own writer."""
    from train.corpus import sources_of_kind, write_archive

    rng = np.random.default_rng(3)
    items = []
    for package in (sources_of_kind("photo")[0], sources_of_kind("clipart")[0]):
        for i in range(9):
            grid = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
            image = np.asarray(Image.fromarray(grid).resize((128, 128), Image.Resampling.BILINEAR))
            items.append(("test", package, f"{i:016x}", image))
    items.append(("train", package, "f" * 16, image))
    path = tmp_path_factory.mktemp("corpus") / "corpus-128.tar.gz"
    write_archive(items, path)
    return path


def _archive(folder, path):
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        tar.add(folder, arcname=".")
    return path



def _suite_folders(tmp_path, tree, examples):
    """(data folder with the three standard archives made from ``tree``, examples folder with
    48 x 48 plain pictures {name: color})."""
    data, folder = tmp_path / "data", tmp_path / "examples"
    data.mkdir()
    folder.mkdir()
    for archive in ("cifar10-images.tar.gz", "linnaeus5-32.tar.gz", "linnaeus5-128.tar.gz"):
        _archive(tree, data / archive)
    for name, color in examples.items():
        Image.new("RGB", (48, 48), color).save(folder / name)
    return data, folder

def test_suite_evaluates_each_set_at_its_size_with_corpus_rows(tmp_path, tree, tiny_corpus, capsys):
    from train.corpus import sources_of_kind
    from train.evaluate import evaluate_suite, suite_sets

    data, examples = _suite_folders(tmp_path, tree, {"emoji_a.png": (200, 40, 40), "emoji_b.png": (40, 200, 40),
                                                     "cifar10_x.png": (1, 2, 3)})
    sets = suite_sets(tiny_corpus, data_dir=data, examples_dir=examples, independent_dir=tmp_path / "none")
    sizes = {prefix: image_set.images.shape[1] for prefix, image_set, _ in sets}
    assert sizes == {"cifar10 (32 px)": 32, "linnaeus5 (32 px)": 32, "linnaeus5 (128 px)": 128, "corpus ": 128, "emoji (48 px)": 48}
    model = colorizer.load(weights(tmp_path / "w", "chroma_unet", zero_head=True))
    table = evaluate_suite(model, sets)
    photo, clipart = sources_of_kind("photo")[0], sources_of_kind("clipart")[0]
    assert list(table) == ["cifar10 (32 px)", "linnaeus5 (32 px)", "linnaeus5 (128 px)", f"corpus {photo}",
                           f"corpus {clipart}", "corpus photo (pooled)", "corpus clipart (pooled)", "emoji (48 px)"]
    assert table[f"corpus {photo}"]["images"] == 9 and table["emoji (48 px)"]["images"] == 2
    assert table["corpus photo (pooled)"] == table[f"corpus {photo}"]
    # without a corpus its rows are left out, with a note
    notes = []
    without = suite_sets(tmp_path / "none.tar.gz", data_dir=data, examples_dir=examples, independent_dir=tmp_path / "none",
                         log=notes.append)
    assert [prefix for prefix, _, _ in without] == ["cifar10 (32 px)", "linnaeus5 (32 px)", "linnaeus5 (128 px)", "emoji (48 px)"]
    assert "corpus-128" not in notes[0] and "none.tar.gz" in notes[0] and "train.independent" in notes[-1]


def test_a_later_corpus_archive_gets_a_row_of_its_own(tmp_path, tree, tiny_corpus):
    import shutil

    from train.corpus import write_archive
    from train.evaluate import evaluate_suite, suite_sets

    data, examples = _suite_folders(tmp_path, tree, {"emoji_a.png": (200, 40, 40)})
    corpus = tmp_path / "corpus" / "corpus-128.tar.gz"
    corpus.parent.mkdir()
    shutil.copy(tiny_corpus, corpus)
    image = np.full((128, 128, 3), (30, 90, 200), dtype=np.uint8)
    write_archive([("test", "gcompris-qt-data", f"{i:016x}", image) for i in range(3)], corpus.with_name("gcompris-128.tar.gz"))
    sets = suite_sets(corpus, data_dir=data, examples_dir=examples, independent_dir=tmp_path / "none")
    assert [prefix for prefix, _, _ in sets][3:5] == ["corpus ", "gcompris "]
    table = evaluate_suite(colorizer.load(weights(tmp_path / "w", "chroma_unet", zero_head=True)), sets)
    assert table["gcompris"]["images"] == 3 and table["corpus photo (pooled)"]["images"] == 9


def test_suite_adds_a_row_per_kind_of_independent_pictures_each_at_its_own_size(tmp_path, tree, capsys):
    from train.evaluate import evaluate_suite, suite_sets

    data, examples = _suite_folders(tmp_path, tree, {"emoji_a.png": (200, 40, 40)})
    independent = tmp_path / "independent"
    independent.mkdir()
    (independent / "independent.json").write_text("{}")
    for name, size in (("photo_a-wide.png", (90, 40)), ("photo_b-tall.png", (30, 70)), ("clipart_c-logo.png", (50, 50))):
        Image.new("RGB", size, (30, 90, 200)).save(independent / name)
    sets = suite_sets(tmp_path / "none.tar.gz", data_dir=data, examples_dir=examples, independent_dir=independent)
    table = evaluate_suite(colorizer.load(weights(tmp_path / "w", "chroma_unet", zero_head=True)), sets, limit=1)
    assert list(table)[-2:] == ["independent clipart", "independent photo"]
    assert table["independent photo"]["images"] == 2 and table["independent clipart"]["images"] == 1
    # a network that adds no color scores the gray baseline on pictures of any shape
    assert table["independent photo"]["psnr"] == table["independent photo"]["psnr_gray"]


def test_panels_show_gray_each_model_and_the_original(tmp_path, tiny_corpus, capsys):
    from train.eval_panels import BLOCK_GAP, HEADER

    a = weights(tmp_path / "a", "chroma_unet", zero_head=True)
    b = weights(tmp_path / "b", "seed_cnn")
    out = tmp_path / "panels.png"
    assert evaluate_main(["--panels", str(out), "--model", str(a), str(b), "--corpus", str(tiny_corpus)]) == 0
    panel = np.asarray(Image.open(out).convert("RGB"))
    block_width = 4 * 128 + 3 * 8  # gray | a | b | original
    assert panel.shape == (HEADER + 8 * (128 + 4), 2 * block_width + BLOCK_GAP, 3)
    first = panel[HEADER : HEADER + 128]
    gray, out_a, original = first[:, :128], first[:, 136:264], first[:, 3 * 136 : 3 * 136 + 128]
    assert np.array_equal(gray, out_a)  # the model that adds no color returns the gray image
    assert np.abs(gray.astype(int) - original).max() > 20 and np.ptp(gray.astype(int), axis=-1).max() == 0



def test_file_panels_show_each_picture_at_one_height_whatever_its_shape(tmp_path, capsys):
    from train.eval_panels import HEADER

    rng = np.random.default_rng(0)
    for name, (w, h) in (("photo_wide.png", (120, 40)), ("photo_tall.png", (30, 90))):
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(tmp_path / name)
    a = weights(tmp_path / "a", "chroma_unet", zero_head=True)
    out = tmp_path / "panels.png"
    files = [str(tmp_path / "photo_wide.png"), str(tmp_path / "photo_tall.png")]
    assert evaluate_main(["--panels", str(out), "--model", str(a), "--files", *files]) == 0
    panel = np.asarray(Image.open(out).convert("RGB"))
    # rows sorted by name (tall, then wide), 160 px high; gray | a | original side by side
    assert panel.shape == (HEADER + 2 * (160 + 4), 3 * 480 + 2 * 8, 3)
    wide = panel[HEADER + 164 : HEADER + 164 + 160]
    gray, out_a, original = wide[:, :480], wide[:, 488:968], wide[:, 976:1456]
    assert np.array_equal(gray, out_a)  # the model that adds no color returns the gray image
    assert np.ptp(gray.astype(int), axis=-1).max() == 0 and np.ptp(original.astype(int), axis=-1).max() > 50

def test_vividness_sweep_gives_models_with_the_setting_one_column_per_value(tmp_path, tree, capsys):
    folder = weights(tmp_path / "seed_cnn", "seed_cnn")
    gain = gain_weights(tmp_path / "gain", vividness_gain=1.0)  # a regression network with the setting
    path = tmp_path / "v.json"
    assert evaluate_main(["--model", "chroma_bins_hints", str(gain), str(folder), "--data", str(tree), "--vividness", "0", "1",
                          "--json", str(path)]) == 0
    models = json.loads(path.read_text())["models"]
    assert list(models) == ["chroma_bins_hints (vividness 0)", "chroma_bins_hints (vividness 1)", "gain (vividness 0)",
                            "gain (vividness 1)", "seed_cnn"]
    for name in ("chroma_bins_hints", "gain"):
        dull, vivid = (models[f"{name} (vividness {v})"]["table"]["pooled"] for v in (0, 1))
        assert vivid["colorfulness"] > dull["colorfulness"] and dull["psnr_gray"] == vivid["psnr_gray"]
    assert "| pooled | chroma_bins_hints (vividness 1) |" in capsys.readouterr().out
    assert evaluate_main(["--model", "chroma_bins_hints", "--data", str(tree), "--vividness", "2"]) == 1


def test_file_panels_show_a_column_per_vividness(tmp_path, capsys):
    """--panels with --vividness: each setting its own column, as colorize gives it (not the last
    setting for all)."""
    from train.eval_panels import HEADER

    Image.fromarray(np.linspace(60, 200, 64 * 64).reshape(64, 64).astype(np.uint8)).convert("RGB").save(tmp_path / "photo_a.png")
    gain = gain_weights(tmp_path / "gain", vividness_gain=1.0)
    out = tmp_path / "panels.png"
    assert evaluate_main(["--panels", str(out), "--model", str(gain), "--vividness", "0", "1",
                          "--files", str(tmp_path / "photo_a.png")]) == 0
    row = np.asarray(Image.open(out).convert("RGB"))[HEADER : HEADER + 160].astype(int)
    assert row.shape[1] == 4 * 160 + 3 * 8  # gray | vividness 0 | vividness 1 | original
    model = colorizer.load(gain)
    for k, v in ((1, 0.0), (2, 1.0)):
        colored = model.colorize(Image.open(tmp_path / "photo_a.png"), vividness=v)
        want = np.asarray(colored.resize((160, 160), Image.Resampling.LANCZOS), int)
        assert np.abs(row[:, k * 168 : k * 168 + 160] - want).max() <= 1
    assert np.abs(row[:, 168:328] - row[:, 336:496]).max() > 5
