"""Edge-aware filters on a small grid, guided by luminance: what lets a stroke's color spread
through its region and stop at the region's edges (``colorizer.propagate``).

- :func:`domain_transform`: the recursive filter of Gastal and Oliveira (SIGGRAPH 2011), a
  smoothing whose weights collapse across a luminance step; O(pixels), a few numpy passes.
- :func:`geodesic_voronoi`: the nearest seed of every pixel along paths that pay for crossing
  luminance (or chroma) steps, and the distance to it.

Both take and return float32 numpy arrays (H x W grids, C x H x W data); they know nothing of
strokes or images.
"""

import numpy as np

__all__ = ["domain_transform", "geodesic_voronoi"]


def _scan(x, a):
    """In place along axis 0 of x (L x C x M): x_j += a_j (x_{j-1} - x_j), then the same
    backwards; a is L x 1 x M, a[j] linking j - 1 and j."""
    for j in range(1, len(x)):
        x[j] += a[j] * (x[j - 1] - x[j])
    for j in range(len(x) - 2, -1, -1):
        x[j] += a[j + 1] * (x[j + 1] - x[j])


def domain_transform(y, data, sigma_s, sigma_r, iterations=3):
    """Edge-aware smoothing of ``data`` (C x H x W float32 numpy) guided by ``y`` (H x W, in
    [0, 1]): the recursive filter of Gastal and Oliveira 2011. ``sigma_s`` in pixels,
    ``sigma_r`` in units of y. Returns C x H x W float32. Each pass is a loop along one axis with
    the other axis vectorized, so it costs about (H + W) numpy steps per pass."""
    ratio = sigma_s / sigma_r
    across_w = (1.0 + ratio * np.abs(np.diff(y, axis=1, prepend=y[:, :1]))).T[:, None, :].astype(np.float32)  # W x 1 x H
    across_h = (1.0 + ratio * np.abs(np.diff(y, axis=0, prepend=y[:1]))).astype(np.float32)[:, None, :]  # H x 1 x W
    x = np.ascontiguousarray(data.transpose(2, 0, 1), dtype=np.float32)  # W x C x H: each step is contiguous
    for i in range(iterations):
        sigma = sigma_s * np.sqrt(3.0) * 2 ** (iterations - i - 1) / np.sqrt(4**iterations - 1)
        a = np.float32(np.exp(-np.sqrt(2.0) / sigma))
        _scan(x, a**across_w)
        x = np.ascontiguousarray(x.transpose(2, 1, 0))  # H x C x W
        _scan(x, a**across_h)
        x = np.ascontiguousarray(x.transpose(2, 1, 0))
    return x.transpose(1, 2, 0)


def _relax(x, label, j, i, cost):
    """Rows j of x and label take row i's path where it is cheaper: x[i] + cost."""
    reached = x[i] + cost
    better = reached < x[j]
    np.copyto(x[j], reached, where=better)
    np.copyto(label[j], label[i], where=better)


def _min_scan(x, label, cost):
    """In place along axis 0 of x (L x M): x_j = min(x_j, x_{j-1} + cost_j), then backwards;
    ``label`` (L x M) follows the cheapest path."""
    for j in range(1, len(x)):
        _relax(x, label, j, j - 1, cost[j])
    for j in range(len(x) - 2, -1, -1):
        _relax(x, label, j, j + 1, cost[j + 1])


def geodesic_voronoi(y, seeds, edge_step, iterations=2):
    """Distance in pixels (H x W float32) from the nearest seed to every pixel of the guide ``y``
    (H x W in [0, 1], or C x H x W channels) and that seed's label (H x W int64): ``seeds`` is
    H x W int64, a label >= 0 at seed pixels and -1 elsewhere. Paths are 4-connected and a step
    costs 1 plus ``|dY / edge_step|^2`` (summed over channels) times the long side: a clear edge
    is far, texture is near. Raster passes along rows and columns (paths turn at most 2 *
    iterations times)."""
    y = y if y.ndim == 3 else y[None]
    long_side = max(y.shape[1:])
    cost_w = (1.0 + long_side * ((np.diff(y, axis=2, prepend=y[:, :, :1]) / edge_step) ** 2).sum(0)).T.astype(np.float32)  # W x H
    cost_h = (1.0 + long_side * ((np.diff(y, axis=1, prepend=y[:, :1]) / edge_step) ** 2).sum(0)).astype(np.float32)  # H x W
    d = np.ascontiguousarray(np.where(seeds >= 0, 0.0, np.inf).astype(np.float32).T)  # W x H
    label = np.ascontiguousarray(seeds.T)
    for _ in range(iterations):
        _min_scan(d, label, cost_w)
        d, label = np.ascontiguousarray(d.T), np.ascontiguousarray(label.T)  # H x W
        _min_scan(d, label, cost_h)
        d, label = np.ascontiguousarray(d.T), np.ascontiguousarray(label.T)
    return d.T, label.T
