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

from . import regions
from .color import rgb_to_ycbcr, to_gray
from .hints import parse_hints
from .regions import FAR, connected_regions, label_lines, label_regions, label_step, nearest_labels, spread

__all__ = ["INK_LEVEL", "GAP", "DAB_CHROMA", "hint_colors", "ink_mask", "page_mask", "network_drawing", "fill_sketch", "split_drawing"]

INK_LEVEL = 0.5  # a pixel darker than this fraction of the page's brightness is ink
GAP = 2  # pixels: gaps up to about 2 * GAP wide in a line are closed
DAB_CHROMA = 0.08  # a painted pixel with more chroma (|Cb, Cr|, RGB in [0, 1]) is a color dab, not a pen line


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


def page_mask(drawing):
    """The page of drawings: N x 1 x h x w float in {0, 1} (0 on lines) -> N x 1 x h x w float, 1
    where a pixel is off the lines and connected to the border (4-neighbours), 0 inside closed
    shapes and on lines. A line-art network gets it as a second channel: from the lines alone a
    small network cannot tell a shape's blank inside from the blank page around it."""
    free = (drawing[:, 0] > 0.5).cpu().numpy()
    seed = np.zeros_like(free)
    seed[:, [0, -1], :] = seed[:, :, [0, -1]] = True
    value = spread(np.where(seed & free, 0, FAR), free, 0)
    return torch.from_numpy(value < FAR)[:, None].to(drawing)


def network_drawing(lines, size):
    """What a line-art network sees: H x W bool closed lines -> 1 x 2 x h x w float at ``size`` =
    (h, w): the drawing in {0, 1} (0 on lines) and its :func:`page_mask`. A cell with any line in
    it is a line, so lines stay black, closed and at least a pixel wide when shrunk, as in the
    drawings the network was trained on (``train.lineart``), instead of fading to gray."""
    drawing = 1 - F.adaptive_max_pool2d(torch.from_numpy(lines).float()[None, None], size)
    return torch.cat([drawing, page_mask(drawing)], dim=1)


def _region_colors(region, inside, rgb_small):
    """Each region's mean color in a line-art network's output at its working size: region (int,
    0..R-1, one per true pixel of ``inside``, H x W bool, in raster order); rgb_small 1 x 3 x h x w
    in [0, 1]. Every pixel counts as its nearest cell of the small grid, a block of rows at a
    time: a 16 MP drawing needs neither the guess nor index arrays at full size. R x 3 float64."""
    (height, width), (h, w) = inside.shape, rgb_small.shape[-2:]
    cells = rgb_small[0].reshape(3, -1).double().numpy()
    sums = np.zeros((3, int(region.max()) + 1))
    col_cell = np.arange(width) * w // width
    done, rows = 0, max(1, regions.BLOCK // width)
    for start in range(0, height, rows):
        r, c = np.nonzero(inside[start : start + rows])
        cell = ((r + start) * h // height) * w + col_cell[c]
        for channel in range(3):
            sums[channel] += np.bincount(region[done : done + len(r)], weights=cells[channel, cell], minlength=sums.shape[1])
        done += len(r)
    return (sums / np.bincount(region)).T


def fill_sketch(y_full, dabs, guess=None):
    """Fill a drawing: y_full 1 x 1 x H x W in [0, 1]; dabs: :func:`hint_colors` output (or
    None); guess: None, or a function from the closed lines (H x W bool) to a line-art
    network's RGB at its working size (1 x 3 x h x w in [0, 1]), called only if some region has no
    dab; each such region gets the mean of its pixels' guesses. Returns 1 x 3 x H x W RGB in [0, 1]."""
    ink, lines, page = ink_mask(y_full)
    region = connected_regions(~lines)
    label = np.full(lines.shape, -1, dtype=np.int64)
    colors = np.ones((1, 3))
    if dabs is not None and len(dabs[0]):
        xs, ys, rgb = dabs
        colors, dab_label = np.unique(rgb, axis=0, return_inverse=True)
        keep = ~lines[ys, xs]  # a dab on a line would leak into both sides
        if keep.any():
            label_regions(label, region, ys[keep], xs[keep], dab_label.ravel()[keep], len(colors))
        else:  # every dab on a line: each spreads from there into the regions on both sides
            value = np.full(lines.shape, FAR, dtype=np.int64)
            value[ys, xs] = dab_label.ravel()
            label = nearest_labels(value, ~lines, label_step(len(colors)), -1)
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
    label = label_lines(label, lines, len(colors))  # line pixels: the region beside them; no dab, no guess: white
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
