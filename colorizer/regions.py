"""Labels on a pixel grid: connected regions, and each pixel's nearest seed along paths that stay
on passable pixels (shortest 4-neighbour paths, ties to the lower label). Numpy only (no scipy),
in blocks, so that a 16 MP drawing needs tens of MB of temporaries. Sketch mode
(``colorizer.sketch``) fills a drawing's regions with these; a line-art network's page channel is
:func:`spread` from the border.

Distances and labels travel together as one int64, ``distance * step + label`` (``step`` a power
of two above every label, :func:`label_step`), so a running minimum keeps the nearest seed and,
between equally near ones, the lower label; ``FAR`` marks a pixel no seed reached.
"""

import numpy as np

__all__ = ["FAR", "BLOCK", "MAX_SWEEPS", "LINE_ROUNDS", "spread", "label_step", "nearest_labels", "connected_regions", "label_regions",
           "label_lines"]

MAX_SWEEPS = 64  # row + column sweep pairs at most; drawings measured need under 10
LINE_ROUNDS = 16  # breadth-first rounds into the lines (a round per pixel of distance) before the sweeps take over
_SEGMENT = 2**42  # above any distance * step + label; separates runs in _scan_rows
FAR = 2**61  # unreached
BLOCK = 1 << 18  # pixels per block of a sweep: bounds its temporaries (2 MB each)


