"""Precise BatchNorm statistics (train.precise_bn): the known answer, and that a run with them
trains the same weights and a later recalibration of a run without them gives the same model."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import colorizer
from train import loop
from train.export import export_run
from train.presets import PRESETS
from train.precise_bn import main, recalibrate_bn, recalibrate_run

from .test_train import tiny_config
from .tiny_trees import make_tree

pytestmark = pytest.mark.usefixtures("shared_cache")


def test_the_statistics_are_the_plain_mean_of_the_batches():
    layer = torch.nn.BatchNorm2d(2, momentum=0.1)
    layer.running_mean.fill_(5.0)
    g = torch.Generator().manual_seed(0)
    batches = [torch.randn(4, 2, 3, 3, generator=g) * s + m for s, m in ((1.0, 0.0), (3.0, 2.0), (0.5, -1.0))]
    assert recalibrate_bn(torch.nn.Sequential(layer), iter(batches)) == 3
    means = torch.stack([b.mean(dim=(0, 2, 3)) for b in batches])
    variances = torch.stack([b.transpose(0, 1).flatten(1).var(dim=1) for b in batches])  # unbiased, as BatchNorm keeps them
    assert torch.allclose(layer.running_mean, means.mean(0), atol=1e-6)
    assert torch.allclose(layer.running_var, variances.mean(0), atol=1e-5)
    assert layer.momentum == 0.1 and not layer.training


@pytest.fixture(scope="module")
def tiny_extra(tmp_path_factory):
    return make_tree(tmp_path_factory.mktemp("extra64"), size=64, n_train=6, n_test=1, seed=3)


def test_a_run_with_precise_bn_trains_the_same_weights_and_matches_a_later_recalibration(tmp_path, tiny_data, tiny_extra):
    common = dict(model="chroma_unet_hints", epochs=2, hints=True, augment=True, extra_train_data=[str(tiny_extra)],
                  extra_size=32, extra_share=0.3, working_size=64)
    plain = loop.train(tiny_config(tmp_path / "a", tiny_data, **common), show_progress=False)
    precise_cfg = tiny_config(tmp_path / "b", tiny_data, precise_bn=2, **common)
    precise = loop.train(precise_cfg, show_progress=False)
    a, b = load_file(str(plain / "checkpoint.safetensors")), load_file(str(precise / "checkpoint.safetensors"))
    statistics = {k for k in a if k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
    assert statistics and a.keys() == b.keys()
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a.keys() - statistics)  # the training is unchanged
    assert not all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in statistics)  # (num_batches_tracked only counts)
    history = json.loads((precise / "history.json").read_text())["epochs"]
    assert [h.get("precise_bn") for h in history] == [2, 2]

    # the run without them, recalibrated afterwards: the same statistics and the same last validation
    record = recalibrate_run(dataclasses.replace(precise_cfg, out_dir=str(plain)))
    c = load_file(str(plain / "checkpoint.safetensors"))
    assert all(np.array_equal(b[k].numpy(), c[k].numpy()) for k in statistics)
    assert record["val_psnr"] == pytest.approx(history[-1]["val_psnr"], abs=1e-9)
    assert json.loads((plain / "history.json").read_text())["epochs"][-1] == record
    export_run(plain / "checkpoint.safetensors", tmp_path / "w", run_eval=False)
    assert "mean over 2 training batches of 32 px pictures (`train.precise_bn`)" in (tmp_path / "w" / "README.md").read_text()


def test_the_command_says_what_it_cannot_do(tmp_path, capsys):
    assert main(["chroma_hints_scratch_mild"]) == 2  # the default keeps the statistics it trained with
    assert "precise_bn must be > 0" in capsys.readouterr().err
    assert main(["chroma_hints_scratch_photos", f"--out_dir={tmp_path}"]) == 2
    assert "no such checkpoint" in capsys.readouterr().err


def test_a_network_without_batch_norm_is_refused_statistics(tmp_path, tiny_data):
    """GroupNorm has no statistics to set: a run or a recalibration asking for them stops with a
    clear error instead of running its batches for nothing and carding statistics it lacks."""
    gn = dict(model="chroma_unet_hints", model_kwargs={"widths": [8, 16, 16, 32], "norm": "group"}, epochs=1)
    with pytest.raises(ValueError, match="has none: use --precise_bn=0"):
        loop.train(tiny_config(tmp_path / "a", tiny_data, precise_bn=2, **gn), show_progress=False)
    assert not (tmp_path / "a" / "checkpoint.safetensors").exists()
    run = loop.train(tiny_config(tmp_path / "b", tiny_data, **gn), show_progress=False)
    with pytest.raises(ValueError, match="has none: use --precise_bn=0"):
        recalibrate_run(tiny_config(tmp_path / "b", tiny_data, precise_bn=2, **gn))
    assert "precise_bn" not in json.loads((run / "history.json").read_text())["epochs"][-1]


@pytest.mark.parametrize("preset", ["chroma_hints_scratch_mild", "chroma_hints_scratch_photos"])
def test_a_shipped_model_has_the_statistics_its_preset_computes(preset):
    shipped = colorizer.read_config(colorizer.weights_dir() / Path(PRESETS[preset]["export"]).name)["train_config"]
    assert shipped.get("precise_bn", 0) == PRESETS[preset].get("precise_bn", 0)
