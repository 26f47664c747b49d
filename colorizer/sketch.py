"""Sketch mode: a line drawing (dark strokes on a light page) filled with the colors dabbed in it.

A drawing has no shading to read colors from, and its white page has no room for chroma, so
here the fill sets luminance too (a white page can become a blue sky):

1. ink: pixels darker than ``INK_LEVEL`` times the page's brightness; small gaps in the lines
   are closed (a morphological closing of radius ``GAP``), so a shape drawn with a slightly
   open outline still holds its color;
2. every dab's color floods the region it lies in, up to the (closed) lines (regions: connected
   components by union-find on row runs): a region whose dabs share one color takes it whole; in
   one with dabs of several colors each pixel takes the color of the nearest dab it can reach
   without crossing a line (raster passes of a shortest-path scan as running minima, labels
   carried in the distances); line pixels then take the color of the nearest region beside them;
3. ink pixels stay as drawn; the others are the fill times their brightness relative to the
   page (the page takes the fill color exactly, antialiased line edges blend into it).

A closed shape that no dab reaches is filled with the mean, over the shape, of a line-art
network's colors (``guess``: a function of the closed lines, see :func:`network_drawing`), flat as
clip-art is; or left white when there is no network. The page (regions that touch the drawing's
border) stays white unless a dab says otherwise.
"""

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .color import rgb_to_ycbcr, to_gray
from .hints import parse_hints

__all__ = ["INK_LEVEL", "GAP", "DAB_CHROMA", "hint_colors", "ink_mask", "page_mask", "network_drawing", "fill_sketch", "split_drawing"]

INK_LEVEL = 0.5  # a pixel darker than this fraction of the page's brightness is ink
GAP = 2  # pixels: gaps up to about 2 * GAP wide in a line are closed
MAX_SWEEPS = 64  # row + column sweep pairs at most; drawings measured need under 10
LINE_ROUNDS = 16  # breadth-first rounds into the lines (a round per pixel of distance) before the sweeps take over
DAB_CHROMA = 0.08  # a painted pixel with more chroma (|Cb, Cr|, RGB in [0, 1]) is a color dab, not a pen line
_SEGMENT = 2**42  # above any distance * step + label; separates runs in _scan_rows
_FAR = 2**61  # unreached
_BLOCK = 1 << 18  # pixels per block of a sweep: bounds its temporaries (2 MB each)


def hint_colors(hints, size):
    """Validated hints (``parse_hints``' checks and errors) as (xs, ys int arrays, rgb K x 3 in
    [0, 1]): sketch mode needs a dab's whole color, not only its chroma."""
    xs, ys, _ = parse_hints(hints, size)
    if hasattr(hints, "mode") or isinstance(hints, np.ndarray):
        rgba = np.asarray(hints.convert("RGBA") if hasattr(hints, "mode") else hints)
        rgb = rgba[np.asarray(ys, dtype=np.int64), np.asarray(xs, dtype=np.int64), :3]
    else:
        rgb = np.asarray([tuple(color) for _, _, color in hints], dtype=np.float64).reshape(-1, 3)
    return np.asarray(xs, dtype=np.int64), np.asarray(ys, dtype=np.int64), np.asarray(rgb, dtype=np.float64) / 255.0


def _dilate(mask, radius):
    """Max over a (2 radius + 1) square window of an H x W bool array (outside the image counts
    as false), as two 1-D passes of shifted ORs: bool, so 16 MP drawings need 16 MB a copy."""
    down = mask.copy()
    for k in range(1, radius + 1):
        down[k:] |= mask[:-k]
        down[:-k] |= mask[k:]
    grown = down.copy()
    for k in range(1, radius + 1):
        grown[:, k:] |= down[:, :-k]
        grown[:, :-k] |= down[:, k:]
    return grown


