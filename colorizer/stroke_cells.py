"""Stroke pixels and their places on coarse grids, shared by the stroke steps
(``colorizer.propagate``, ``colorizer.regrade``).

A stroke pixel is a flat index into the full-size H x W image; a grid is a (h, w) shape of at most
a given long side; a stroke is an 8-connected group of the grid cells that stroke pixels fall in
(two dabs in touching cells are one stroke).
"""

import numpy as np

from .regions import connected_regions

__all__ = ["point_pixels", "stroke_pixels", "stroke_groups", "pixel_strokes", "grid_shape", "grid_cells", "splat"]


def stroke_groups(mask):
    """8-connected groups of True pixels in ``mask`` (H x W bool): H x W int64, the group's
    number (0, 1, ... in raster order of the groups' first pixels) at its pixels, -1 elsewhere."""
    groups = np.full(mask.shape, -1, dtype=np.int64)
    if mask.any():
        groups[mask] = np.unique(connected_regions(mask, diagonal=True)[mask], return_inverse=True)[1]
    return groups


def point_pixels(points, height, width):
    """``parse_hints`` output (xs, ys in input pixels) -> K flat indices into H x W (int64), one per
    point, out-of-image points clamped to the border."""
    xs, ys, _ = points
    return np.clip(np.asarray(ys, dtype=np.int64), 0, height - 1) * width + np.clip(np.asarray(xs, dtype=np.int64), 0, width - 1)


def stroke_pixels(points, height, width):
    """``parse_hints`` output (xs, ys in input pixels, cbcr K x 2) -> the stroke pixels (K' sorted
    flat indices into H x W, int64; out-of-image points clamped to the border) and their Cb Cr
    (K' x 2 float64), the points on one pixel averaged."""
    cbcr = points[2]
    flat, inverse, counts = np.unique(point_pixels(points, height, width), return_inverse=True, return_counts=True)
    mean = np.stack([np.bincount(inverse, weights=cbcr[:, c], minlength=len(flat)) for c in range(2)], 1) / counts[:, None]
    return flat, mean


def pixel_strokes(cells, grid):
    """The stroke of each stroke pixel: cells (its gate-grid cell, flat, from :func:`grid_cells`) ->
    the number of the 8-connected group of stroke cells (:func:`stroke_groups`) it lies in."""
    mask = np.zeros(grid[0] * grid[1], dtype=bool)
    mask[cells] = True
    return stroke_groups(mask.reshape(grid)).reshape(-1)[cells]


def grid_shape(height, width, size):
    """(h, w): the image's shape shrunk to a long side of at most ``size`` (never grown), each side >= 1."""
    shrink = min(1.0, size / max(height, width))
    return max(1, round(height * shrink)), max(1, round(width * shrink))


def grid_cells(flat, height, width, grid):
    """Flat indices of full-size pixels -> flat indices of the grid cells they fall in."""
    h, w = grid
    return (flat // width * h // height) * w + (flat % width) * w // width


def splat(flat, values, height, width, grid):
    """Area-average of sparse full-size pixel values (K x C at flat indices) onto the grid:
    C x h x w, each input pixel adding 1 / (input pixels per grid cell)."""
    h, w = grid
    cell = grid_cells(flat, height, width, grid)
    area = (height / h) * (width / w)
    return np.stack([np.bincount(cell, weights=v, minlength=h * w) for v in values.T]).reshape(-1, h, w) / area, area