def _scan_rows(value, passable, step):
    """One shortest-path sweep along every row, both directions, in place: value (R x W int64,
    ``distance * step + label``, ``FAR`` if unreached) moves along runs of passable pixels at
    ``step`` per pixel. A run's minimum of ``value_k - k * step`` is a running minimum
    (``np.minimum.accumulate``); an offset of ``_SEGMENT`` per run keeps runs apart. In blocks
    of rows, so the temporaries stay small at 16 MP. Returns whether any value fell."""
    changed, rows = False, max(1, BLOCK // value.shape[1])
    for start in range(0, len(value), rows):
        block, open_ = value[start : start + rows], passable[start : start + rows]
        for flip in (False, True):
            v, p = (block[:, ::-1], open_[:, ::-1]) if flip else (block, open_)
            offset = np.arange(v.shape[1], dtype=np.int64) * step + np.cumsum(~p, axis=1, dtype=np.int64) * _SEGMENT
            best = np.minimum.accumulate(v - offset, axis=1) + offset
            best = np.where(p & (best < _SEGMENT), best, FAR)
            changed = changed or bool((best < v).any())
            np.minimum(v, best, out=v)
    return changed


def _scan_columns(value, passable, step):
    """:func:`_scan_rows` down the columns of value (N x H x W, in place), a block of columns at
    a time copied out transposed (a whole transposed copy would double the memory)."""
    changed, height = False, value.shape[-2]
    columns = max(1, BLOCK // (height * len(value)))
    for start in range(0, value.shape[-1], columns):
        v = np.ascontiguousarray(np.swapaxes(value[..., start : start + columns], -1, -2))
        p = np.ascontiguousarray(np.swapaxes(passable[..., start : start + columns], -1, -2))
        if _scan_rows(v.reshape(-1, height), p.reshape(-1, height), step):
            changed = True
            value[..., start : start + columns] = np.swapaxes(v, -1, -2)
    return changed


def spread(value, passable, step, max_sweeps=MAX_SWEEPS):
    """Alternate column and row sweeps until nothing changes (a slanted, winding region needs a
    turn per sweep), at most ``max_sweeps`` pairs. value, passable: H x W, or N x H x W (each
    image on its own); value (int64, contiguous: then swept in place) is returned."""
    value = np.ascontiguousarray(value, dtype=np.int64)
    batched, passable = value.reshape(-1, *value.shape[-2:]), np.asarray(passable).reshape(-1, *value.shape[-2:])
    for _ in range(max_sweeps):
        down = _scan_columns(batched, passable, step)
        across = _scan_rows(batched.reshape(-1, value.shape[-1]), passable.reshape(-1, value.shape[-1]), step)
        if not (down or across):
            break
    return value


def label_step(count):
    """The distance unit of ``distance * step + label`` values for labels 0..count-1: a power of
    two above every label, so that ``value % step`` is the label and ties go to the lower one."""
    return 1 << int(count).bit_length()


def nearest_labels(value, passable, step, unreached):
    """:func:`spread` of ``distance * step + label`` seeds (``value``, in place), then each
    pixel's nearest seed's label; ``unreached`` where no seed reaches. H x W int64."""
    value = spread(value, passable, step)
    far = value >= FAR
    value %= step
    value[far] = unreached
    return value


def connected_regions(free, diagonal=False):
    """Connected regions (4-neighbours; 8 with ``diagonal``) of ``free`` (H x W bool): each pixel's
    region as an int64 id that grows with the region's first pixel in raster order (``FAR`` off
    ``free``). The rows' runs of free pixels are joined where they touch a run below: union-find
    on the runs in whole-array rounds, each hooking the larger root of a touching pair under the
    smaller, then pointing every run straight at its root. Numpy alone (no scipy); spreading
    minima by sweeps took seconds at 16 MP, this a fraction of one."""
    if not free.any():
        return np.full(free.shape, FAR, dtype=np.int64)
    start = free.copy()
    start[:, 1:] &= ~free[:, :-1]
    # each free pixel's run, numbered in raster order
    run = np.cumsum(start, axis=None, dtype=np.int32 if free.size < 2**31 else np.int64).reshape(free.shape) - 1
    # (touch, column offset above, column offset below): a run and a run below share a column, or
    # with ``diagonal`` meet corner to corner (down-right, down-left)
    links = [(free[:-1] & free[1:], 0, 0)]
    if diagonal:
        links += [(free[:-1, :-1] & free[1:, 1:], 0, 1), (free[:-1, 1:] & free[1:, :-1], 1, 0)]
    above, below = [], []
    for touch, up, down in links:
        first = touch.copy()
        first[:, 1:] &= ~touch[:, :-1]  # one column per touching pair of runs is enough
        r, c = np.nonzero(first)
        above.append(run[r, c + up])
        below.append(run[r + 1, c + down])
    above, below = np.concatenate(above), np.concatenate(below)
    root = np.arange(int(start.sum()), dtype=np.int64)  # root[k] <= k throughout: no cycles
    while True:
        a, b = root[above], root[below]
        apart = a != b
        if not apart.any():
            break
        np.minimum.at(root, np.maximum(a, b)[apart], np.minimum(a, b)[apart])
        while True:  # every run straight to its root again
            grand = root[root]
            if np.array_equal(grand, root):
                break
            root = grand
    region = root[run]  # the smallest run of a region holds its first pixel
    region[~free] = FAR  # (run is -1 before the first free pixel)
    return region


def label_regions(label, region, ys, xs, dab_label, count):
    """Write the dabs' labels (0..count-1, at pixels ys, xs off the lines) into ``label`` (H x W
    int64, in place) over :func:`connected_regions`' ``region``: a region whose dabs are all of one color
    takes it whole; in a region with dabs of several colors each pixel takes its nearest dab's
    (the shortest path inside the region, ties to the lower label; the sweeps run only there)."""
    seed_region = region[ys, xs]
    pairs = np.unique(np.stack([seed_region, dab_label]), axis=1)  # (region, color), sorted by region
    ids, first, colors = np.unique(pairs[0], return_index=True, return_counts=True)
    free = region < FAR
    one_color = np.full(int(region.max(where=free, initial=-1)) + 1, -1, dtype=np.int32)
    one_color[ids[colors == 1]] = pairs[1, first[colors == 1]]
    label[free] = one_color[region[free]]
    several = ids[colors > 1]
    if len(several):
        inside, step = np.isin(region, several), label_step(count)
        value = np.full(region.shape, FAR, dtype=np.int64)
        mine = np.isin(seed_region, several)
        value[ys[mine], xs[mine]] = dab_label[mine]
        label[inside] = nearest_labels(value, inside, step, -1)[inside]


def label_lines(label, lines, count):
    """Each line pixel takes the label of the nearest labeled pixel (the shortest 4-neighbour path
    through line pixels, ties to the lower label), what :func:`nearest_labels` with the lines
    passable gives: breadth-first, a round per pixel of distance, on the unlabeled line pixels
    only (a few percent of a drawing; the sweeps cross the whole image); lines thicker than
    ``LINE_ROUNDS`` pixels are finished by the sweeps. label: H x W int64, -1 where none, 0..count-1
    elsewhere; returned with every pixel still without a label set to ``count`` (white)."""
    height, width = lines.shape
    flat = label.reshape(-1)
    todo = np.flatnonzero(lines.reshape(-1) & (flat < 0))
    reached_in = []  # (pixels, distance) of each round, for the sweeps if they must take over
    for distance in range(1, LINE_ROUNDS + 1):
        if not len(todo):
            break
        row, col = np.divmod(todo, width)
        best = np.full(len(todo), FAR, dtype=np.int64)
        for index, inside in ((todo - width, row > 0), (todo + width, row < height - 1), (todo - 1, col > 0),
                              (todo + 1, col < width - 1)):
            found = np.where(inside, flat[np.where(inside, index, todo)], -1)  # all read before any write
            best = np.where(found >= 0, np.minimum(best, found), best)
        reached = best < FAR
        if not reached.any():
            break
        flat[todo[reached]] = best[reached]
        reached_in.append((todo[reached], distance))
        todo = todo[~reached]
    else:
        if len(todo):  # thick ink: the sweeps from here, seeds carrying their distances
            step = label_step(count)
            value = np.where(label >= 0, label, FAR)
            for pixels, distance in reached_in:
                value.reshape(-1)[pixels] += distance * step
            return nearest_labels(value, lines, step, count)
    label[label < 0] = count
    return label
