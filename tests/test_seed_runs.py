"""The one-command GPU reproduction (train/seed_runs.py) as a dry run on the CPU, and the model
cards it leads to, from a fake 2000-epoch history."""

import dataclasses
import json
import tarfile
import time

import pytest
import torch
from PIL import Image

import colorizer
from train import seed_runs
from train.checkpoint import save_checkpoint
from train.config import config_from_dict
from train.presets import PRESETS
from train.export import export_run


# Narrow networks keep the dry run fast; the real packs' sizes are in scripts/device_seed_all.sh.
SMALL = {"model_kwargs": {"widths": [4, 8, 8], "fc": 32}}


pytestmark = pytest.mark.usefixtures("shared_cache")


def test_dry_run_packs_all_runs_within_the_return_limits_and_unpacks_to_weights(tmp_path, tiny_data):
    out = tmp_path / "OUT"
    summary = seed_runs.run_device(out, tmp_path / "work", data=[str(tiny_data)], device="cpu", epochs=3, snapshot=2,
                                   check_epochs=2, bench_steps=0, overrides={"batch_size": 5, "threads": 1, **SMALL}, report_s=0.5,
                                   log=lambda line: None)
    files = sorted(p.name for p in out.iterdir())
    assert files == ["seed_cnn.tar.gz", "seed_cnn_2.tar.gz", "seed_cnn_half.tar.gz", "seed_cnn_plateau.tar.gz", "summary.json"]
    sizes = [p.stat().st_size for p in out.iterdir()]
    assert len(sizes) <= 8 and max(sizes) <= 16 * 2**20 and sum(sizes) <= 64 * 2**20
    check = summary["check"]
    assert check["cuda_graph"] and not check["tf32"]  # on a CPU the graph path is the eager loop, bit for bit
    assert check["results"]["graph float32"]["val_loss_sum"] == check["results"]["eager float32"]["val_loss_sum"]
    assert {name: r["epochs"] for name, r in summary["runs"].items()} == {"seed_cnn": 3, "seed_cnn_2": 2, "seed_cnn_half": 3,
                                                                           "seed_cnn_plateau": 3}
    assert all(r["error"] is None and r["float16_check"]["float16"] > 0 for r in summary["runs"].values())
    with tarfile.open(out / "seed_cnn.tar.gz") as tar:
        assert sorted(tar.getnames()) == ["checkpoint.safetensors", "examples_epoch_0002.png", "examples_epoch_0003.png"]

    names = seed_runs.unpack(out, tmp_path / "weights", runs_dir=tmp_path / "runs", run_eval=False, cpu_bench_steps=0,
                             log=lambda line: None)
    assert names == ["seed_cnn", "seed_cnn_2", "seed_cnn_half", "seed_cnn_plateau"]
    for name, epochs in (("seed_cnn", 3), ("seed_cnn_2", 2), ("seed_cnn_plateau", 3)):
        folder = tmp_path / "weights" / name
        config = json.loads((folder / "config.json").read_text())
        assert config["epochs"] == epochs and config["metrics"]["training_speed"]["planned_epochs"] == epochs
        card = (folder / "README.md").read_text()
        assert "### Wall time" in card and f"{epochs} epochs in" in card and "stopped" not in card
        assert "Unfinished" not in card  # seed_cnn_2 is a kept epoch of the 3-epoch run, not a run stopped short
        assert colorizer.load(folder).colorize(Image.new("RGB", (40, 30), (200, 100, 50))).size == (40, 30)
    assert config["train_config"]["lr"] == 1e-3 and "ReduceLROnPlateau, lr 1e-3 | 2.8273 | 1.3493" in card
    assert sorted(p.name for p in (tmp_path / "weights" / "seed_cnn").glob("examples_*")) == [
        "examples_epoch_0002.png", "examples_epoch_0003.png"]


def test_runs_stop_cleanly_at_the_deadline_and_their_card_says_so(tmp_path, tiny_data, monkeypatch):
    monkeypatch.setattr(seed_runs, "PACK_SECONDS", 0)
    summary = seed_runs.run_device(tmp_path / "OUT", tmp_path / "work", data=[str(tiny_data)], device="cpu", epochs=50,
                                   minutes=0.001, check_epochs=0, bench_steps=0, overrides={"threads": 1, **SMALL},
                                   runs=["seed_cnn_half"], log=lambda line: None)
    assert summary["runs"]["seed_cnn_half"]["epochs"] < 50
    seed_runs.unpack(tmp_path / "OUT", tmp_path / "weights", runs_dir=tmp_path / "runs", run_eval=False, cpu_bench_steps=0,
                     log=lambda line: None)
    assert "of the planned 50 (stopped at the time limit)" in (tmp_path / "weights" / "seed_cnn_half" / "README.md").read_text()


