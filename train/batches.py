"""Turning uint8 images into network batches and outputs into RGB and losses.

All functions work on whatever device the tensors are on (the whole data set sits on the GPU
during CUDA training) and take an explicit ``torch.Generator`` so that a run is reproducible
and a resumed run draws exactly what an uninterrupted one would.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from colorizer.bins import bin_counts, decode, quantize, rebalance_weights, smooth_prior
from colorizer.color import GRAY_WEIGHTS, rgb_to_ycbcr_torch, ycbcr_to_rgb_in_gamut
from colorizer.hints import sample_hints
from colorizer.sketch import page_mask

from .lineart import drawing_views

__all__ = ["gray_stats", "split_color", "batch_views", "augment", "MIN_CROP_SCALE", "EXTRA_MIN_CROP_SCALE", "epoch_generator", "network_input", "forward_rgb", "colorfulness_torch", "loss_fn",
           "training_prior"]


def gray_stats(images_uint8, scheme="standard"):
    """(mean, std) of the original's gray over a N x H x W x 3 uint8 training set, 0..255 units.

    scheme "standard" gives the true standard deviation; "seed_mean" reproduces the original
    notebook, which computed ``STD = mean(...)`` and so standardized with ``(x - mean) / mean``.
    """
    total, total_sq, count = 0.0, 0.0, 0
    weights = np.asarray(GRAY_WEIGHTS)
    for start in range(0, len(images_uint8), 4096):  # chunks keep float64 copies small
        gray = images_uint8[start : start + 4096].astype(np.float64) @ weights
        total += gray.sum()
        total_sq += (gray * gray).sum()
        count += gray.size
    mean = total / count
    std = math.sqrt(max(total_sq / count - mean * mean, 0.0))
    if scheme == "seed_mean":
        return mean, mean
    if scheme != "standard":
        raise ValueError(f"unknown normalization {scheme!r}; use 'standard' or 'seed_mean'")
    return mean, std


def split_color(rgb_uint8):
    """N x H x W x 3 uint8 -> (rgb N x 3 x H x W in [0, 1], y N x 1 x H x W in [0, 1],
    cbcr N x 2 x H x W centred chroma), float32 on the input's device."""
    rgb = rgb_uint8.permute(0, 3, 1, 2).float().div_(255.0)
    ycbcr = rgb_to_ycbcr_torch(rgb)
    return rgb, ycbcr[:, :1], ycbcr[:, 1:]


def batch_views(model, rgb_uint8):
    """(target rgb, network's gray input y, cbcr) of N x H x W x 3 uint8 pictures for ``model``:
    :func:`split_color`, or for a line-art network (``task == "sketch"``) the picture with a white
    page and its line drawing (``train.lineart``)."""
    if model.task != "sketch":
        return split_color(rgb_uint8)
    rgb, drawing = drawing_views(rgb_uint8)
    return rgb, drawing, rgb_to_ycbcr_torch(rgb)[:, 1:]


def training_prior(sets, grid):
    """Smoothed chroma-bin frequencies (``colorizer.bins.smooth_prior``, K float32) of training
    sets given as [(N x H x W x 3 uint8 array, weight per pixel)]: a weight below 1 counts a set
    as seen through smaller crops, as training sees it."""
    counts = 0
    for images, weight in sets:
        for start in range(0, len(images), 2048):
            _, _, cbcr = split_color(torch.from_numpy(np.ascontiguousarray(images[start : start + 2048])))
            counts = counts + weight * bin_counts(cbcr, grid)
    return smooth_prior(counts, grid)


def epoch_generator(seed, epoch, stream=0):
    """A CPU generator whose draws depend only on (seed, epoch, stream): resuming at any epoch
    reproduces the uninterrupted run without saving RNG state."""
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch) * 7 + stream)


# Smallest crop of augment, as a share of the short side: the main set's 32 px thumbnails keep most of
# the picture; the extra set (kept at twice its crop size) gives crops from a quarter of it to all.
MIN_CROP_SCALE = 0.6
EXTRA_MIN_CROP_SCALE = 0.25