def ink_mask(y, gap=GAP):
    """(ink, lines, page): H x W bool of the drawn strokes in y (1 x 1 x H x W in [0, 1]), the
    same with gaps closed (the barriers that regions are split by), and the page's brightness."""
    page = float(np.percentile(y.flatten()[:: max(1, y.numel() // 100_000)].numpy(), 90)) or 1.0
    ink = (y[0, 0] < INK_LEVEL * page).numpy()
    return ink, ~_dilate(~_dilate(ink, gap), gap), page  # dilate, then erode


def _scan_rows(value, passable, step):
    """One shortest-path sweep along every row, both directions, in place: value (R x W int64,
    ``distance * step + label``, ``_FAR`` if unreached) moves along runs of passable pixels at
    ``step`` per pixel. A run's minimum of ``value_k - k * step`` is a running minimum
    (``np.minimum.accumulate``); an offset of ``_SEGMENT`` per run keeps runs apart. In blocks
    of rows, so the temporaries stay small at 16 MP. Returns whether any value fell."""
    changed, rows = False, max(1, _BLOCK // value.shape[1])
    for start in range(0, len(value), rows):
        block, open_ = value[start : start + rows], passable[start : start + rows]
        for flip in (False, True):
            v, p = (block[:, ::-1], open_[:, ::-1]) if flip else (block, open_)
            offset = np.arange(v.shape[1], dtype=np.int64) * step + np.cumsum(~p, axis=1, dtype=np.int64) * _SEGMENT
            best = np.minimum.accumulate(v - offset, axis=1) + offset
            best = np.where(p & (best < _SEGMENT), best, _FAR)
            changed = changed or bool((best < v).any())
            np.minimum(v, best, out=v)
    return changed


def _scan_columns(value, passable, step):
    """:func:`_scan_rows` down the columns of value (N x H x W, in place), a block of columns at
    a time copied out transposed (a whole transposed copy would double the memory)."""
    changed, height = False, value.shape[-2]
    columns = max(1, _BLOCK // (height * len(value)))
    for start in range(0, value.shape[-1], columns):
        v = np.ascontiguousarray(np.swapaxes(value[..., start : start + columns], -1, -2))
        p = np.ascontiguousarray(np.swapaxes(passable[..., start : start + columns], -1, -2))
        if _scan_rows(v.reshape(-1, height), p.reshape(-1, height), step):
            changed = True
            value[..., start : start + columns] = np.swapaxes(v, -1, -2)
    return changed


def _spread(value, passable, step, max_sweeps=MAX_SWEEPS):
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


def page_mask(drawing):
    """The page of drawings: N x 1 x h x w float in {0, 1} (0 on lines) -> N x 1 x h x w float, 1
    where a pixel is off the lines and connected to the border (4-neighbours), 0 inside closed
    shapes and on lines. A line-art network gets it as a second channel: from the lines alone a
    small network cannot tell a shape's blank inside from the blank page around it."""
    free = (drawing[:, 0] > 0.5).cpu().numpy()
    seed = np.zeros_like(free)
    seed[:, [0, -1], :] = seed[:, :, [0, -1]] = True
    value = _spread(np.where(seed & free, 0, _FAR), free, 0)
    return torch.from_numpy(value < _FAR)[:, None].to(drawing)


def network_drawing(lines, size):
    """What a line-art network sees: H x W bool closed lines -> 1 x 2 x h x w float at ``size`` =
    (h, w): the drawing in {0, 1} (0 on lines) and its :func:`page_mask`. A cell with any line in
    it is a line, so lines stay black, closed and at least a pixel wide when shrunk, as in the
    drawings the network was trained on (``train.lineart``), instead of fading to gray."""
    drawing = 1 - F.adaptive_max_pool2d(torch.from_numpy(lines).float()[None, None], size)
    return torch.cat([drawing, page_mask(drawing)], dim=1)


def _label_step(count):
    """The distance unit of ``distance * step + label`` values for labels 0..count-1: a power of
    two above every label, so that ``value % step`` is the label and ties go to the lower one."""
    return 1 << int(count).bit_length()


def _nearest_labels(value, passable, step, unreached):
    """:func:`_spread` of ``distance * step + label`` seeds (``value``, in place), then each
    pixel's nearest seed's label; ``unreached`` where no seed reaches. H x W int64."""
    value = _spread(value, passable, step)
    far = value >= _FAR
    value %= step
    value[far] = unreached
    return value


def _regions(free):
    """Connected regions (4-neighbours) of ``free`` (H x W bool): each pixel's region as an int64
    id that grows with the region's first pixel in raster order (``_FAR`` off ``free``). The rows'
    runs of free pixels are joined where they touch a run below: union-find on the runs in
    whole-array rounds, each hooking the larger root of a touching pair under the smaller, then
    pointing every run straight at its root. Numpy alone (no scipy); spreading minima by sweeps
    took seconds at 16 MP, this a fraction of one."""
    if not free.any():
        return np.full(free.shape, _FAR, dtype=np.int64)
    start = free.copy()
    start[:, 1:] &= ~free[:, :-1]
    # each free pixel's run, numbered in raster order
    run = np.cumsum(start, axis=None, dtype=np.int32 if free.size < 2**31 else np.int64).reshape(free.shape) - 1
    touch = free[:-1] & free[1:]  # a run and the run below share this column
    first = touch.copy()
    first[:, 1:] &= ~touch[:, :-1]  # one column per touching pair of runs is enough
    r, c = np.nonzero(first)
    above, below = run[r, c], run[r + 1, c]
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
    region[~free] = _FAR  # (run is -1 before the first free pixel)
    return region


def _region_colors(region, inside, rgb_small):
    """Each region's mean color in a line-art network's output at its working size: region (int,
    0..R-1, one per true pixel of ``inside``, H x W bool, in raster order); rgb_small 1 x 3 x h x w
    in [0, 1]. Every pixel counts as its nearest cell of the small grid, a block of rows at a
    time: a 16 MP drawing needs neither the guess nor index arrays at full size. R x 3 float64."""
    (height, width), (h, w) = inside.shape, rgb_small.shape[-2:]
    cells = rgb_small[0].reshape(3, -1).double().numpy()
    sums = np.zeros((3, int(region.max()) + 1))
    col_cell = np.arange(width) * w // width
    done, rows = 0, max(1, _BLOCK // width)
    for start in range(0, height, rows):
        r, c = np.nonzero(inside[start : start + rows])
        cell = ((r + start) * h // height) * w + col_cell[c]
        for channel in range(3):
            sums[channel] += np.bincount(region[done : done + len(r)], weights=cells[channel, cell], minlength=sums.shape[1])
        done += len(r)
    return (sums / np.bincount(region)).T


def _label_regions(label, region, ys, xs, dab_label, count):
    """Write the dabs' labels (0..count-1, at pixels ys, xs off the lines) into ``label`` (H x W
    int64, in place) over :func:`_regions`' ``region``: a region whose dabs are all of one color
    takes it whole; in a region with dabs of several colors each pixel takes its nearest dab's
    (the shortest path inside the region, ties to the lower label; the sweeps run only there)."""
    seed_region = region[ys, xs]
    pairs = np.unique(np.stack([seed_region, dab_label]), axis=1)  # (region, color), sorted by region
    ids, first, colors = np.unique(pairs[0], return_index=True, return_counts=True)
    free = region < _FAR
    one_color = np.full(int(region.max(where=free, initial=-1)) + 1, -1, dtype=np.int32)
    one_color[ids[colors == 1]] = pairs[1, first[colors == 1]]
    label[free] = one_color[region[free]]
    several = ids[colors > 1]
    if len(several):
        inside, step = np.isin(region, several), _label_step(count)
        value = np.full(region.shape, _FAR, dtype=np.int64)
        mine = np.isin(seed_region, several)
        value[ys[mine], xs[mine]] = dab_label[mine]
        label[inside] = _nearest_labels(value, inside, step, -1)[inside]


def _label_lines(label, lines, count):
    """Each line pixel takes the label of the nearest labeled pixel (the shortest 4-neighbour path
    through line pixels, ties to the lower label), what :func:`_nearest_labels` with the lines
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
        best = np.full(len(todo), _FAR, dtype=np.int64)
        for index, inside in ((todo - width, row > 0), (todo + width, row < height - 1), (todo - 1, col > 0),
                              (todo + 1, col < width - 1)):
            found = np.where(inside, flat[np.where(inside, index, todo)], -1)  # all read before any write
            best = np.where(found >= 0, np.minimum(best, found), best)
        reached = best < _FAR
        if not reached.any():
            break
        flat[todo[reached]] = best[reached]
        reached_in.append((todo[reached], distance))
        todo = todo[~reached]
    else:
        if len(todo):  # thick ink: the sweeps from here, seeds carrying their distances
            step = _label_step(count)
            value = np.where(label >= 0, label, _FAR)
            for pixels, distance in reached_in:
                value.reshape(-1)[pixels] += distance * step
            return _nearest_labels(value, lines, step, count)
    label[label < 0] = count
    return label


def fill_sketch(y_full, dabs, guess=None):
    """Fill a drawing: y_full 1 x 1 x H x W in [0, 1]; dabs: :func:`hint_colors` output (or
    None); guess: None, or a function from the closed lines (H x W bool) to a line-art
    network's RGB at its working size (1 x 3 x h x w in [0, 1]), called only if some region has no
    dab; each such region gets the mean of its pixels' guesses. Returns 1 x 3 x H x W RGB in [0, 1]."""
    ink, lines, page = ink_mask(y_full)
    region = _regions(~lines)
    label = np.full(lines.shape, -1, dtype=np.int64)
    colors = np.ones((1, 3))
    if dabs is not None and len(dabs[0]):
        xs, ys, rgb = dabs
        colors, dab_label = np.unique(rgb, axis=0, return_inverse=True)
        keep = ~lines[ys, xs]  # a dab on a line would leak into both sides
        if keep.any():
            _label_regions(label, region, ys[keep], xs[keep], dab_label.ravel()[keep], len(colors))
        else:  # every dab on a line: each spreads from there into the regions on both sides
            value = np.full(lines.shape, _FAR, dtype=np.int64)
            value[ys, xs] = dab_label.ravel()
            label = _nearest_labels(value, ~lines, _label_step(len(colors)), -1)
    empty = ~lines & (label < 0)
    if guess is not None and empty.any():
        border = np.unique(np.concatenate([region[0], region[-1], region[:, 0], region[:, -1]]))
        empty &= ~np.isin(region, border)  # the undabbed page stays paper-white
    if guess is not None and empty.any():  # undabbed shapes: flat, in the network's mean color
        roots = np.zeros(region.size, dtype=bool)
        roots[region[empty]] = True  # each region is named by its first pixel: number them 0, 1, ...
        region = (np.cumsum(roots, dtype=np.int32) - 1)[region[empty]]
        label[empty] = len(colors) + region
        colors = np.concatenate([colors, _region_colors(region, empty, guess(lines))])
    label = _label_lines(label, lines, len(colors))  # line pixels: the region beside them; no dab, no guess: white
    colors = torch.from_numpy(np.concatenate([colors, np.ones((1, 3))]).astype(np.float32))
    out = colors[torch.from_numpy(label)].permute(2, 0, 1)  # 3 x H x W, made in place from here on
    y = y_full[0, 0].float()
    out.mul_((y / page).clamp_(0, 1))  # antialiased line edges darken the fill
    ink = torch.from_numpy(ink)
    out[:, ink] = y[ink]
    return out.clamp_(0, 1)[None]


def split_drawing(rgb_uint8):
    """A drawing painted with gray pens and color brushes on one canvas (H x W x 3 uint8) ->
    (gray drawing as a PIL "L" image with the dabs made page white, RGBA hint image of the dabs)."""
    rgb = np.asarray(rgb_uint8)
    dab = np.linalg.norm(rgb_to_ycbcr(rgb / 255.0)[..., 1:], axis=-1) > DAB_CHROMA
    gray = np.where(dab, 255, np.clip(np.rint(to_gray(rgb)), 0, 255)).astype(np.uint8)
    hints = np.concatenate([rgb, np.where(dab, 255, 0).astype(np.uint8)[..., None]], axis=-1)
    return Image.fromarray(gray, mode="L"), hints
