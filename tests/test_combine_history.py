"""scripts/combine_history.py on a throw-away git repository: fine-tunes stack up, a commit that
only edits a config is no stage, and a version retrained from scratch replaces the ones before."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import combine_history  # noqa: E402

sys.path.pop(0)


def commit(root, folder, epochs, first_record, records, base=None, note=""):
    """Write weights/<folder>'s config (epochs, optional fine_tuned_from) and history, commit."""
    path = root / "weights" / folder
    path.mkdir(parents=True, exist_ok=True)
    config = {"epochs": epochs, "note": note, "train_config": {"loss": "mse"}, "metrics": {"val_psnr": 20.0 + epochs / 100}}
    if base:
        config["fine_tuned_from"] = {"path": base, "epochs": epochs - records, "loss": "mse"}
    history = {"epochs": [{"epoch": e, "val_psnr": 20.0 + e / 100} for e in range(first_record, first_record + records)]}
    (path / "config.json").write_text(json.dumps(config))
    (path / "history.json").write_text(json.dumps(history))
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", f"{folder} {epochs} {note}"],
                   cwd=root, check=True)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    monkeypatch.setattr(combine_history, "ROOT", tmp_path)
    return tmp_path


def test_fine_tunes_stack_and_a_config_only_commit_is_no_stage(repo):
    commit(repo, "net", 10, 1, 10)
    commit(repo, "net", 10, 1, 10, note="an inference key added")  # same epochs, same history
    commit(repo, "net", 15, 1, 5, base="weights/net")
    stages, records = combine_history.combine("weights/net")
    assert [(s["first_epoch"], s["last_epoch"]) for s in stages] == [(1, 10), (11, 15)]
    assert [r["epoch"] for r in records] == list(range(1, 16))


def test_a_version_retrained_from_scratch_replaces_the_ones_before(repo):
    commit(repo, "net", 48, 1, 48)
    (repo / "weights" / "net" / "history.json").write_text(json.dumps({"epochs": [{"epoch": e, "val_psnr": 1.0} for e in range(1, 41)]}))
    config = json.loads((repo / "weights" / "net" / "config.json").read_text())
    (repo / "weights" / "net" / "config.json").write_text(json.dumps({**config, "epochs": 40}))
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "retrained, 40"], cwd=repo, check=True)
    stages, records = combine_history.combine("weights/net")
    assert [(s["first_epoch"], s["last_epoch"]) for s in stages] == [(1, 40)]
    assert len(records) == 40 and {r["val_psnr"] for r in records} == {1.0}


def test_overlapping_fine_tune_without_a_base_still_stops(repo):
    commit(repo, "net", 10, 1, 10)
    commit(repo, "net", 12, 1, 5, base="weights/net")  # claims epochs 8..12, but 10 are shipped
    with pytest.raises(SystemExit, match="overlap"):
        combine_history.combine("weights/net")
