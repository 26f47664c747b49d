"""The command line, ``python -m colorizer``: inputs, outputs, options and exit codes.
Most tests call ``cli.main`` in this process (fast); a few run the real module."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorizer import cli, make_panel
from colorizer.panel import PANEL_GAP

ROOT = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("default_limit")


def color_image(path, width=40, height=24, seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)
    return path


def gray_image(path, width=40, height=24):
    Image.fromarray(np.tile(np.linspace(0, 255, width).astype(np.uint8), (height, 1))).save(path)
    return path


def run_main(capsys, *args):
    """(exit status, stderr lines) of ``cli.main`` on ``args``."""
    try:
        status = cli.main([str(a) for a in args])
    except SystemExit as e:  # argparse's usage errors
        status = e.code
    return status, capsys.readouterr().err.splitlines()


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_files_and_folders(seed_weights, tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    color_image(photos / "b.png")
    gray_image(photos / "a.JPG")
    (photos / "notes.txt").write_text("not an image")
    (photos / "._b.png").write_bytes(b"\0\5\26\7macOS metadata")
    (photos / "sub").mkdir()
    color_image(photos / "sub" / "deep.png")
    single = color_image(tmp_path / "single.bmp", 10, 6)
    out = tmp_path / "new" / "out"  # missing folders are made

    status, err = run_main(capsys, single, photos, "-o", out, "--model", seed_weights)
    assert (status, err) == (0, [])
    assert listing(out) == ["a.png", "b.png", "single.png"]
    with Image.open(out / "single.png") as result:
        assert result.format == "PNG" and result.mode == "RGB" and result.size == (10, 6)
    umask = os.umask(0)
    os.umask(umask)
    assert (out / "a.png").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_panel(seed_weights, tmp_path, capsys):
    color_image(tmp_path / "color.png", 40, 24)
    gray_image(tmp_path / "gray.png", 30, 20)
    out = tmp_path / "out"
    assert run_main(capsys, tmp_path / "color.png", tmp_path / "gray.png", "-o", out, "--panel", "--model", seed_weights) == (0, [])
    with Image.open(out / "color.png") as panel:  # gray | output | original
        assert panel.size == (3 * 40 + 2 * PANEL_GAP, 24)
        pixels = np.asarray(panel)
        assert (pixels[:, 40 : 40 + PANEL_GAP] == 255).all()
        original = np.asarray(Image.open(tmp_path / "color.png"))
        assert (pixels[:, -40:] == original).all()
    with Image.open(out / "gray.png") as panel:  # gray | output
        assert panel.size == (2 * 30 + PANEL_GAP, 20)


def test_make_panel():
    tall, short = Image.new("L", (5, 10), 0), Image.new("RGBA", (7, 4), (255, 0, 0, 255))
    panel = make_panel([tall, short], gap=3)
    assert panel.mode == "RGB" and panel.size == (15, 10)
    pixels = np.asarray(panel)
    assert (pixels[:, 5:8] == 255).all() and (pixels[4:, 8:] == 255).all()  # gap and below short
    assert (pixels[:4, 8:] == (255, 0, 0)).all()  # top-aligned
    with pytest.raises(ValueError):
        make_panel([])


def test_seed_mode(seed_weights, tmp_path, capsys):
    color_image(tmp_path / "photo.png", 64, 64)
    full, seed = tmp_path / "full", tmp_path / "seed"
    assert run_main(capsys, tmp_path / "photo.png", "-o", full, "--model", seed_weights)[0] == 0
    assert run_main(capsys, tmp_path / "photo.png", "-o", seed, "--mode", "seed", "--model", seed_weights)[0] == 0
    raw = np.asarray(Image.open(seed / "photo.png"))
    assert raw.shape == (64, 64, 3)
    assert (raw[::2, ::2] == raw[1::2, 1::2]).all()  # the 32 x 32 network output, 2 x 2 blocks
    assert not (raw == np.asarray(Image.open(full / "photo.png"))).all()


def test_hints(hint_weights, seed_weights, tmp_path, capsys):
    photo = gray_image(tmp_path / "photo.png")
    hints = tmp_path / "hints.json"
    hints.write_text(json.dumps([[5, 5, [255, 0, 0]], [30, 20, [0, 0, 255]]]))
    out = tmp_path / "out"
    assert run_main(capsys, photo, "-o", out, "--hints", hints, "--model", hint_weights) == (0, [])
    assert listing(out) == ["photo.png"]

    status, err = run_main(capsys, photo, "-o", tmp_path / "none", "--hints", hints, "--model", seed_weights)
    assert status == 1 and len(err) == 1
    assert err[0].startswith(f"error: {hints}: ") and "does not take color hints" in err[0]
    assert not (tmp_path / "none").exists()

    hints.write_text("[[5, 5, [255, 0, 0]")
    status, err = run_main(capsys, photo, "-o", out, "--hints", hints, "--model", hint_weights)
    assert status == 1 and len(err) == 1 and "JSON" in err[0]

    hints.write_text(json.dumps([[500, 5, [255, 0, 0]]]))  # outside the image: the file fails
    status, err = run_main(capsys, photo, "-o", tmp_path / "outside", "--hints", hints, "--model", hint_weights)
    assert status == 1 and err[0].startswith(f"error: {photo}: ") and "outside" in err[0]
    assert listing(tmp_path / "outside") == []

    hint_image = tmp_path / "hints.png"
    Image.new("RGBA", (40, 24), (0, 0, 0, 0)).save(hint_image)
    assert run_main(capsys, photo, "-o", out, "--hints", hint_image, "--model", hint_weights) == (0, [])

    status, _ = run_main(capsys, photo, photo, "-o", out, "--hints", hints, "--model", hint_weights)
    assert status == 2  # hints are for one image


def test_same_stem_is_not_overwritten(seed_weights, tmp_path, capsys):
    color_image(tmp_path / "cat.png", 20, 10)
    color_image(tmp_path / "cat.jpg", 30, 10)
    color_image(tmp_path / "dog.png", 8, 8)
    out = tmp_path / "out"
    status, err = run_main(capsys, tmp_path / "cat.png", tmp_path / "cat.jpg", tmp_path / "dog.png",
                           "-o", out, "--model", seed_weights)
    assert status == 1
    assert len(err) == 1 and err[0].startswith(f"error: {tmp_path / 'cat.jpg'}: ")
    assert listing(out) == ["cat.png", "dog.png"]
    assert Image.open(out / "cat.png").size == (20, 10)  # the first one's


def test_input_is_never_replaced(seed_weights, tmp_path, capsys):
    photo = color_image(tmp_path / "photo.png")
    before = photo.read_bytes()
    status, err = run_main(capsys, photo, "-o", tmp_path, "--model", seed_weights)
    assert status == 1 and "replace an input" in err[0]
    assert photo.read_bytes() == before


def test_exit_codes(seed_weights, tmp_path, capsys):
    good = color_image(tmp_path / "good.png")
    bad = tmp_path / "bad.png"
    bad.write_text("nope")
    out = tmp_path / "out"
    assert run_main(capsys, good, "-o", out, "--model", seed_weights) == (0, [])
    status, err = run_main(capsys, bad, good, "-o", out, "--model", seed_weights)
    assert status == 1 and len(err) == 1 and err[0].startswith(f"error: {bad}: not an image file")
    status, err = run_main(capsys, good, "-o", out, "--model", tmp_path / "no_such_model")
    assert status == 1 and len(err) == 1 and err[0].startswith("error: cannot load model")
    status, err = run_main(capsys, good, "-o", out, "--max-pixels", "100", "--model", seed_weights)
    assert status == 1 and "too large" in err[0]
    for usage in (["-o", out], [good], [good, "-o", out, "--mode", "sepia"], [good, "-o", out, "--max-pixels", "0"]):
        assert run_main(capsys, *usage)[0] == 2
    (tmp_path / "file").write_text("")
    status, err = run_main(capsys, good, "-o", tmp_path / "file", "--model", seed_weights)
    assert status == 1 and "output folder" in err[0]


def test_failed_write_leaves_nothing(seed_weights, tmp_path, capsys, monkeypatch):
    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli.os, "replace", full_disk)
    out = tmp_path / "out"
    status, err = run_main(capsys, color_image(tmp_path / "a.png"), "-o", out, "--model", seed_weights)
    assert status == 1 and err == [f"error: {tmp_path / 'a.png'}: [Errno 28] No space left on device"]
    assert listing(out) == []


def test_interrupt_in_process(seed_weights, tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "make_panel", interrupted)
    out = tmp_path / "out"
    status, err = run_main(capsys, color_image(tmp_path / "a.png"), "-o", out, "--panel", "--model", seed_weights)
    assert status == 130 and err == ["interrupted"]
    assert listing(out) == []


def _as_from_a_terminal():
    """In the child before exec: SIGINT neither ignored nor blocked, as in a terminal. Both are
    inherited through exec, and in the full suite one run ignored Ctrl-C (exit 0 after all files),
    which it never did alone."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def cli_process(*args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-m", "colorizer", *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_as_from_a_terminal)


