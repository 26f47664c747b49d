"""The edge-aware filters (colorizer.edge_aware) and the stroke-cell bookkeeping
(colorizer.stroke_cells) that the stroke steps are built from, each against a known answer."""

import numpy as np
import pytest

from colorizer.edge_aware import domain_transform, geodesic_voronoi
from colorizer.stroke_cells import grid_cells, grid_shape, pixel_strokes, splat, stroke_groups, stroke_pixels


def step_image(size=32):
    """H x W float32: left half 0.2, right half 0.8 (a clear luminance edge down the middle)."""
    return np.where(np.arange(size)[None, :] < size // 2, 0.2, 0.8).astype(np.float32) * np.ones((size, 1), np.float32)


def test_domain_transform_keeps_a_constant_and_smooths_a_flat_image():
    y = np.full((24, 40), 0.5, np.float32)
    constant = np.full((2, 24, 40), 0.3, np.float32)
    assert np.allclose(domain_transform(y, constant, 8.0, 0.04), 0.3, atol=1e-5)
    impulse = np.zeros((1, 24, 40), np.float32)
    impulse[0, 12, 10] = 1.0
    spread = domain_transform(y, impulse, 8.0, 0.04)
    assert spread.shape == (1, 24, 40) and spread.dtype == np.float32
    assert spread[0, 12, 10] < 0.1 and spread[0, 12, 20] > 0.1 * spread[0, 12, 10]  # it spreads on flat ground


def test_domain_transform_stops_at_a_luminance_edge():
    y = step_image()
    mass = np.zeros((1, 32, 32), np.float32)
    mass[0, 10:22, 4:8] = 1.0  # well inside the left half
    spread = domain_transform(y, mass, 16.0, 0.04)[0]
    flat = domain_transform(np.full_like(y, 0.2), mass, 16.0, 0.04)[0]
    assert flat[:, 20:].mean() > 0.1 * flat[:, :12].mean()  # without the edge the right half gets plenty
    assert spread[:, 20:].max() < 1e-3 * spread[:, :12].mean()  # across it, almost nothing


def test_geodesic_voronoi_is_city_block_distance_on_flat_ground():
    y = np.zeros((9, 11), np.float32)
    seeds = np.full((9, 11), -1, np.int64)
    seeds[2, 3], seeds[7, 9] = 0, 1
    distance, label = geodesic_voronoi(y, seeds, 0.15)
    rows, cols = np.mgrid[:9, :11]
    to_first, to_second = abs(rows - 2) + abs(cols - 3), abs(rows - 7) + abs(cols - 9)
    assert np.array_equal(distance, np.minimum(to_first, to_second).astype(np.float32))
    clear = to_first != to_second
    assert np.array_equal(label[clear], np.where(to_first < to_second, 0, 1)[clear])


def test_geodesic_voronoi_labels_each_side_of_an_edge_by_its_own_seed():
    y = step_image()
    seeds = np.full(y.shape, -1, np.int64)
    seeds[16, 2] = 0  # far left, in the dark half
    seeds[16, 17] = 1  # just right of the edge, in the light half
    distance, label = geodesic_voronoi(y, seeds, 0.15)
    assert (label[:, :16] == 0).all() and (label[:, 16:] == 1).all()  # the dark half's right edge is nearer seed 1 in pixels
    assert distance[16, 15] == 13.0  # reached from seed 0 along the row, not across the edge
    # the same guide as channels (C x H x W) gives the same answer
    assert np.array_equal(geodesic_voronoi(y[None], seeds, 0.15)[1], label)


def test_stroke_groups_are_8_connected():
    mask = np.zeros((6, 6), bool)
    mask[0, 0] = mask[1, 1] = True  # diagonal neighbours: one group
    mask[4, 3:6] = True  # a separate bar
    groups = stroke_groups(mask)
    assert groups[0, 0] == groups[1, 1] != groups[4, 3] == groups[4, 5]
    assert sorted(np.unique(groups)) == [-1, 0, 1] and (groups[~mask] == -1).all()


def flood_fill_groups(mask):
    """The reference: each group's pixels found by a plain 8-neighbour flood fill, as sets."""
    todo, groups = set(zip(*np.nonzero(mask))), []
    while todo:
        stack, group = [todo.pop()], set()
        while stack:
            row, col = stack.pop()
            group.add((row, col))
            for pixel in ((row + dr, col + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)):
                if pixel in todo:
                    todo.remove(pixel)
                    stack.append(pixel)
        groups.append(frozenset(group))
    return set(groups)


@pytest.mark.parametrize("density", [0.1, 0.3, 0.5])
def test_stroke_groups_match_a_flood_fill_on_random_masks(density):
    mask = np.random.default_rng(int(density * 10)).random((40, 50)) < density
    groups = stroke_groups(mask)
    found = {frozenset(zip(*np.nonzero(groups == g))) for g in range(groups.max() + 1)}
    assert found == flood_fill_groups(mask) and (groups[~mask] == -1).all()
    firsts = [np.flatnonzero(groups.reshape(-1) == g)[0] for g in range(groups.max() + 1)]
    assert firsts == sorted(firsts)  # numbered in raster order of their first pixels


def test_stroke_pixels_average_repeated_points_and_clamp_to_the_image():
    xs, ys = np.array([1, 1, 50, -3]), np.array([2, 2, 0, 4])
    cbcr = np.array([[0.1, -0.1], [0.3, 0.1], [0.2, 0.2], [-0.2, 0.0]])
    flat, mean = stroke_pixels((xs, ys, cbcr), 5, 10)
    assert flat.tolist() == [9, 21, 40]  # (0, 9) clamped, (2, 1) twice, (4, 0) clamped
    assert np.allclose(mean, [[0.2, 0.2], [0.2, 0.0], [-0.2, 0.0]])


def test_grid_cells_count_strokes_and_splat_area_averages():
    height, width = 100, 200
    grid = grid_shape(height, width, 64)
    assert grid == (32, 64) and grid_shape(20, 30, 64) == (20, 30)  # shrunk, never grown
    flat = np.array([0, 1, 3, 199, 99 * 200 + 199])  # three pixels in cell 0, the top-right, the bottom-right
    cells = grid_cells(flat, height, width, grid)
    assert cells.tolist() == [0, 0, 0, 63, 32 * 64 - 1]
    strokes = pixel_strokes(cells, grid)  # numbered in no promised order: check the partition
    assert len(set(strokes[:3])) == 1 and len(set(strokes)) == 3 and sorted(set(strokes)) == [0, 1, 2]
    stack, area = splat(flat, np.ones((5, 1)), height, width, grid)
    assert area == (100 / 32) * (200 / 64) and stack.shape == (1, 32, 64)
    assert np.isclose(stack[0, 0, 0], 3 / area) and np.isclose(stack.sum(), 5 / area)
