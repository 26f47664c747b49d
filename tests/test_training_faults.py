"""Training under faults, as real processes: ``python -m train`` killed with SIGKILL at random
moments and resumed ends with the weights of an uninterrupted run, a kill never leaves a
half-written checkpoint, and a diverging run stops with a clear message instead of a traceback."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from train.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 6
ARGS = [f"--epochs={EPOCHS}", "--batch_size=4", "--checkpoint_every=1", "--threads=1", "--grid_epochs=[]", "--keep_epochs=[]"]
KILLS = 3  # separate runs, each killed once at its own random moment


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One decoded-data cache for every process here, so later runs skip the decoding."""
    return tmp_path_factory.mktemp("cache")


def start(data, out_dir, cache, *extra):
    """``python -m train`` on the tiny tree as a child process; its stderr goes to a log file
    (a pipe nobody reads could fill up with progress bars and stall the run)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "train", f"--data={data}", f"--out_dir={out_dir}", *ARGS, *extra]
    with open(out_dir.parent / f"{out_dir.name}.stderr", "a") as log:
        return subprocess.Popen(argv, cwd=ROOT, env={**os.environ, "COLORIZER_CACHE": str(cache)},
                                stdout=subprocess.DEVNULL, stderr=log)


def finish(data, out_dir, cache, *extra):
    """Run to the end; (exit code, stderr text)."""
    code = start(data, out_dir, cache, *extra).wait(timeout=120)
    return code, (out_dir.parent / f"{out_dir.name}.stderr").read_text()


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny_data, cache):
    """(checkpoint path, seconds) of an uninterrupted run."""
    out_dir = tmp_path_factory.mktemp("reference") / "run"
    started = time.monotonic()
    code, log = finish(tiny_data, out_dir, cache)
    assert code == 0, log
    return out_dir / "checkpoint.safetensors", time.monotonic() - started


def val_losses(meta):
    return [h["val_loss_sum"] for h in meta["history"]]


def test_killed_runs_resume_to_the_uninterrupted_weights(tmp_path, tiny_data, cache, reference):
    reference_checkpoint, seconds = reference
    expected = load_file(str(reference_checkpoint))
    expected_losses = val_losses(load_checkpoint(reference_checkpoint)[3])
    rng = random.Random(0)
    for trial in range(KILLS):
        out_dir = tmp_path / f"killed_{trial}"
        process = start(tiny_data, out_dir, cache)
        # One kill time in each slice of [1 s, one run's time], so the kills spread over
        # start-up, the epochs and the checkpoint writes rather than bunching up.
        width = max(seconds - 1.0, 0.3) / KILLS
        delay = 1.0 + width * (trial + rng.random())
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

        checkpoint = out_dir / "checkpoint.safetensors"
        # Whatever the kill interrupted, the checkpoint is whole (or not there yet).
        meta = load_checkpoint(checkpoint)[3] if checkpoint.exists() else {"epoch": 0, "history": []}
        epoch = meta["epoch"]
        where = f"trial {trial}, killed at {delay:.1f} s with {epoch} epochs checkpointed"
        assert epoch <= EPOCHS and val_losses(meta) == expected_losses[:epoch], where
        # A half-written temporary file (what a kill during a write leaves) is never taken for
        # the checkpoint: make one where the kill did not, so every unfinished run's resume meets one.
        partial = out_dir / f".{checkpoint.name}.tmp"
        if epoch < EPOCHS and not partial.exists():
            with open(reference_checkpoint, "rb") as f:
                partial.write_bytes(f.read(1_000_000))
        code, log = finish(tiny_data, out_dir, cache, "--resume")
        assert code == 0, f"{where}: resume failed:\n{log}"

        got = load_file(str(checkpoint))
        assert set(got) == set(expected), where
        differing = [name for name in expected if not torch.equal(got[name], expected[name])]
        assert not differing, f"{where}: tensors differ from the uninterrupted run: {differing[:5]}"
        _, _, _, meta = load_checkpoint(checkpoint)
        assert meta["epoch"] == EPOCHS and val_losses(meta) == expected_losses, where
        assert not partial.exists(), f"{where}: the checkpoint's temporary file is left behind"


def test_a_diverging_run_exits_with_a_clear_message(tmp_path, tiny_data, cache):
    """A learning rate of 1e30 sends the tiny run's loss to NaN within its first epoch."""
    out_dir = tmp_path / "diverged"
    code, log = finish(tiny_data, out_dir, cache, "--lr=1e30")
    assert code == 1
    assert "error: loss became nan in epoch 1" in log
    assert "Traceback" not in log
    assert not (out_dir / "checkpoint.safetensors").exists()  # nothing good to keep yet