def test_module_runs_quietly_without_terminal(seed_weights, tmp_path):
    """``python -m colorizer`` on more files than the progress bar threshold: with stderr not a
    terminal there is no bar, so stderr holds only the one error line."""
    for i in range(cli.PROGRESS_MIN_FILES):
        color_image(tmp_path / f"img{i}.png", 12, 8, seed=i)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    process = cli_process(tmp_path, "-o", tmp_path / "out", "--model", seed_weights)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1 and stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path / 'broken.png'}: not an image file")
    assert len(list((tmp_path / "out").iterdir())) == cli.PROGRESS_MIN_FILES


def test_ctrl_c(seed_weights, tmp_path):
    """SIGINT mid-run: exit status 130, no traceback, no temporary files left."""
    big = color_image(tmp_path / "src.png", 1024, 1024)
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(40):  # links: many inputs at the cost of one
        (inputs / f"img{i:02}.png").symlink_to(big)
    out = tmp_path / "out"
    process = cli_process(inputs, "-o", out, "--model", seed_weights)
    deadline = time.monotonic() + 60
    while not (out.is_dir() and any(p.suffix == ".png" for p in out.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in stderr and stderr.strip().endswith("interrupted")
    assert all(p.suffix == ".png" and not p.name.startswith(".") for p in out.iterdir())


def test_vividness(tmp_path, capsys):
    from .test_bins import bins_weights

    folder = bins_weights(tmp_path / "bins")
    good = color_image(tmp_path / "good.png", width=90, height=70)
    outs = {}
    for v in ("0", "1"):
        assert run_main(capsys, good, "-o", tmp_path / v, "--model", folder, "--vividness", v) == (0, [])
        outs[v] = np.asarray(Image.open(tmp_path / v / "good.png")).astype(int)
    assert not np.array_equal(outs["0"], outs["1"])
    for bad in ("nan", "1.5", "-1", "vivid"):
        status, err = run_main(capsys, good, "-o", tmp_path / "bad", "--model", folder, "--vividness", bad)
        assert status == 2 and "--vividness: must be a number from 0 to 1" in err[-1]