ORIGINAL_ROWS = {
    "seed_cnn": ["final architecture, 2000 epochs (write-up) | 2.3465 | 1.4805", "same, notebook output at epoch 1999 | 0.9208 | 1.2817"],
    "seed_cnn_half": ["half-width initial architecture | 0.8541 | 1.3706"],
    "seed_cnn_plateau": ["ReduceLROnPlateau, lr 1e-3 | 2.8273 | 1.3493"],
}


@pytest.mark.parametrize("name", list(ORIGINAL_ROWS))
def test_card_from_a_fake_2000_epoch_history(tmp_path, name):
    cfg = config_from_dict({**PRESETS[name], "cuda_graph": True, "tf32": True})
    torch.manual_seed(0)
    model = colorizer.create_model(cfg.model)
    # Validation error falls to its lowest at epoch 250, then rises (overfitting), as the original's did.
    history = [{"epoch": e, "lr": cfg.lr, "train_loss_sum": 3.0 / e**0.3, "val_loss_sum": 1.2 + ((e - 250) / 1000) ** 2,
                "train_loss": 0.0, "val_loss": 0.0, "val_mse": 0.0, "val_psnr": 22.0, "seconds": 0.2} for e in range(1, 2001)]
    meta = {"config": dataclasses.asdict(cfg), "architecture": {"name": cfg.model, "kwargs": {}},
            "normalization": {"gray_mean": 120.0, "gray_std": 60.0, "scheme": "standard"}, "epoch": 2000, "history": history,
            "fine_tuned_from": None, "data": {"sources": cfg.data, "train_images": 54_800, "val_images": 11_600}}
    save_checkpoint(tmp_path / "checkpoint.safetensors", model, torch.optim.Adam(model.parameters()), None, meta)
    speed = {"device": "NVIDIA H200", "torch": "2.11.0", "cuda_graph": True, "tf32": True, "planned_epochs": 2000,
             "beside": ["seed_cnn_half"], "float16_check": {"float32": 1.5, "float16": 1.5001},
             "check": {"epochs": 3, "seed_spread": 0.01, "tf32": True, "results": {"graph float32": {"val_loss_sum": 2.0},
                                                                                  "graph tf32": {"val_loss_sum": 2.001}}},
             "bench_gpu": {"graph": {"train_images_per_s": 300_000.0, "val_images_per_s": 1e6, "tf32": True}},
             "bench_cpu": {"train_images_per_s": 900.0, "val_images_per_s": 5000.0, "threads": 2}}
    export_run(tmp_path / "checkpoint.safetensors", tmp_path / name, run_eval=False, extra_metrics={"training_speed": speed})
    card = (tmp_path / name / "README.md").read_text()
    assert "| this model, epoch 2000 | " in card
    assert all(f"| original: {row} |" in card for row in ORIGINAL_ROWS[name])
    assert "Lowest validation error: 1.2000 at epoch 250" in card
    # 2000 epochs x 548 steps in 2000 x 0.2 s
    assert "2000 epochs in 6.7 min" in card and "2,740 steps/s, 274,000 training images/s" in card and "stopped" not in card
    assert "TF32 arithmetic" in card and "it passed and was used" in card and "validation error 1.5001, against 1.5000" in card
    assert "| NVIDIA H200 | graph (TF32) | 300,000 | 1,000,000 |" in card and "| 900 | 5,000 |" in card


def test_the_first_run_gets_the_machine_when_it_would_not_finish_in_time(tmp_path, tiny_data):
    # 10**6 epochs cannot finish in a minute: the other run (left alone, 90 s) is stopped at a report,
    # cleanly; the first stops after 60 epochs (stop_after) still projecting 10**6. It must be seen
    # running at two reports: 20 epochs were once over before that on a loaded machine.
    configs = {name: seed_runs._config(name, data=[str(tiny_data)], device="cpu", epochs=10**6, out_dir=str(tmp_path / name),
                                       threads=1, **limit, **SMALL)
               for name, limit in (("seed_cnn_half", {"stop_after": 60}), ("seed_cnn_plateau", {"max_minutes": 1.5}))}
    lines, started = [], time.monotonic()
    errors, stopped = seed_runs._train_threads(configs, False, started + 60, lines.append, report_s=0.2)
    assert errors == {"seed_cnn_half": None, "seed_cnn_plateau": None} and stopped == ["seed_cnn_plateau"]
    assert time.monotonic() - started < 120
    assert any("stopping seed_cnn_plateau" in line for line in lines)
    assert (tmp_path / "seed_cnn_plateau" / "checkpoint.safetensors").exists()
