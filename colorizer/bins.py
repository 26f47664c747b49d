"""Chroma as a distribution: quantized CbCr bins, their prior, and decoding back to chroma.

A bin network (``output = "bins"``) predicts, per pixel, logits over K chroma bins: the
centres of a ``grid`` x ``grid`` lattice on the CbCr square [-0.5, 0.5]^2 that some luminance can
show (see :func:`bin_centers`). Trained with cross-entropy it does not regress to the mean of
the plausible colors (which is brown); the decoding chooses how far to go from the mean:

- :func:`annealed_mean` (Zhang et al., ECCV 2016): the mean of the distribution sharpened by a
  temperature T (T = 1: the plain mean; T -> 0: the mode);
- prior correction: ``p * prior^-beta`` renormalized, i.e. dividing out part of the training
  set's bin frequencies, which are dominated by dull colors. beta = 0 changes nothing.

Rebalancing weights for training (:func:`rebalance_weights`) are the ECCV 2016 recipe.
All tensors are float32 (bin indices int64); chroma is centred as in ``colorizer.color``.
"""

import functools

import numpy as np
import torch
import torch.nn.functional as F

from .color import _YCBCR_TO_RGB

__all__ = ["GRID", "bin_centers", "num_bins", "quantize", "bin_counts", "smooth_prior", "rebalance_weights", "correct_prior",
           "annealed_mean", "decode"]

GRID = 16  # default lattice: 16 x 16 cells of 1/16 on each chroma axis (the pilots)
TEMPERATURE = 0.38  # the ECCV 2016 annealed-mean temperature; a config may set its own


def _lattice(grid):
    """(grid*grid) x 2 float64 centres of all cells, row-major over (cb, cr)."""
    axis = (np.arange(grid) + 0.5) / grid - 0.5
    cb, cr = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([cb.ravel(), cr.ravel()], axis=1)


def _in_gamut(cbcr):
    """Whether some Y in [0, 1] puts Y + chroma inside the RGB cube: the spread of the RGB
    offsets the chroma adds (max - min over R, G, B) must be at most 1."""
    offsets = cbcr @ _YCBCR_TO_RGB[:, 1:].T
    return offsets.max(axis=1) - offsets.min(axis=1) <= 1.0


def bin_centers(grid=GRID):
    """K x 2 float32 tensor: the (cb, cr) centres of the lattice cells that are in gamut."""
    return _centers(grid).clone()


@functools.lru_cache(maxsize=None)
def _centers(grid):
    centres = _lattice(grid)
    return torch.from_numpy(centres[_in_gamut(centres)].astype(np.float32))


def num_bins(grid=GRID):
    """K, the number of in-gamut bins of a ``grid`` lattice (180 for 16)."""
    return len(_centers(grid))


@functools.lru_cache(maxsize=None)
def _cell_to_bin(grid):
    """(grid*grid,) int64: for every lattice cell the index of the nearest in-gamut bin."""
    cells = _lattice(grid)
    kept = cells[_in_gamut(cells)]
    return torch.from_numpy(((cells[:, None] - kept[None]) ** 2).sum(-1).argmin(1))


def quantize(cbcr, grid=GRID):
    """N x 2 x H x W chroma -> N x H x W int64 bin index: the lattice cell holding each value,
    or the nearest in-gamut bin when that cell's centre is out of gamut."""
    cell = ((cbcr + 0.5) * grid).floor().long().clamp_(0, grid - 1)
    return _cell_to_bin(grid).to(cbcr.device)[cell[:, 0] * grid + cell[:, 1]]


def bin_counts(cbcr, grid=GRID):
    """K float64 counts of the pixels of N x 2 x H x W chroma in each bin."""
    return torch.bincount(quantize(cbcr, grid).flatten(), minlength=num_bins(grid)).double()


def smooth_prior(counts, grid=GRID, sigma=1.0, floor=1e-3):
    """Bin frequencies from ``counts`` (K), smoothed with a Gaussian of ``sigma`` cells on the
    lattice and mixed with a ``floor`` share of the uniform distribution, so that no bin has
    probability 0 (prior correction divides by it). Returns K float32, summing to 1."""
    centres = _centers(grid).double()
    dist2 = ((centres[:, None] - centres[None]) ** 2).sum(-1) * grid**2  # squared distance in cells
    smoothed = torch.exp(-dist2 / (2 * sigma**2)) @ (counts.double() / counts.sum().clamp_min(1))
    smoothed = smoothed / smoothed.sum()
    return ((1 - floor) * smoothed + floor / len(counts)).float()


def rebalance_weights(prior, lam):
    """ECCV 2016 class rebalancing: w proportional to 1 / ((1 - lam) * prior + lam / K),
    normalized so that the prior's expected weight is 1. lam = 1 gives all weights 1 (plain
    cross-entropy); small lam weighs rare (vivid) bins up. prior: K, summing to 1."""
    if not 0 <= lam <= 1:
        raise ValueError(f"rebalance lambda must be in [0, 1], got {lam}")
    w = 1.0 / ((1 - lam) * prior + lam / len(prior))
    return w / (prior * w).sum()


def correct_prior(log_p, prior, beta):
    """log of ``p * prior^-beta``, renormalized over the bin axis (dim 1 of N x K x H x W
    log-probabilities; prior: K). beta = 0 returns ``log_p`` unchanged."""
    if beta == 0:
        return log_p
    return torch.log_softmax(log_p - beta * prior.log().to(log_p)[None, :, None, None], dim=1)


def annealed_mean(log_p, centers, temperature=TEMPERATURE):
    """Chroma N x 2 x H x W from log-probabilities N x K x H x W: the mean of the distribution
    sharpened to ``softmax(log p / T)``. T = 1 is the mean, T -> 0 the mode's centre."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    q = torch.softmax(log_p / temperature, dim=1)
    return torch.einsum("nkhw,kc->nchw", q, centers.to(q))


def decode(logits, prior, temperature=TEMPERATURE, beta=0.0, grid=GRID, prior_mix=0.0):
    """A bin network's logits N x K x H x W -> chroma N x 2 x H x W: prior correction with
    ``beta``, then the annealed mean at ``temperature``. ``prior_mix`` > 0 divides out the prior
    mixed with that share of the uniform distribution instead (the rebalancing recipe's lambda):
    it bounds how far the rarest bins, whose small probabilities a network estimates worst, can be
    raised."""
    if prior_mix:
        prior = (1 - prior_mix) * prior + prior_mix / len(prior)
    log_p = correct_prior(F.log_softmax(logits.float(), dim=1), prior, beta)
    return annealed_mean(log_p, _centers(grid), temperature)
