"""Chroma bins: quantization, prior, rebalancing weights, decoding, the bin loss and the vividness knob."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import colorizer
from colorizer import bins, create_model, save_weights, to_gray
from colorizer.color import ycbcr_to_rgb
from train.batches import loss_fn, training_prior


def test_bins_are_the_lattice_cells_some_luminance_can_show():
    centers = bins.bin_centers(16)
    assert centers.shape == (bins.num_bins(16), 2) == (180, 2)
    # every centre is shown by the mid-point of the Y range that keeps it in the RGB cube
    offsets = torch.from_numpy(ycbcr_to_rgb(np.c_[np.zeros(len(centers)), centers.numpy()]))
    low, high = -offsets.min(1).values, 1 - offsets.max(1).values
    assert (low <= high + 1e-9).all()
    rgb = torch.from_numpy(ycbcr_to_rgb(np.c_[((low + high) / 2).numpy(), centers.numpy()]))
    assert rgb.min() >= -1e-9 and rgb.max() <= 1 + 1e-9
    # a cell whose centre no Y can show (pure Cb = Cr = 0.47) is not a bin
    assert not ((centers - torch.tensor([15.5 / 16 - 0.5] * 2)).abs().sum(1) < 1e-6).any()
    assert len(bins.bin_centers(10)) < len(centers) < len(bins.bin_centers(20))


def test_quantize_maps_each_centre_to_its_bin_and_others_to_the_nearest():
    centers = bins.bin_centers()
    as_image = centers.T[None, :, :, None]  # 1 x 2 x K x 1
    assert torch.equal(bins.quantize(as_image)[0, :, 0], torch.arange(len(centers)))
    # a point inside a cell, off its centre, still lands in that cell's bin
    assert torch.equal(bins.quantize(as_image + 0.02)[0, :, 0], torch.arange(len(centers)))
    # gray is the bin nearest (0, 0); a saturated corner no Y shows goes to the nearest kept bin
    gray = bins.quantize(torch.zeros(1, 2, 1, 1)).item()
    assert centers[gray].abs().max() == pytest.approx(1 / 32)
    corner = torch.tensor([0.49, 0.49])
    nearest = ((centers - corner) ** 2).sum(1).argmin().item()
    assert bins.quantize(corner[None, :, None, None]).item() == nearest
    counts = bins.bin_counts(torch.zeros(2, 2, 3, 3))
    assert counts.sum() == 18 and counts[gray] == 18


def test_smoothed_prior_is_a_positive_distribution_centred_on_the_counts():
    counts = torch.zeros(bins.num_bins())
    gray = bins.quantize(torch.zeros(1, 2, 1, 1)).item()
    counts[gray] = 1000
    prior = bins.smooth_prior(counts)
    assert prior.dtype == torch.float32 and (prior > 0).all()
    assert prior.sum().item() == pytest.approx(1, abs=1e-5)
    assert prior.argmax().item() == gray
    far = ((bins.bin_centers() - bins.bin_centers()[gray]) ** 2).sum(1).argmax()
    assert prior[far] == pytest.approx(1e-3 / len(prior), rel=1e-3)  # only the uniform floor


def test_training_prior_counts_pixels_and_weighs_crops():
    blue = np.zeros((2, 4, 4, 3), np.uint8)
    blue[..., 2] = 255
    red = np.zeros((1, 4, 4, 3), np.uint8)
    red[..., 0] = 255
    prior = training_prior([(blue, 1.0), (red, 2.0)], 16)  # 32 blue pixels, 16 red counted twice
    b, r = (bins.quantize(torch.tensor(colorizer.rgb_to_ycbcr(c)[1:], dtype=torch.float32)[None, :, None, None]).item()
            for c in ((0, 0, 1), (1, 0, 0)))
    assert b != r and prior[b] == pytest.approx(prior[r], rel=1e-4)
    assert prior[b] > 0.1 and prior.sum().item() == pytest.approx(1, abs=1e-5)


def test_rebalance_weights_known_answers():
    prior = torch.tensor([0.7, 0.2, 0.1])
    assert torch.allclose(bins.rebalance_weights(prior, 1.0), torch.ones(3))  # lambda 1: plain cross-entropy
    w = bins.rebalance_weights(prior, 0.0)  # lambda 0: inverse frequency, the prior's mean weight 1
    assert torch.allclose(w, torch.tensor([1 / 0.7, 1 / 0.2, 1 / 0.1]) / 3)
    half = bins.rebalance_weights(prior, 0.5)
    raw = 1 / (0.5 * prior + 0.5 / 3)
    assert torch.allclose(half, raw / (prior * raw).sum())
    assert (prior * half).sum().item() == pytest.approx(1)
    assert half[2] > half[1] > half[0]  # rare bins weigh more
    with pytest.raises(ValueError, match="lambda"):
        bins.rebalance_weights(prior, 1.5)


def test_annealed_mean_known_answers():
    centers = torch.tensor([[0.0, 0.0], [0.2, -0.1], [-0.3, 0.4]])
    p = torch.tensor([0.5, 0.3, 0.2])
    log_p = p.log()[None, :, None, None]
    mean = bins.annealed_mean(log_p, centers, temperature=1.0)[0, :, 0, 0]
    assert torch.allclose(mean, (p[:, None] * centers).sum(0), atol=1e-6)  # T = 1: the mean
    mode = bins.annealed_mean(log_p, centers, temperature=1e-3)[0, :, 0, 0]
    assert torch.allclose(mode, centers[0], atol=1e-6)  # T -> 0: the mode
    sharper = bins.annealed_mean(log_p, centers, temperature=0.5)[0, :, 0, 0]
    assert (sharper - centers[0]).norm() < (mean - centers[0]).norm()
    with pytest.raises(ValueError, match="temperature"):
        bins.annealed_mean(log_p, centers, temperature=0.0)


def test_prior_correction_known_answers():
    prior = torch.tensor([0.6, 0.3, 0.1])
    log_p = torch.tensor([0.5, 0.3, 0.2]).log()[None, :, None, None]
    assert torch.equal(bins.correct_prior(log_p, prior, 0.0), log_p)  # beta 0: unchanged
    # a network that predicts the prior itself becomes uniform at beta 1
    flat = bins.correct_prior(prior.log()[None, :, None, None], prior, 1.0).exp()[0, :, 0, 0]
    assert torch.allclose(flat, torch.full((3,), 1 / 3), atol=1e-6)
    half = bins.correct_prior(log_p, prior, 0.5).exp()[0, :, 0, 0]
    expected = torch.tensor([0.5, 0.3, 0.2]) * prior**-0.5
    assert torch.allclose(half, expected / expected.sum(), atol=1e-6)


def test_decode_is_the_corrected_annealed_mean_and_prior_mix_bounds_the_correction():
    torch.manual_seed(0)
    logits = torch.randn(1, bins.num_bins(), 2, 3)
    prior = bins.smooth_prior(torch.rand(bins.num_bins()) ** 4)
    log_p = torch.log_softmax(logits, 1)
    expected = bins.annealed_mean(bins.correct_prior(log_p, prior, 0.7), bins.bin_centers(), 0.5)
    assert torch.allclose(bins.decode(logits, prior, 0.5, 0.7), expected, atol=1e-6)
    mixed = 0.8 * prior + 0.2 / len(prior)
    expected = bins.annealed_mean(bins.correct_prior(log_p, mixed, 0.7), bins.bin_centers(), 0.5)
    assert torch.allclose(bins.decode(logits, prior, 0.5, 0.7, prior_mix=0.2), expected, atol=1e-6)
    # prior_mix 1 divides out a uniform prior: no correction at all
    assert torch.allclose(bins.decode(logits, prior, 0.5, 0.7, prior_mix=1.0), bins.decode(logits, prior, 0.5, 0.0), atol=1e-6)


def test_ce_bins_loss_is_cross_entropy_and_rebalancing_weighs_rare_bins():
    torch.manual_seed(0)
    model = create_model("chroma_bins_hints", widths=(4, 8, 8, 8), head_width=4)
    cbcr = torch.rand(2, 2, 8, 8) * 0.4 - 0.2
    logits = torch.randn(2, bins.num_bins(), 8, 8)
    target = bins.quantize(cbcr)
    plain = loss_fn(model, logits, None, None, cbcr, "ce_bins")
    assert plain.item() == pytest.approx(F.cross_entropy(logits, target).item(), rel=1e-6)
    model.bin_prior.copy_(bins.smooth_prior(bins.bin_counts(cbcr)))
    weights = bins.rebalance_weights(model.bin_prior, 0.5)[target]
    rebalanced = loss_fn(model, logits, None, None, cbcr, "ce_bins", rebalance=0.5)
    assert rebalanced.item() == pytest.approx((weights * F.cross_entropy(logits, target, reduction="none")).mean().item(), rel=1e-5)
    with pytest.raises(ValueError, match="bin network"):
        loss_fn(create_model("chroma_unet"), torch.zeros(1, 2, 8, 8), None, None, cbcr[:1], "ce_bins")


def bins_weights(folder, **inference):
    """A small bin network whose prior favours gray, so that prior correction visibly matters."""
    torch.manual_seed(0)
    model = create_model("chroma_bins_hints", widths=(8, 16, 16, 16), head_width=8)
    counts = torch.ones(bins.num_bins())
    counts[bins.quantize(torch.zeros(1, 2, 1, 1)).item()] = 1000
    model.bin_prior.copy_(bins.smooth_prior(counts))
    config = {"architecture": {"name": "chroma_bins_hints", "kwargs": {"widths": [8, 16, 16, 16], "head_width": 8}},
              "normalization": {"gray_mean": 120.0, "gray_std": 60.0, "scheme": "standard"},
              "inference": {"working_size": 64, "vividness": 0.5, "vividness_beta": 0.5, "temperature": 0.38, **inference}}
    save_weights(folder, model, config, half=True)
    return folder


def test_vividness_moves_colors_and_keeps_luminance(tmp_path):
    model = colorizer.load(bins_weights(tmp_path / "bins"))
    assert model.vividness == 0.5 and model.working_shape(300, 200) == (64, 40)
    rgb = np.random.default_rng(0).integers(0, 256, (90, 130, 3), dtype=np.uint8)
    outs = {v: np.asarray(model.colorize(rgb, vividness=v)).astype(int) for v in (0.0, 0.5, 1.0)}
    assert np.array_equal(np.asarray(model.colorize(rgb)), outs[0.5])  # the config's default
    assert np.array_equal(np.asarray(model.colorize(rgb, vividness=1)), outs[1.0])  # deterministic

    def chroma(out):
        return np.abs(out - out.mean(-1, keepdims=True)).mean()

    assert chroma(outs[0.0]) < chroma(outs[0.5]) < chroma(outs[1.0])  # less of the gray prior, more color
    for out in outs.values():
        assert np.abs(np.rint(to_gray(out.astype(np.uint8))) - np.rint(to_gray(rgb))).max() <= 1


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -0.1, 1.5, True, "1", None])
def test_bad_vividness_is_one_clear_line(tmp_path, bad):
    model = colorizer.load(bins_weights(tmp_path / "bins"))
    if bad is None:  # None is the default, not an error
        model.colorize(np.zeros((8, 8), np.uint8), vividness=bad)
        return
    with pytest.raises(ValueError, match="vividness must be a number from 0 to 1") as e:
        model.colorize(Image.new("L", (8, 8)), vividness=bad)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("key,value", [("vividness", 2), ("vividness", "high"), ("vividness_beta", 0), ("temperature", -1),
                                       ("temperature", None), ("prior_mix", 1.5), ("prior_mix", "x")])
def test_bad_decoding_settings_in_config_are_refused_at_load(tmp_path, key, value):
    folder = bins_weights(tmp_path / "bins")
    config = json.loads((folder / "config.json").read_text())
    config["inference"][key] = value
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(colorizer.WeightsError, match=key):
        colorizer.load(folder)


def test_a_prior_that_is_not_a_distribution_is_refused_at_load(tmp_path):
    from safetensors.torch import load_file, save_file

    folder = bins_weights(tmp_path / "bins")
    state = load_file(str(folder / "model.safetensors"))
    state["bin_prior"] = torch.zeros_like(state["bin_prior"])
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(colorizer.WeightsError, match="bin_prior"):
        colorizer.load(folder)
