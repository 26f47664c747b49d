"""The loop's CUDA-graph path (train/cuda_graph.py) where it can be tested without a GPU: the same
code run eagerly on the CPU must give the plain loop's weights and history bit for bit."""

import json

import pytest
import torch

from tests.test_train import tiny_config, weights_of
from train import loop
from train.checkpoint import load_checkpoint, save_checkpoint
from train.config import TrainConfig


pytestmark = pytest.mark.usefixtures("shared_cache")


def test_the_switch_is_off_by_default():
    cfg = TrainConfig()
    assert (cfg.cuda_graph, cfg.tf32) == (False, False)


# 12 training images in batches of 5: the last batch has 2, as the plain loop has it.
@pytest.mark.parametrize("extra", [{}, {"scheduler": "plateau", "lr": 1e-3, "plateau_patience": 0},
                                   {"model": "seed_cnn_half", "amp": "bf16", "channels_last": True},
                                   {"shuffle": "every_epoch"}], ids=["seed_cnn", "plateau", "half_bf16", "every_epoch"])
def test_graph_path_on_cpu_gives_the_plain_loop_bit_for_bit(tmp_path, tiny_data, extra):
    plain = loop.train(tiny_config(tmp_path / "plain", tiny_data, epochs=3, batch_size=5, **extra), show_progress=False)
    graphed = loop.train(tiny_config(tmp_path / "graph", tiny_data, epochs=3, batch_size=5, cuda_graph=True, **extra),
                         show_progress=False)
    wp, wg = weights_of(plain), weights_of(graphed)
    assert set(wp) == set(wg) and all(torch.equal(wp[k], wg[k]) for k in wp)  # weights and Adam's state
    hp, hg = (json.loads((run / "history.json").read_text())["epochs"] for run in (plain, graphed))
    keys = ["train_loss_sum", "val_loss_sum", "train_loss", "val_loss", "val_mse", "val_psnr", "lr"]
    assert [[h[k] for k in keys] for h in hp] == [[h[k] for k in keys] for h in hg]


def test_graph_path_resumes_exactly(tmp_path, tiny_data):
    straight = loop.train(tiny_config(tmp_path / "straight", tiny_data, epochs=3, cuda_graph=True), show_progress=False)
    loop.train(tiny_config(tmp_path / "parts", tiny_data, epochs=3, stop_after=1, cuda_graph=True), show_progress=False)
    parts = loop.train(tiny_config(tmp_path / "parts", tiny_data, epochs=3, cuda_graph=True), resume=True, show_progress=False)
    ws, wp = weights_of(straight), weights_of(parts)
    assert all(torch.equal(ws[k], wp[k]) for k in ws)


@pytest.mark.parametrize("option", [{"augment": True}, {"hints": True, "model": "chroma_unet_hints"},
                                    {"extra_train_data": ["x"]}, {"compile": True}])
def test_options_the_graph_cannot_replay_are_refused_in_one_line_before_any_data_is_read(tmp_path, option):
    with pytest.raises(ValueError, match="cuda_graph") as error:
        loop.train(tiny_config(tmp_path, tmp_path / "no_such_data", cuda_graph=True, **option), show_progress=False)
    assert "\n" not in str(error.value)


def test_a_tensor_learning_rate_is_checkpointed_as_its_number(tmp_path):
    # The graph path keeps lr as a tensor (so ReduceLROnPlateau's changes reach the graph).
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    optimizer.param_groups[0]["lr"] = torch.tensor(1e-3)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0)
    for metric in (1.0, 2.0):
        scheduler.step(metric)
    assert float(optimizer.param_groups[0]["lr"]) == pytest.approx(1e-4)
    save_checkpoint(tmp_path / "c.safetensors", model, optimizer, scheduler, {"epoch": 2})
    _, optim_state, sched_state, _ = load_checkpoint(tmp_path / "c.safetensors")
    assert optim_state["param_groups"][0]["lr"] == pytest.approx(1e-4)
    assert sched_state["_last_lr"] == [pytest.approx(1e-4)]
    with pytest.raises(TypeError, match="object"):  # anything else unserializable still fails loudly
        save_checkpoint(tmp_path / "d.safetensors", model, optimizer, None, {"bad": object()})


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (runs on the device machine)")
def test_on_cuda_the_replayed_graphs_train_as_the_eager_loop_does(tmp_path, tiny_data, monkeypatch):
    # Same seed, same data, float32 (cuDNN would use TF32 by default in the eager loop): only the
    # rounding of fused vs capturable Adam and cuDNN's summation order may differ.
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    runs = {graphed: loop.train(tiny_config(tmp_path / str(graphed), tiny_data, epochs=3, batch_size=5, device="cuda",
                                            cuda_graph=graphed), show_progress=False) for graphed in (False, True)}
    eager, graph = (json.loads((runs[g] / "history.json").read_text())["epochs"] for g in (False, True))
    for e, g in zip(eager, graph):
        assert g["train_loss_sum"] == pytest.approx(e["train_loss_sum"], rel=1e-4)
        assert g["val_loss_sum"] == pytest.approx(e["val_loss_sum"], rel=1e-4)
