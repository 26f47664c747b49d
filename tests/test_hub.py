"""Hub loading (colorizer/hub.py) against a local Hugging Face cache, never the network, and
scripts/publish_weights.py's checks (dry run only)."""

import importlib
import socket
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

try:  # tests/ as a package or as a plain folder on sys.path
    from .test_app import ROOT, fake_weights, make_weights  # noqa: F401  (fixtures)
except ImportError:
    from test_app import ROOT, fake_weights, make_weights  # noqa: F401  (fixtures)


def fake_hub_cache(cache, repo_id, files):
    """A Hugging Face cache holding one snapshot of ``repo_id``: {relative path: source file}."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    for relative, source in files.items():
        target = repo / "snapshots" / commit / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(Path(source).read_bytes())
    return repo / "snapshots" / commit


def test_hub_models_come_from_the_local_cache(fake_weights, tmp_path, monkeypatch):
    from colorizer import hub

    monkeypatch.setenv("COLORIZER_WEIGHTS", str(fake_weights))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    hub_model = make_weights(tmp_path / "src", "seed_cnn_half", psnr=30.0)
    fake_hub_cache(tmp_path / "hub", "someone/colorizer-half", {n: hub_model / n for n in ("config.json", "model.safetensors")})
    fake_hub_cache(tmp_path / "hub", "someone/colorizer-zoo", {f"half/{n}": hub_model / n for n in ("config.json", "model.safetensors")})
    monkeypatch.setenv("COLORIZER_HUB_REPO", "someone/colorizer-half")
    folders = hub.model_folders()
    assert set(folders) == {"seed_cnn", "chroma", "colorizer-half"}
    assert set(hub.model_folders("someone/colorizer-zoo")) == {"seed_cnn", "chroma", "half"}

    from webapp import bank as app_support

    bank = app_support.ModelBank()
    assert bank.default == "colorizer-half"  # the best validation PSNR, wherever it came from
    assert bank.get().colorize(np.full((40, 40), 100, np.uint8)).size == (40, 40)


def test_hub_repo_missing_offline_falls_back_at_once(fake_weights, tmp_path, monkeypatch):
    from colorizer import hub

    monkeypatch.setenv("COLORIZER_WEIGHTS", str(fake_weights))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    assert set(hub.model_folders("someone/not-cached")) == {"seed_cnn", "chroma"}
    assert time.perf_counter() - start < 2


def test_hub_download_that_hangs_is_abandoned_after_the_timeout(fake_weights, tmp_path, monkeypatch):
    """A Hub endpoint that accepts connections but never answers must not hang the app."""
    from huggingface_hub import constants

    from colorizer import hub

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted = []
    threading.Thread(target=lambda: [accepted.append(server.accept()) for _ in range(8)], daemon=True).start()
    monkeypatch.setenv("COLORIZER_WEIGHTS", str(fake_weights))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    start = time.perf_counter()
    folders = hub.model_folders("someone/slow-repo", timeout=1.0)
    assert set(folders) == {"seed_cnn", "chroma"}
    assert time.perf_counter() - start < 4
    server.close()


def test_publish_weights_dry_run_and_arguments(fake_weights, capsys):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        publish = importlib.import_module("publish_weights")
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    assert publish.main([str(fake_weights / "seed_cnn"), "--repo", "someone/colorizer", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "model.safetensors" in out and "config.json" in out and "nothing uploaded" in out
    with pytest.raises(SystemExit):
        publish.parse_args([str(fake_weights / "seed_cnn"), "--repo", "no-slash"])
    assert publish.main([str(fake_weights), "--repo", "someone/colorizer", "--dry-run"]) == 1  # not a weights folder