def augment(rgb_uint8, out_size, min_scale, generator):
    """Random horizontal flips and scale-jittered square crops, resized to ``out_size``.

    rgb_uint8: N x H x W x 3 uint8. Each image gets a crop of side ``s * min(H, W)``,
    s uniform in [min_scale, 1], at a uniform position. Returns N x out x out x 3 uint8
    (uint8 again so the color split of :func:`split_color` applies unchanged).
    """
    n, h, w, _ = rgb_uint8.shape
    device = rgb_uint8.device
    scale = torch.empty(n).uniform_(min_scale, 1.0, generator=generator)
    # Crop centre offsets in normalized coordinates, keeping the crop inside the image.
    tx = (torch.rand(n, generator=generator) * 2 - 1) * (1 - scale)
    ty = (torch.rand(n, generator=generator) * 2 - 1) * (1 - scale)
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = scale * flip * min(h, w) / w
    theta[:, 1, 1] = scale * min(h, w) / h
    theta[:, 0, 2] = tx
    theta[:, 1, 2] = ty
    images = rgb_uint8.permute(0, 3, 1, 2).float()
    # Shrinking by more than 2x would alias: pre-shrink with area averaging first.
    factor = int(min(h, w) * min_scale // (2 * out_size))
    if factor > 1:
        images = F.avg_pool2d(images, factor)
    grid = F.affine_grid(theta.to(device), (n, 3, out_size, out_size), align_corners=False)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def network_input(model, y, gray_mean, gray_std, cbcr=None, generator=None, p_none=0.5):
    """Standardized gray (+ simulated hints when ``generator`` is given; a fraction ``p_none``
    of the images gets none) for ``model``; for a line-art network, the standardized drawing and
    its page mask."""
    x = (y * 255.0 - gray_mean) / gray_std
    if model.task == "sketch":  # a line-art network: y is the drawing; + its page
        return torch.cat([x, page_mask(y)], dim=1)
    if model.in_channels == 1:
        return x
    if generator is None:
        hints = torch.zeros(x.shape[0], 3, *x.shape[-2:], device=x.device)
    else:
        hints = sample_hints(cbcr, p_none=p_none, generator=generator)
    return torch.cat([x, hints], dim=1)


def forward_rgb(model, out, y):
    """The network's output as RGB in [0, 1] (chroma networks: Y + gamut-fitted chroma; bin
    networks: their distribution's annealed mean, without prior correction)."""
    if model.output == "rgb":
        return out
    if model.output == "bins":
        out = decode(out, model.bin_prior, grid=model.grid)
    return ycbcr_to_rgb_in_gamut(y, out)


# MSE (RGB in [0, 1]) of an 8-bit image at the 50 dB PSNR cap: 255^2 / 10^5 / 255^2.
MSE_AT_CAP = 1e-5


def colorfulness_torch(rgb, mask=None):
    """Hasler-Suesstrunk colorfulness per image, differentiable: rgb N x 3 x H x W in [0, 1] ->
    (N,) float on the 0..255 scale of :func:`colorizer.metrics.colorfulness_batch`; over the
    pixels where ``mask`` (N x H x W bool) is true only, if given."""
    r, g, b = (rgb * 255.0).unbind(dim=1)
    rg, yb = r - g, 0.5 * (r + g) - b
    weight = torch.ones_like(rg) if mask is None else mask.to(rg.dtype)
    count = weight.sum(dim=(1, 2)).clamp_min(1.0)

    def mean(x):
        return (weight * x).sum(dim=(1, 2)) / count

    mean_rg, mean_yb = mean(rg), mean(yb)
    var_rg, var_yb = mean((rg - mean_rg[:, None, None]).square()), mean((yb - mean_yb[:, None, None]).square())
    # The small constants keep the square roots' gradients finite on flat gray images.
    spread = (var_rg + var_yb + 1e-6).sqrt()
    return spread + 0.3 * (mean_rg.square() + mean_yb.square() + 1e-6).sqrt()


def loss_fn(model, out, rgb, y, cbcr, kind, colorfulness_weight=0.0, rebalance=1.0):
    """Scalar loss: "mse_rgb" (the original's MSE on RGB in [0, 1]), "mse_cbcr" (on chroma), or
    "psnr_rgb": the negative mean per-image PSNR on RGB, soft-capped at 50 dB, i.e. exactly the
    evaluation's metric. Unlike a pooled MSE it rewards leaving near-gray images gray.

    "ce_bins" (bin networks): per-pixel cross-entropy of the logits against each pixel's chroma
    bin (``colorizer.bins.quantize``), so the network learns a distribution and no longer pays
    for a vivid guess with the squared distance to the truth. ``rebalance`` < 1 weighs each
    pixel by :func:`colorizer.bins.rebalance_weights` of its bin with that lambda (rare, vivid
    bins up; ECCV 2016 used 0.5); 1 is plain cross-entropy.

    ``colorfulness_weight`` > 0 adds that weight times each image's colorfulness deficit (how far
    the output's colorfulness falls below the original's, 0..255 scale), averaged. Any MSE-family
    loss predicts the mean of the plausible colors, which is washed out; this term lets the
    network pay some error for vivid colors where it is sure enough of the hue, which costs far
    less PSNR than scaling all chroma up afterwards."""
    if kind == "ce_bins":
        if model.output != "bins":
            raise ValueError(f"loss 'ce_bins' needs a bin network, {type(model).__name__} predicts {model.output}")
        target = quantize(cbcr, model.grid)
        if rebalance == 1:
            return F.cross_entropy(out, target)
        weights = rebalance_weights(model.bin_prior, rebalance)[target]
        return (weights * F.cross_entropy(out, target, reduction="none")).mean()
    if kind not in ("mse_rgb", "psnr_rgb", "mse_cbcr"):
        raise ValueError(f"unknown loss {kind!r}; use 'mse_rgb', 'mse_cbcr', 'psnr_rgb' or 'ce_bins'")
    rgb_pred = forward_rgb(model, out, y) if kind != "mse_cbcr" or colorfulness_weight else None
    if kind == "mse_rgb":
        loss = F.mse_loss(rgb_pred, rgb)
    elif kind == "psnr_rgb":
        mse = (rgb_pred - rgb).square().mean(dim=(1, 2, 3))
        loss = 10 * torch.log10(mse + MSE_AT_CAP).mean()
    else:
        pred = out if model.output == "cbcr" else rgb_to_ycbcr_torch(out)[:, 1:]
        loss = F.mse_loss(pred, cbcr)
    if colorfulness_weight:
        # A line-art network's white page is left out: a tinted page would raise the color spread
        # cheaply (it did: pages came out pale cyan, Delta E 6-14 from white).
        mask = (rgb < 1).any(dim=1) if model.task == "sketch" else None
        deficit = (colorfulness_torch(rgb, mask) - colorfulness_torch(rgb_pred, mask)).relu()
        loss = loss + colorfulness_weight * deficit.mean()
    return loss
