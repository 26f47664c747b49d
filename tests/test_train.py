"""Training on tiny image trees made here: config, determinism, resume, history, export, round trip."""

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

import colorizer
from train import loop
from train.__main__ import main as train_main
from train.batches import epoch_generator, gray_stats, network_input
from train.checkpoint import init_weights
from train.config import TrainConfig, parse_args
from train.presets import PRESETS
from train.card import read_blurb
from train.export import export_run, main as export_main

from .tiny_trees import make_tree

pytestmark = pytest.mark.usefixtures("shared_cache")

@pytest.fixture(scope="module")
def tiny_big(tmp_path_factory):
    return make_tree(tmp_path_factory.mktemp("tiny128"), size=96, n_train=4, n_test=1, seed=1)


def tiny_config(tmp_path, data, **overrides):
    values = dict(data=[str(data)], epochs=2, batch_size=4, grid_epochs=[1], keep_epochs=[1],
                  checkpoint_every=1, out_dir=str(tmp_path / "run"), threads=1)
    values.update(overrides)
    return TrainConfig(**values)


def weights_of(run_dir):
    return load_file(str(run_dir / "checkpoint.safetensors"))


def test_defaults_are_the_original_run():
    cfg = TrainConfig()
    assert (cfg.model, cfg.lr, cfg.batch_size, cfg.epochs, cfg.loss, cfg.shuffle) == ("seed_cnn", 1e-4, 100, 2000, "mse_rgb", "once")
    assert [p.rsplit("/", 1)[1] for p in cfg.data] == ["cifar10-images.tar.gz", "linnaeus5-32.tar.gz"]
    cfg, resume = parse_args(["seed_cnn_plateau", "--epochs=3", "--amp=bf16", "--resume"])
    assert (cfg.lr, cfg.scheduler, cfg.epochs, resume) == (1e-3, "plateau", 3, True)


@pytest.mark.parametrize("argv, message", [
    (["--epochs=ten"], "epochs"), (["--no_such_key=1"], "unknown config key"), (["bogus_preset"], "unknown preset"),
    (["--augment=maybe"], "augment"), (["seed_cnn", "epochs=3"], "--key=value"),
])
def test_bad_overrides_are_rejected(argv, message):
    with pytest.raises(ValueError, match=message):
        parse_args(argv)


def test_cli_reports_config_errors(capsys):
    assert train_main(["--lr=fast"]) == 2
    assert "lr" in capsys.readouterr().err


def test_unknown_amp_is_refused_before_any_data_is_read(tmp_path):
    with pytest.raises(ValueError, match="amp"):
        loop.train(tiny_config(tmp_path, tmp_path / "no_such_data", amp="fp8"), show_progress=False)


def test_list_overrides_parse_numbers_and_paths():
    cfg, _ = parse_args(["--grid_epochs=5,10", "--data=a.tar.gz,b"])
    assert cfg.grid_epochs == [5, 10] and cfg.data == ["a.tar.gz", "b"]
    assert set(PRESETS) >= {"seed_cnn", "seed_cnn_half", "seed_unet", "seed_cnn_plateau", "chroma", "chroma_hints"}


def test_gray_stats_true_std_and_seed_quirk():
    images = np.random.default_rng(0).integers(0, 256, (5, 4, 4, 3), dtype=np.uint8)
    gray = images.astype(np.float64) @ [0.299, 0.587, 0.114]
    mean, std = gray_stats(images)
    assert mean == pytest.approx(gray.mean()) and std == pytest.approx(gray.std())
    assert gray_stats(images, "seed_mean") == pytest.approx((gray.mean(), gray.mean()))


