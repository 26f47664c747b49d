"""Hostile or broken requests to the library and the CLI (issue 19's table, rows 2-4 and 7-11):
each gets one clear line and no side effects, and the next request is served as usual.
The app's side (rows 1, 3, 5, 12) is in test_app_hardening.py; row 6 is scripts/load_test.py."""

import json
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import colorizer
from colorizer import HintError, MAX_HINTS, WeightsError, cli, parse_hints

ROOT = Path(__file__).resolve().parents[1]
CONFIG = {"architecture": {"name": "seed_cnn", "kwargs": {}},
          "normalization": {"gray_mean": 120.0, "gray_std": 60.0, "scheme": "standard"},
          "inference": {"working_size": 64}, "metrics": {"val_psnr": 20.0}}


pytestmark = pytest.mark.usefixtures("default_limit")


def nested(depth):
    value = [1]
    for _ in range(depth):
        value = [value]
    return value


def run_main(capsys, *args):
    """(exit status, stderr lines) of ``cli.main`` on ``args``."""
    try:
        status = cli.main([str(a) for a in args])
    except SystemExit as e:
        status = e.code
    return status, capsys.readouterr().err.splitlines()


def cli_process(*args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-m", "colorizer", *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# --- rows 2, 3, 4: hints ---

BAD_HINTS = {
    "nan_color": ([[10, 10, [math.nan, 0, 0]]], "NaN"),
    "nan_position": ([[math.nan, math.nan, [255, 0, 0]]], "NaN"),
    "inf_position": ([[math.inf, 1, [255, 0, 0]]], "NaN or infinity"),
    "outside": ([[40, 1, [255, 0, 0]]], "outside the 40x24 image"),
    "negative": ([[-1, 1, [255, 0, 0]]], "outside"),
    "color_range": ([[1, 1, [256, 0, 0]]], "0..255"),
    "six_values": ([[1, 1, [255, 0, 0, 0, 0, 0]]], "hint 1 is [1, 1, [255, 0, 0, 0, ...]]"),
    "two_values": ([[1, 1, [255, 0]]], "[x, y, [r, g, b]]"),
    "flat_point": ([[1, 1, 255, 0, 0]], "[x, y, [r, g, b]]"),
    "string_number": ([["1", 1, [255, 0, 0]]], "of numbers"),
    "bool_number": ([[True, 1, [255, 0, 0]]], "of numbers"),
    "string": ("[[1, 1, [255, 0, 0]]]", "not str"),
    "dict": ({"x": 1}, "not dict"),
    "deep_point": ([nested(100_000)], "[x, y, [r, g, b]]"),
    "deep_color": ([[1, 1, [1, 2, nested(100_000)]]], "of numbers"),
    "too_many": ([[1, 1, [255, 0, 0]]] * (MAX_HINTS + 1), f"the limit is {MAX_HINTS:,}"),
    "three_million": ([[1, 1, [255, 0, 0]]] * 3_000_000, "too many hints: 3,000,000"),
    "float_image": (np.zeros((24, 40, 4), np.float32), "8-bit RGBA"),
}


@pytest.mark.parametrize("name", sorted(BAD_HINTS))
def test_library_refuses_bad_hints(name):
    hints, expected = BAD_HINTS[name]
    with pytest.raises(HintError) as info:
        parse_hints(hints, (40, 24))
    assert expected in str(info.value) and "\n" not in str(info.value)
    assert isinstance(info.value, colorizer.ImageInputError)  # callers that catch input errors catch these


def test_good_hints_still_parse():
    xs, ys, cbcr = parse_hints([(39.5, 0, (255, 0, 0)), [0, 23, np.array([0, 0, 255])], (np.int64(3), 4.0, [0, 0, 0])], (40, 24))
    assert xs.tolist() == [39.5, 0, 3] and ys.tolist() == [0, 23, 4] and cbcr.shape == (3, 2)
    assert parse_hints([[1, 1, [255, 0, 0]]] * MAX_HINTS, (40, 24))[0].shape == (MAX_HINTS,)


def test_colorize_refuses_bad_hints(hint_weights):
    model = colorizer.load(hint_weights)
    with pytest.raises(HintError, match="NaN"):
        model.colorize(np.zeros((24, 40), np.uint8), hints=[[10, 10, [math.nan, 0, 0]]])
    assert model.colorize(np.zeros((24, 40), np.uint8), hints=[[10, 10, [255, 0, 0]]]).size == (40, 24)


@pytest.mark.parametrize("text, expected", [
    ("[[10, 10, [NaN, 0, 0]]]", "NaN"),
    ("[[NaN, NaN, [255, 0, 0]]]", "NaN"),
    ("[[1, 1, [1, 2, 3, 4, 5, 6]]]", "[x, y, [r, g, b]]"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("[" + ", ".join(["[1, 1, [255, 0, 0]]"] * 60_000) + "]", "too long"),
    ("[[1, 1, [255, 0, 0]]", "not valid JSON"),
], ids=["nan_color", "nan_position", "six_values", "deep", "too_long", "broken"])
def test_cli_refuses_bad_hints(hint_weights, tmp_path, capsys, text, expected):
    photo = tmp_path / "photo.png"
    Image.new("L", (40, 24), 100).save(photo)
    hints = tmp_path / "hints.json"
    hints.write_text(text)
    out = tmp_path / "out"
    status, err = run_main(capsys, photo, "-o", out, "--hints", hints, "--model", hint_weights)
    assert status == 1 and len(err) == 1 and err[0].startswith("error: ") and expected in err[0], err
    assert not out.exists() or list(out.iterdir()) == []


# --- rows 7 and 8: config.json field by field ---

BAD_CONFIGS = {
    "inference_list": (lambda c: c.update(inference=[1]), "inference must be an object"),
    "working_size_text": (lambda c: c["inference"].update(working_size="abc"), "working_size"),
    "working_size_huge": (lambda c: c["inference"].update(working_size=10**9), "working_size"),
    "working_size_float": (lambda c: c["inference"].update(working_size=64.5), "working_size"),
    "guide_eps_text": (lambda c: c["inference"].update(guide_eps="x"), "guide_eps"),
    "guide_eps_nan": (lambda c: c["inference"].update(guide_eps=math.nan), "guide_eps"),
    "guide_radius_huge": (lambda c: c["inference"].update(guide_radius=10**6), "guide_radius"),
    "flip_text": (lambda c: c["inference"].update(flip_average="yes"), "flip_average"),
    "scales_huge": (lambda c: c["inference"].update(scales=[1, 1e6]), "scales"),
    "scales_many": (lambda c: c["inference"].update(scales=[1] * 100), "scales"),
    "scales_text": (lambda c: c["inference"].update(scales="1"), "scales"),
    "gray_std_nan": (lambda c: c["normalization"].update(gray_std=math.nan), "gray_std must be a finite number"),
    "gray_mean_inf": (lambda c: c["normalization"].update(gray_mean=math.inf), "gray_mean must be a finite number"),
    "gray_mean_range": (lambda c: c["normalization"].update(gray_mean=-5), "gray_mean must lie in 0..255"),
    "gray_std_zero": (lambda c: c["normalization"].update(gray_std=0), "gray_std"),
    "gray_std_text": (lambda c: c["normalization"].update(gray_std="60"), "gray_std"),
    "name_number": (lambda c: c["architecture"].update(name=7), "architecture.name"),
    "name_unknown": (lambda c: c["architecture"].update(name="nope"), "unknown model"),
    "kwargs_list": (lambda c: c["architecture"].update(kwargs=[1]), "kwargs"),
    "kwargs_unknown": (lambda c: c["architecture"].update(kwargs={"depth": 3}), "bad architecture"),
    "default_text": (lambda c: c.update(default="true"), "default"),
    "metrics_list": (lambda c: c.update(metrics=[1]), "metrics"),
    "psnr_nan": (lambda c: c["metrics"].update(val_psnr=math.nan), "val_psnr"),
}


@pytest.fixture(scope="module")
def good_weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("good") / "seed_cnn"
    torch.manual_seed(0)
    colorizer.save_weights(folder, colorizer.create_model("seed_cnn"), CONFIG)
    return folder


def broken_copy(good, folder, change):
    shutil.copytree(good, folder)
    config = json.loads((folder / "config.json").read_text())
    change(config)
    (folder / "config.json").write_text(json.dumps(config))  # json writes NaN / Infinity as Python reads them
    return folder


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_config_field_names_the_file(good_weights, tmp_path, name):
    change, expected = BAD_CONFIGS[name]
    folder = broken_copy(good_weights, tmp_path / name, change)
    with pytest.raises(WeightsError) as info:
        colorizer.load(folder)
    message = str(info.value)
    assert message.startswith(str(folder / "config.json")) and expected in message and "\n" not in message, message


def test_huge_network_is_refused_without_allocating(tmp_path):
    """A config asking for a 9-trillion-parameter network is compared with the file's tensors
    on the meta device: a WeightsError, not an attempt to allocate 36 TB."""
    torch.manual_seed(0)
    folder = tmp_path / "huge"
    kwargs = {"widths": [16, 64, 128, 256]}
    colorizer.save_weights(folder, colorizer.create_model("chroma_unet_hints", **kwargs),
                           {**CONFIG, "architecture": {"name": "chroma_unet_hints", "kwargs": kwargs}})
    config = json.loads((folder / "config.json").read_text())
    config["architecture"]["kwargs"]["widths"] = [16, 64, 128, 10**6]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(WeightsError, match="model.safetensors: tensor .* has shape"):
        colorizer.load(folder)


@pytest.fixture
def weights_root(tmp_path, good_weights, monkeypatch):
    """$COLORIZER_WEIGHTS with one good folder and two broken ones ranked above it."""
    root = tmp_path / "weights"
    shutil.copytree(good_weights, root / "good")
    broken_copy(good_weights, root / "bad_config", lambda c: c.update(inference=[1], default=True))
    broken_copy(good_weights, root / "bad_tensors", lambda c: c.update(default=True))
    (root / "bad_tensors" / "model.safetensors").write_bytes(b"\0" * 100)
    monkeypatch.setenv("COLORIZER_WEIGHTS", str(root))
    return root


def test_bad_weights_folder_is_skipped_with_a_warning(weights_root, caplog):
    with caplog.at_level(logging.WARNING, logger="colorizer"):
        assert sorted(colorizer.shipped_models()) == ["bad_tensors", "good"]
        model = colorizer.load()
    assert model.name == "good"
    warned = " ".join(caplog.messages)
    assert "bad_config" in warned and "inference must be an object" in warned
    assert "bad_tensors" in warned and "model.safetensors" in warned


def test_cli_default_model_survives_a_bad_folder(weights_root, tmp_path):
    photo = tmp_path / "photo.png"
    Image.new("L", (40, 24), 100).save(photo)
    process = cli_process(photo, "-o", tmp_path / "out")  # the environment names weights_root
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert (tmp_path / "out" / "photo.png").is_file()
    assert "Traceback" not in stderr and "skipping weights folder" in stderr


# --- row 9: save_weights is atomic ---


def test_save_weights_killed_between_writes_keeps_the_old_folder(good_weights, tmp_path, monkeypatch):
    folder = tmp_path / "w"
    shutil.copytree(good_weights, folder)
    (folder / "README.md").write_text("card")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    real_write = colorizer.weights.atomic_write_bytes

    def killed_at_config(path, data):
        if path.name == "config.json":
            raise KeyboardInterrupt  # as a kill would, after model.safetensors is written
        real_write(path, data)

    monkeypatch.setattr(colorizer.weights, "atomic_write_bytes", killed_at_config)
    torch.manual_seed(1)
    with pytest.raises(KeyboardInterrupt):
        colorizer.save_weights(folder, colorizer.create_model("seed_cnn"), CONFIG)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]  # no temporary folder left
    colorizer.load(folder)

    monkeypatch.setattr(colorizer.weights, "atomic_write_bytes", real_write)
    colorizer.save_weights(folder, colorizer.create_model("seed_cnn"), CONFIG)
    assert (folder / "README.md").read_text() == "card"  # the folder's other files are kept
    assert (folder / "model.safetensors").read_bytes() != before["model.safetensors"]
    colorizer.load(folder)


def test_save_weights_under_sigkill_leaves_a_loadable_folder(good_weights, tmp_path, monkeypatch):
    """A process saving two different models into one folder over and over, killed with SIGKILL:
    the folder loads as one of the two, and leftovers are dot folders that are no model."""
    root = tmp_path / "weights"
    shutil.copytree(good_weights, root / "w")
    code = ("import sys, torch, colorizer\n"
            f"config = {CONFIG!r}\n"
            "models = [colorizer.create_model('seed_cnn') for _ in range(2)]\n"
            "print('ready', flush=True)\n"
            "while True:\n"
            "    for m in models: colorizer.save_weights(sys.argv[1], m, config)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", code, root / "w"], env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "ready\n"
    time.sleep(1.0)  # many saves
    process.kill()
    process.wait(timeout=30)
    model, _ = colorizer.load_model(root / "w")
    assert all(torch.isfinite(p).all() for p in model.parameters())
    monkeypatch.setenv("COLORIZER_WEIGHTS", str(root))
    assert list(colorizer.shipped_models()) == ["w"]


# --- row 10: signals ---


def test_sigterm_during_the_write_leaves_no_file(seed_weights, tmp_path, capsys, monkeypatch):
    """SIGTERM arriving while the output is written (here: the instant before the rename)."""

    def terminated_mid_write(src, dst):
        os.kill(os.getpid(), signal.SIGTERM)  # the CLI's handler turns it into an exception here
        raise AssertionError("SIGTERM was not handled")

    monkeypatch.setattr(cli.os, "replace", terminated_mid_write)
    photo = tmp_path / "photo.png"
    Image.new("L", (40, 24), 100).save(photo)
    out = tmp_path / "out"
    status, err = run_main(capsys, photo, "-o", out, "--model", seed_weights)
    assert status == 128 + signal.SIGTERM and err == ["terminated (SIGTERM)"]
    assert list(out.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # the handler is restored


def test_sigterm_to_the_cli_process(seed_weights, tmp_path):
    big = tmp_path / "src.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (1024, 1024, 3), dtype=np.uint8)).save(big)
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(40):
        (inputs / f"img{i:02}.png").symlink_to(big)
    out = tmp_path / "out"
    process = cli_process(inputs, "-o", out, "--model", seed_weights)
    deadline = time.monotonic() + 60
    while not (out.is_dir() and any(out.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.01)  # the first file appearing: often the temporary one, mid-write
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143 and "Traceback" not in stderr and stderr.strip().endswith("terminated (SIGTERM)")
    assert all(p.suffix == ".png" and not p.name.startswith(".") for p in out.iterdir())


# --- row 11: names and skipped entries ---


def test_names_are_printed_on_one_line(seed_weights, tmp_path, capsys):
    bad = tmp_path / "two\nlines.png"
    bad.write_text("not an image")
    status, err = run_main(capsys, bad, "-o", tmp_path / "out", "--model", seed_weights)
    assert status == 1 and len(err) == 1
    assert err[0] == f"error: {tmp_path}/two\\nlines.png: not an image file, or a damaged one" + err[0].split("damaged one")[1]
    assert cli.shown("café\t\x1b[31m.png") == "café\\t\\x1b[31m.png"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_skipped_folder_entries_are_reported(seed_weights, tmp_path, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.new("L", (8, 8), 100).save(inputs / "good.png")
    os.mkfifo(inputs / "pipe.png")
    (inputs / "loop.png").symlink_to(inputs / "loop.png")
    (inputs / "gone.png").symlink_to(inputs / "missing.png")
    out = tmp_path / "out"
    status, err = run_main(capsys, inputs, "-o", out, "--model", seed_weights)
    assert status == 1
    assert sorted(err) == [f"error: {inputs / 'gone.png'}: skipped: a broken symbolic link",
                           f"error: {inputs / 'loop.png'}: skipped: a symbolic link loop",
                           f"error: {inputs / 'pipe.png'}: skipped: a named pipe (FIFO), not a regular file"]
    assert sorted(p.name for p in out.iterdir()) == ["good.png"]