def test_same_seed_gives_bit_identical_weights(tmp_path, tiny_data):
    a = loop.train(tiny_config(tmp_path / "a", tiny_data), show_progress=False)
    b = loop.train(tiny_config(tmp_path / "b", tiny_data), show_progress=False)
    wa, wb = weights_of(a), weights_of(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    c = loop.train(tiny_config(tmp_path / "c", tiny_data, seed=1), show_progress=False)
    assert not all(torch.equal(wa[k], weights_of(c)[k]) for k in wa)


@pytest.mark.parametrize("preset", ["seed_cnn", "chroma_hints", "chroma_hints_bf16", "chroma_bins"])
def test_resume_matches_an_uninterrupted_run(tmp_path, tiny_data, tiny_big, preset):
    extra = {"model": "chroma_unet_hints", "loss": "mse_cbcr", "shuffle": "every_epoch", "augment": True,
             "hints": True, "scheduler": "cosine", "extra_train_data": [str(tiny_big)]} if preset != "seed_cnn" else {}
    if preset == "chroma_hints_bf16":  # the resumed optimizer state is NCHW, the parameters NHWC
        extra.update(amp="bf16", channels_last=True)
    if preset == "chroma_bins":  # mixed scales (32 px and 48 px crops) and short epochs drawn afresh
        extra.update(model="chroma_bins_hints", loss="ce_bins", extra_size=48, epoch_images=8)
    straight = loop.train(tiny_config(tmp_path / "straight", tiny_data, epochs=3, **extra), show_progress=False)
    loop.train(tiny_config(tmp_path / "parts", tiny_data, epochs=3, stop_after=1, **extra), show_progress=False)
    parts = loop.train(tiny_config(tmp_path / "parts", tiny_data, epochs=3, **extra), resume=True, show_progress=False)
    ws, wp = weights_of(straight), weights_of(parts)
    assert set(ws) == set(wp) and all(torch.equal(ws[k], wp[k]) for k in ws)
    hs = json.loads((straight / "history.json").read_text())["epochs"]
    hp = json.loads((parts / "history.json").read_text())["epochs"]
    assert [h["val_loss_sum"] for h in hs] == [h["val_loss_sum"] for h in hp]


def test_resume_refuses_a_different_run(tmp_path, tiny_data):
    loop.train(tiny_config(tmp_path, tiny_data, epochs=1), show_progress=False)
    with pytest.raises(ValueError, match="lr"):
        loop.train(tiny_config(tmp_path, tiny_data, epochs=2, lr=0.5), resume=True, show_progress=False)
    # settings recorded only for inference may change
    loop.train(tiny_config(tmp_path, tiny_data, epochs=2, flip_average=True, working_size=48), resume=True, show_progress=False)
    loop.train(tiny_config(tmp_path / "cos", tiny_data, epochs=1, scheduler="cosine"), show_progress=False)
    with pytest.raises(ValueError, match="epochs"):
        loop.train(tiny_config(tmp_path / "cos", tiny_data, epochs=2, scheduler="cosine"), resume=True, show_progress=False)


def test_resume_from_the_export_when_the_run_folder_is_gone(tmp_path, tiny_data, capsys):
    """runs/ does not outlive a session here: --resume falls back on the piece's export, keeps its
    history, trains only the epochs left on the same cosine schedule, and refuses another run."""
    def config(name, **overrides):
        return tiny_config(tmp_path / name, tiny_data, epochs=3, scheduler="cosine", export=str(tmp_path / "weights" / name),
                           **overrides)

    straight = json.loads((loop.train(config("straight"), show_progress=False) / "history.json").read_text())["epochs"]
    run = loop.train(config("parts", stop_after=1), show_progress=False)
    first = json.loads((tmp_path / "weights/parts/history.json").read_text())["epochs"]
    assert len(first) == 1
    assert "**Unfinished**: 1 of the run's 3 planned epochs" in (tmp_path / "weights/parts/README.md").read_text()
    shutil.rmtree(run)
    with pytest.raises(ValueError, match="lr"):
        loop.train(config("parts", lr=0.5), resume=True, show_progress=False)
    weights = tmp_path / "weights/parts/model.safetensors"
    intact = weights.read_bytes()
    weights.write_bytes(b"not weights")  # a broken export: one line, no traceback
    cli = [f"--{k}={v}" for k, v in (("data", tiny_data), ("epochs", 3), ("batch_size", 4), ("scheduler", "cosine"), ("threads", 1),
                                     ("out_dir", tmp_path / "cli"), ("export", tmp_path / "weights/parts"))]
    assert train_main(cli + ["--resume"]) == 1 and "error: " in capsys.readouterr().err
    weights.write_bytes(intact)
    parts = json.loads((loop.train(config("parts"), resume=True, show_progress=False) / "history.json").read_text())["epochs"]
    assert "Adam's moments start afresh" in capsys.readouterr().out
    assert [h["epoch"] for h in parts] == [1, 2, 3] and parts[0] == first[0]
    assert [h["lr"] for h in parts] == pytest.approx([h["lr"] for h in straight])
    assert json.loads((tmp_path / "weights/parts/config.json").read_text())["epochs"] == 3
    card = (tmp_path / "weights/parts/README.md").read_text()
    assert "Unfinished" not in card
    assert "examples_epoch_0001.png" in card and "examples_epoch_0003.png" in card  # the first piece's grid kept


def test_history_plots_and_snapshots(tmp_path, tiny_data):
    run = loop.train(tiny_config(tmp_path, tiny_data, epochs=3), show_progress=False)
    history = json.loads((run / "history.json").read_text())["epochs"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    for h in history:
        assert {"train_loss_sum", "val_loss_sum", "train_loss", "val_loss", "val_mse", "val_psnr", "lr"} <= set(h)
        # 12 training images in batches of 4: the summed error is 3 per-batch means
        assert h["train_loss_sum"] == pytest.approx(3 * h["train_loss"])
        assert 0 < h["val_psnr"] <= 50
    assert (run / "loss_curve.png").exists() and (run / "epoch_0001.safetensors").exists()
    grids = sorted(p.name for p in run.glob("examples_epoch_*.png"))
    assert grids == ["examples_epoch_0001.png", "examples_epoch_0003.png"]
    grid = Image.open(run / "examples_epoch_0003.png")
    assert grid.height == 3 * 128 + 2 * 2  # rows gray / output / original, 32 px tiles shown 4x


def test_export_draws_the_grid_a_killed_piece_left_undrawn(tmp_path, tiny_data):
    run = loop.train(tiny_config(tmp_path, tiny_data, epochs=3), show_progress=False)
    drawn = np.asarray(Image.open(run / "examples_epoch_0003.png"))
    (run / "examples_epoch_0003.png").unlink()  # as if killed after the epoch-3 checkpoint, before its grid
    export_run(run / "checkpoint.safetensors", tmp_path / "w", run_eval=False)
    for folder in (run, tmp_path / "w"):  # the loop's own pictures and rows, where later exports find it too
        assert np.array_equal(np.asarray(Image.open(folder / "examples_epoch_0003.png")), drawn)
    assert "examples_epoch_0003.png" in (tmp_path / "w" / "README.md").read_text()


@pytest.mark.parametrize("loss", ["mse_cbcr", "psnr_rgb", "psnr_rgb_bf16", "ce_bins"])
def test_training_lowers_the_loss(tmp_path, tiny_data, loss):
    fast = {"amp": "bf16", "channels_last": True} if loss.endswith("_bf16") else {}
    loss = loss.removesuffix("_bf16")
    model = "chroma_bins_hints" if loss == "ce_bins" else "chroma_unet"
    cfg = tiny_config(tmp_path, tiny_data, model=model, loss=loss, lr=3e-3, epochs=8, grid_epochs=[], keep_epochs=[], **fast)
    history = json.loads((loop.train(cfg, show_progress=False) / "history.json").read_text())["epochs"]
    if loss == "ce_bins":  # cross-entropy over 180 bins starts near ln 180 = 5.2
        assert history[-1]["train_loss"] < 0.6 * history[0]["train_loss"]
        assert history[-1]["val_loss"] < 0.6 * history[0]["val_loss"]
        # the prior that inference divides out is the training set's, saved with the weights
        from train.batches import training_prior
        from train.data import load_sources

        expected = training_prior([(load_sources([str(tiny_data)], "train", 32).images, 1.0)], 16)
        assert torch.allclose(weights_of(tmp_path / "run")["model.bin_prior"], expected)
    elif loss == "mse_cbcr":
        assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    else:  # -PSNR in dB: at least 1 dB better
        assert history[-1]["train_loss"] < history[0]["train_loss"] - 1.0


def test_psnr_loss_is_the_negative_capped_psnr():
    from train.batches import loss_fn

    model = colorizer.create_model("seed_cnn")
    rgb = torch.full((2, 3, 4, 4), 0.5)
    out = rgb.clone()
    out[0] += 0.1  # MSE 0.01: 20 dB; image 1 exact: 50 dB cap
    loss = loss_fn(model, out, rgb, None, None, "psnr_rgb")
    assert loss.item() == pytest.approx(-(20 + 50) / 2, abs=0.01)


def test_chroma_loss_of_an_rgb_network_compares_the_chroma_of_its_rgb():
    from train.batches import loss_fn

    model = colorizer.create_model("seed_cnn")
    rgb = torch.rand(2, 3, 4, 4)
    out = rgb.clone()
    out[:, 0] += 0.2  # redder: its chroma moves
    chroma = lambda x: colorizer.rgb_to_ycbcr_torch(x)[:, 1:]  # noqa: E731
    expected = (chroma(out) - chroma(rgb)).square().mean()
    assert loss_fn(model, out, rgb, None, chroma(rgb), "mse_cbcr").item() == pytest.approx(expected.item(), rel=1e-5)


def test_colorfulness_torch_matches_the_metric():
    from colorizer.metrics import colorfulness_batch
    from train.batches import colorfulness_torch

    rgb_uint8 = np.random.default_rng(0).integers(0, 256, (3, 9, 7, 3), dtype=np.uint8)
    rgb_uint8[0] = 128  # a flat gray image: 0, with a finite gradient
    rgb = torch.from_numpy(rgb_uint8).permute(0, 3, 1, 2).float().div(255).requires_grad_()
    cf = colorfulness_torch(rgb)
    cf.sum().backward()
    assert cf.detach().numpy() == pytest.approx(colorfulness_batch(rgb_uint8), abs=0.01)
    assert torch.isfinite(rgb.grad).all()


def test_colorfulness_weight_charges_only_a_colorfulness_deficit():
    from colorizer.color import rgb_to_ycbcr_torch
    from train.batches import loss_fn

    model = colorizer.create_model("chroma_unet")
    rgb = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    ycbcr = rgb_to_ycbcr_torch(rgb)
    y, cbcr = ycbcr[:, :1], ycbcr[:, 1:]
    for out in (cbcr, 1.5 * cbcr):  # exact or more colorful than the original: no extra loss
        plain = loss_fn(model, out, rgb, y, cbcr, "psnr_rgb")
        assert loss_fn(model, out, rgb, y, cbcr, "psnr_rgb", 0.1).item() == pytest.approx(plain.item(), abs=1e-3)
    gray_out = torch.zeros_like(cbcr)  # washed out: charged in proportion to the weight
    plain = loss_fn(model, gray_out, rgb, y, cbcr, "psnr_rgb").item()
    extra = [loss_fn(model, gray_out, rgb, y, cbcr, "psnr_rgb", w).item() - plain for w in (0.1, 0.2)]
    assert extra[0] > 1 and extra[1] == pytest.approx(2 * extra[0], rel=1e-4)


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_good_checkpoint(tmp_path, tiny_data, monkeypatch):
    run = loop.train(tiny_config(tmp_path, tiny_data, epochs=1), show_progress=False)
    good = weights_of(run)
    real_loss = loop.loss_fn
    monkeypatch.setattr(loop, "loss_fn", lambda *a: real_loss(*a) * float("nan"))
    with pytest.raises(loop.TrainingDiverged, match="nan"):
        loop.train(tiny_config(tmp_path, tiny_data, epochs=2), resume=True, show_progress=False)
    after = weights_of(run)
    assert all(torch.equal(good[k], after[k]) for k in good)


def test_init_from_turns_a_chroma_net_into_an_equivalent_hint_net(tmp_path, tiny_data):
    source = tmp_path / "weights" / "chroma"
    loop.train(tiny_config(tmp_path / "a", tiny_data, model="chroma_unet", loss="mse_cbcr", epochs=1,
                           export=str(source)), show_progress=False)
    hint_net = colorizer.create_model("chroma_unet_hints")
    init_weights(hint_net, source)
    auto_net, _ = colorizer.load_model(source)
    x = torch.randn(2, 1, 24, 40)
    with torch.no_grad():
        expected = auto_net(x)
        got = hint_net.eval()(torch.cat([x, torch.zeros(2, 3, 24, 40)], dim=1))
    torch.testing.assert_close(got, expected)
    run = loop.train(tiny_config(tmp_path / "b", tiny_data, model="chroma_unet_hints", loss="mse_cbcr", epochs=1,
                                 init_from=str(source), hints=True), show_progress=False)
    config = export_run(run / "checkpoint.safetensors", tmp_path / "weights" / "hints", run_eval=False)
    assert config["epochs"] == 2 and config["fine_tuned_from"]["epochs"] == 1
    assert "Fine-tuned" in (tmp_path / "weights" / "hints" / "README.md").read_text()
    # exporting over its own base folder, twice: the base's epochs were recorded when training began
    for _ in range(2):
        config = export_run(run / "checkpoint.safetensors", source, run_eval=False)
        assert config["epochs"] == 2 and config["fine_tuned_from"]["epochs"] == 1


def test_init_from_widens_a_network_without_changing_what_it_computes(tmp_path):
    torch.manual_seed(0)
    narrow = colorizer.create_model("chroma_unet")
    for module in narrow.modules():  # non-trivial batch norm statistics, as after training
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.bias.data.uniform_(-0.2, 0.2)
    colorizer.save_weights(tmp_path / "narrow", narrow, {"architecture": {"name": "chroma_unet", "kwargs": {}},
                                                          "normalization": {"gray_mean": 120.0, "gray_std": 60.0}})
    wide = colorizer.create_model("chroma_unet_hints", widths=(24, 48, 96, 256))
    init_weights(wide, tmp_path / "narrow")
    x = torch.randn(2, 1, 40, 24)
    with torch.no_grad():
        expected = narrow.eval()(x)
        got = wide.eval()(torch.cat([x, torch.randn(2, 3, 40, 24)], dim=1))  # hints start ignored, too
    torch.testing.assert_close(got, expected)
    assert any(p.grad is None for p in wide.parameters())  # untouched so far
    loss = wide.train()(torch.randn(2, 4, 40, 24)).square().mean()
    loss.backward()
    # new channels reach the output through weights that start at zero and get a gradient now
    assert wide.enc3[1][0].weight.grad[:, 192:].abs().sum() > 0
    with pytest.raises(ValueError, match="enc1.0.0.weight"):
        init_weights(colorizer.create_model("chroma_unet", widths=(16, 16, 64, 192)), tmp_path / "narrow")
    colorizer.save_weights(tmp_path / "unet", colorizer.create_model("seed_unet"),
                           {"architecture": {"name": "seed_unet", "kwargs": {}}, "normalization": {"gray_mean": 120.0, "gray_std": 60.0}})
    with pytest.raises(ValueError, match="concat_inputs"):  # its skips are concatenated: no safe mapping known
        init_weights(colorizer.create_model("seed_unet", widths=(32, 64, 256)), tmp_path / "unet")


def test_global_context_starts_as_a_no_op_and_then_sees_the_whole_picture(tmp_path):
    torch.manual_seed(0)
    kwargs = {"widths": (8, 16, 16, 32), "head_width": 8}
    plain = colorizer.create_model("chroma_bins_hints", **kwargs)
    colorizer.save_weights(tmp_path / "plain", plain, {"architecture": {"name": "chroma_bins_hints", "kwargs": kwargs},
                                                        "normalization": {"gray_mean": 120.0, "gray_std": 60.0}})
    grown = colorizer.create_model("chroma_bins_hints", context=True, **kwargs)
    init_weights(grown, tmp_path / "plain")
    x = torch.randn(1, 4, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(grown.eval()(x), plain.eval()(x))
        grown.context[2].weight.normal_()  # as after training: the context now changes the output
        far = x.clone()
        far[..., 48:, 48:] = torch.randn(1, 4, 16, 16)  # change only the far corner
        # the top-left pixel's receptive field in the trunk does not reach that corner; the mean does
        assert not torch.equal(grown(x)[..., 0, 0], grown(far)[..., 0, 0])
        assert torch.equal(plain(x)[..., 0, 0], plain(far)[..., 0, 0])


def test_train_export_load_colorize_round_trip(tmp_path, tiny_data, monkeypatch):
    run = loop.train(tiny_config(tmp_path, tiny_data, epochs=2, export=str(tmp_path / "weights" / "tiny")), show_progress=False)
    folder = tmp_path / "weights" / "tiny"
    config = json.loads((folder / "config.json").read_text())
    assert config["epochs"] == 2 and config["architecture"]["name"] == "seed_cnn"
    assert config["normalization"]["gray_std"] > 0 and config["normalization"]["scheme"] == "standard"
    assert config["train_config"]["lr"] == 1e-4 and config["dtype"] in ("float16", "float32")
    assert {"val_psnr", "evaluation", "best_epoch", "train_loss_sum"} <= set(config["metrics"])
    for name in ("model.safetensors", "README.md", "history.json", "loss_curve.png", "examples_epoch_0001.png"):
        assert (folder / name).exists(), name
    card = (folder / "README.md").read_text()
    assert "## Test-set numbers" in card and "| pooled |" not in card  # one row per test set
    assert set(config["metrics"]["examples"]) == {"cifar10", "emoji", "linnaeus5"}  # the app's examples, by prefix
    assert "| emoji | 18 |" in card
    n_parameters = sum(p.numel() for p in colorizer.load_model(folder)[0].parameters())
    assert f"{n_parameters:,} parameters" in card
    image = Image.new("RGB", (45, 30), (200, 100, 50))
    assert colorizer.load(folder).colorize(image).size == (45, 30)
    monkeypatch.setenv("COLORIZER_WEIGHTS", str(tmp_path / "weights"))
    assert colorizer.load("tiny").name == "tiny"
    # an earlier snapshot exports with its own epoch count and history
    snap = export_run(run / "epoch_0001.safetensors", tmp_path / "weights" / "tiny_1", run_eval=False, default=True)
    assert snap["epochs"] == 1 and snap["inference"]["flip_average"] is False  # the training config's
    assert "planned_epochs" not in snap["metrics"]  # a kept epoch, not a run stopped short (seed_cnn_500 is one)
    mirrored = export_run(run / "epoch_0001.safetensors", tmp_path / "weights" / "tiny_m", run_eval=False, flip_average=True)
    assert mirrored["inference"]["flip_average"] and colorizer.load(tmp_path / "weights" / "tiny_m").flip_average
    assert "mirrored input" in (tmp_path / "weights" / "tiny_m" / "README.md").read_text()
    scaled = export_run(run / "epoch_0001.safetensors", tmp_path / "weights" / "tiny_s", run_eval=False, scales=[1.0, 1.25])
    assert scaled["inference"]["scales"] == [1.0, 1.25] and colorizer.load(tmp_path / "weights" / "tiny_s").scales == (1.0, 1.25)
    assert "1.25x the working size" in (tmp_path / "weights" / "tiny_s" / "README.md").read_text()
    assert "scales" not in snap["inference"]  # one scale unless asked
    # a person's plain-language title and summary survive a re-export over the folder
    card_path = tmp_path / "weights" / "tiny_1" / "README.md"
    card_path.write_text(card_path.read_text().replace("---\n\n#", "title: Tiny one\nsummary: A test network.\n---\n\n#", 1))
    export_run(run / "epoch_0001.safetensors", tmp_path / "weights" / "tiny_1", run_eval=False, default=True)
    assert read_blurb(tmp_path / "weights" / "tiny_1") == {"title": "Tiny one", "summary": "A test network."}
    assert read_blurb(tmp_path / "weights" / "tiny_s") == {}
    with pytest.raises(ValueError, match="scales"):  # refused before a folder load() would reject is written
        export_run(run / "epoch_0001.safetensors", tmp_path / "weights" / "tiny_bad", run_eval=False, scales=[1.25, 1.0])
    assert not (tmp_path / "weights" / "tiny_bad").exists()
    assert colorizer.load().name == "tiny_1"  # exported as the default: served although not the best PSNR
    assert len(json.loads((tmp_path / "weights" / "tiny_1" / "history.json").read_text())["epochs"]) == 1


def test_hints_none_sets_the_share_of_training_images_without_hints():
    model = colorizer.create_model("chroma_unet_hints")
    y, cbcr = torch.rand(400, 1, 16, 16), torch.rand(400, 2, 16, 16) - 0.5

    def hinted_share(p_none):
        x = network_input(model, y, 120.0, 60.0, cbcr, epoch_generator(0, 1), p_none)
        return (x[:, 3].flatten(1).amax(dim=1) > 0).float().mean().item()

    assert hinted_share(1.0) == 0.0 and hinted_share(0.0) == 1.0
    assert 0.15 < hinted_share(0.75) < 0.35
    assert parse_args(["chroma_hints", "--hints_none=0.75"])[0].hints_none == 0.75


def test_epoch_images_draws_a_fresh_share_of_both_pools_each_epoch():
    cfg = TrainConfig(batch_size=4, shuffle="every_epoch", epoch_images=8)
    fixed = torch.arange(12)
    draws = [loop.epoch_batches(12, 30, cfg, epoch, fixed, "cpu") for epoch in range(20)]
    for batches in draws:
        main = torch.cat([i for pool, i in batches if pool == 0])
        extra = torch.cat([i for pool, i in batches if pool == 1])
        assert len(main) == 8 == len(set(main.tolist())) and len(extra) == 20 == len(set(extra.tolist()))  # 30 x 8 / 12
    seen_main = {i for b in draws for pool, index in b if pool == 0 for i in index.tolist()}
    seen_extra = {i for b in draws for pool, index in b if pool == 1 for i in index.tolist()}
    assert seen_main == set(range(12)) and seen_extra == set(range(30))
    whole = loop.epoch_batches(12, 30, TrainConfig(batch_size=4, shuffle="every_epoch"), 0, fixed, "cpu")
    assert sum(len(i) for _, i in whole) == 42


def test_extra_share_oversamples_the_extra_pool_cycling_through_it():
    cfg = TrainConfig(batch_size=4, shuffle="every_epoch", epoch_images=8, extra_share=0.75)
    batches = loop.epoch_batches(12, 10, cfg, 0, torch.arange(12), "cpu")
    main = torch.cat([i for pool, i in batches if pool == 0])
    extra = torch.cat([i for pool, i in batches if pool == 1])
    assert len(main) == 8 and len(extra) == 24  # 8 x 0.75 / 0.25
    assert set(torch.bincount(extra, minlength=10).tolist()) == {2, 3}  # two whole passes, then part of a third
    assert loop.extra_oversampling(cfg, 12, 10) == pytest.approx(3 * 12 / 10)
    assert loop.extra_oversampling(TrainConfig(), 12, 10) == 1.0
    with pytest.raises(ValueError, match="extra_share"):
        loop.train(TrainConfig(extra_share=1.0))


def test_extra_images_are_cropped_at_extra_size(tmp_path, tiny_data, tiny_big, monkeypatch):
    shapes = set()
    real_loss = loop.loss_fn
    monkeypatch.setattr(loop, "loss_fn", lambda model, out, *a: shapes.add(tuple(out.shape[-2:])) or real_loss(model, out, *a))
    cfg = tiny_config(tmp_path, tiny_data, model="chroma_bins_hints", loss="ce_bins", augment=True, epochs=1,
                      extra_train_data=[str(tiny_big)], extra_size=48, grid_epochs=[], keep_epochs=[])
    loop.train(cfg, show_progress=False)
    assert shapes == {(32, 32), (48, 48)}  # CIFAR-size batches and larger crops from the bigger images


def test_a_bin_run_exports_the_decoding_its_config_names(tmp_path, tiny_data):
    shipped = colorizer.read_config(colorizer.weights_dir() / "chroma_bins_hints")
    keys = ("vividness", "vividness_beta", "prior_mix")
    # the from-scratch preset makes what ships: the same network (global context) and decoding
    assert {k: PRESETS["chroma_bins"][k] for k in keys} == {k: shipped["inference"][k] for k in keys}
    assert PRESETS["chroma_bins"]["model_kwargs"] == shipped["architecture"]["kwargs"] == PRESETS["chroma_bins_corpus"]["model_kwargs"]
    run = loop.train(tiny_config(tmp_path, tiny_data, model="chroma_bins_hints", loss="ce_bins", epochs=1, vividness=0.4,
                                 vividness_beta=0.6, prior_mix=0.05), show_progress=False)
    config = export_run(run / "checkpoint.safetensors", tmp_path / "bins", run_eval=False)
    assert {k: config["inference"][k] for k in ("vividness", "vividness_beta", "prior_mix")} == \
        {"vividness": 0.4, "vividness_beta": 0.6, "prior_mix": 0.05}
    assert colorizer.load(tmp_path / "bins").prior_mix == 0.05


def test_a_group_norm_run_exports_a_network_the_pipeline_serves(tmp_path, tiny_data, capsys):
    preset = PRESETS["chroma_hints_scratch_photos_gn"]
    assert preset["model_kwargs"]["norm"] == "group" and not preset["precise_bn"]  # no statistics to compute
    assert preset["export"] != PRESETS["chroma_hints_scratch_photos"]["export"] and not preset["export_default"]
    run = loop.train(tiny_config(tmp_path, tiny_data, model="chroma_unet_hints", epochs=1,
                                 model_kwargs={"widths": [8, 16, 16, 32], "norm": "group"}), show_progress=False)
    assert export_main([str(run / "checkpoint.safetensors"), str(tmp_path / "gn"), "--no-eval"]) == 0
    assert "1 epochs, not evaluated (--no-eval)" in capsys.readouterr().out  # not "validation PSNR nan dB"
    assert colorizer.read_config(tmp_path / "gn")["architecture"]["kwargs"]["norm"] == "group"
    assert "(norm group)" in (tmp_path / "gn" / "README.md").read_text()
    rgb = np.asarray(colorizer.load(tmp_path / "gn").colorize(Image.new("RGB", (45, 30), (200, 100, 50))))
    assert rgb.shape == (30, 45, 3)


def test_a_regression_run_exports_its_vividness_setting(tmp_path, tiny_data):
    run = loop.train(tiny_config(tmp_path, tiny_data, model="chroma_unet_hints", epochs=1, vividness_gain=1.0, vividness=0.2),
                     show_progress=False)
    checkpoint = run / "checkpoint.safetensors"
    inference = export_run(checkpoint, tmp_path / "g", run_eval=False)["inference"]
    assert (inference["vividness_gain"], inference["vividness"]) == (1.0, 0.2) and colorizer.load(tmp_path / "g").vividness == 0.2
    assert not {"vividness", "vividness_gain"} & set(export_run(checkpoint, tmp_path / "p", run_eval=False, vividness_gain=0)["inference"])
    with pytest.raises(ValueError, match="vividness_gain must be from 0 to 4"):
        export_run(checkpoint, tmp_path / "x", run_eval=False, vividness_gain=9)
    assert not (tmp_path / "x").exists()


def test_the_default_from_scratch_preset_makes_the_shipped_network_with_its_inference(tmp_path, tiny_data):
    default = colorizer.default_model_name()
    shipped = colorizer.read_config(colorizer.weights_dir() / default)
    preset = PRESETS["chroma_hints_scratch_mild"]  # one command trains the shipped default from scratch
    assert (preset["export"], preset["export_default"]) == (f"weights/{default}", True)
    assert shipped["train_config"]["model"] == preset["model"] and shipped["train_config"]["epochs"] == preset["epochs"]
    for preset in (PRESETS["chroma_hints_scratch"], preset):
        assert preset["model"] == shipped["architecture"]["name"] and preset["model_kwargs"] == shipped["architecture"]["kwargs"]
        assert (preset["working_size"], preset["flip_average"], preset["scales"]) == \
            (shipped["inference"]["working_size"], shipped["inference"]["flip_average"], shipped["inference"]["scales"])
        assert (preset["vividness_gain"], preset.get("vividness", 0.0)) == \
            (shipped["inference"]["vividness_gain"], shipped["inference"]["vividness"])
    assert not PRESETS["chroma_hints_scratch"].get("export_default")  # the first run's export never replaces the default
    # the config's scales and default flag reach the export (an export option can still override the scales)
    run = loop.train(tiny_config(tmp_path, tiny_data, model="chroma_unet_hints", epochs=1, scales=[1.0, 1.25],
                                 export=str(tmp_path / "w"), export_default=True), show_progress=False)
    assert colorizer.read_config(tmp_path / "w")["default"] is True
    assert export_run(run / "checkpoint.safetensors", tmp_path / "s", run_eval=False)["inference"]["scales"] == [1.0, 1.25]
    assert "scales" not in export_run(run / "checkpoint.safetensors", tmp_path / "o", run_eval=False, scales=[1.0])["inference"]
