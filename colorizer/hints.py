"""User color hints: sparse points of known color, as extra network input channels.

A hint says "the pixel at column x, row y is this color". Only the color's chroma is used
(the luminance always comes from the image). At the network's working size the hints become
three channels: Cb and Cr of the hinted pixels (0 elsewhere) and a 0/1 mask; several hints that
land on one working pixel are averaged. Training simulates the same thing (``sample_hints``):
isolated points. A painted stroke covers whole regions of working pixels, which the network never
saw and answers badly (measured on CIFAR-10 test: three 6x6 strokes of the true mean color
gave 24.5 dB against 25.8 with no hints), so dense hints are thinned to one point per
``HINT_SPACING`` x ``HINT_SPACING`` block of working pixels, carrying the block's mean color
(the same strokes then gave 27.9 dB).
"""

import json
import math
import numbers
import reprlib

import numpy as np
import torch

from .color import rgb_to_ycbcr
from .images import ImageInputError

__all__ = ["HINT_CHANNELS", "HINT_SPACING", "MAX_HINTS", "MAX_HINTS_JSON_BYTES", "HintError", "parse_hints", "hints_from_json", "hint_channels", "sample_hints"]

HINT_CHANNELS = 3  # Cb, Cr, mask
HINT_SPACING = 3  # working pixels: at most one hint per block of this side
# Points in a hint list: far more than anyone clicks (a painted hint image has no such limit,
# its size is the image's), few enough that checking them takes milliseconds.
MAX_HINTS = 10_000
MAX_HINTS_JSON_BYTES = 100 * MAX_HINTS  # "[4095, 4095, [255, 255, 255]], " is 31 bytes


class HintError(ImageInputError):
    """Hints that cannot be used; the message is one line, fit to show to a user."""


def parse_hints(hints, size):
    """Validated hints as (xs, ys, cbcr) numpy arrays in input-pixel coordinates.

    hints: a list of at most ``MAX_HINTS`` points ``(x, y, (r, g, b))``: x in [0, width), y in
    [0, height) (input pixels), r, g, b in 0..255 (8-bit); or an RGBA PIL image / H x W x 4 uint8
    array of the input's size whose non-transparent pixels are hints.
    size: the input image's (width, height). Raises :class:`HintError` with a one-line message.
    Each point's shape is checked level by level, so a malformed list (a nested one, a color of
    six values, a string) gets a message naming the point, never a NumPy or recursion error.
    """
    width, height = size
    if hasattr(hints, "mode") or isinstance(hints, np.ndarray):
        rgba = np.asarray(hints.convert("RGBA") if hasattr(hints, "mode") else hints)
        if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[-1] != 4 or rgba.shape[:2] != (height, width):
            raise HintError(f"a hint image must be 8-bit RGBA of the input's size {width}x{height}, "
                            f"got {rgba.dtype} {rgba.shape}")
        ys, xs = np.nonzero(rgba[..., 3] > 0)
        rgb = rgba[ys, xs, :3].astype(np.float64)
    else:
        xs, ys, rgb = _points(hints, width, height)
    cbcr = rgb_to_ycbcr(rgb / 255.0)[:, 1:]
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64), cbcr


def hints_from_json(data):
    """A hint list from JSON text or bytes ``[[x, y, [r, g, b]], ...]``, for :func:`parse_hints`.

    HintError (one line) for text over ``MAX_HINTS_JSON_BYTES`` (refused before parsing), text
    that is not JSON, or JSON nested too deeply for the parser."""
    size = len(data.encode() if isinstance(data, str) else data)
    if size > MAX_HINTS_JSON_BYTES:
        raise HintError(f"hints JSON is too long: {size:,} bytes, the limit is {MAX_HINTS_JSON_BYTES:,}")
    try:
        return json.loads(data)
    except RecursionError:
        raise HintError("hints JSON is nested too deeply (it must be a list of [x, y, [r, g, b]])") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise HintError(f"hints must be JSON like [[x, y, [r, g, b]], ...], not valid JSON ({' '.join(str(e).split())})") from None


def _points(hints, width, height):
    """(xs, ys, rgb N x 3) float64 arrays of a list of points, or HintError."""
    shape = "hints must be a list of [x, y, [r, g, b]]"
    if not isinstance(hints, (list, tuple)):  # the list itself: a 2-D array is taken as an image above
        raise HintError(f"{shape}, not {type(hints).__name__}")
    if len(hints) > MAX_HINTS:
        raise HintError(f"too many hints: {len(hints):,}, the limit is {MAX_HINTS:,}")
    values = np.empty((len(hints), 5), dtype=np.float64)
    for i, point in enumerate(hints):
        if not (isinstance(point, _SEQUENCES) and len(point) == 3 and isinstance(point[2], _SEQUENCES) and len(point[2]) == 3):
            raise HintError(f"{shape}; hint {i + 1} is {_short(point)}")
        numbers_ = (point[0], point[1], *point[2])
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in numbers_):
            raise HintError(f"{shape} of numbers; hint {i + 1} is {_short(point)}")
        values[i] = numbers_
    if not np.isfinite(values).all():
        raise HintError(f"hint {1 + int(np.flatnonzero(~np.isfinite(values).all(1))[0])} holds NaN or infinity")
    xs, ys, rgb = values[:, 0], values[:, 1], values[:, 2:]
    outside = (xs < 0) | (xs >= width) | (ys < 0) | (ys >= height)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise HintError(f"hint {i + 1} at ({xs[i]:g}, {ys[i]:g}) lies outside the {width}x{height} image")
    bad_color = ((rgb < 0) | (rgb > 255)).any(1)
    if bad_color.any():
        raise HintError(f"hint {1 + int(np.flatnonzero(bad_color)[0])}: colors must be 8-bit RGB (0..255)")
    return xs, ys, rgb


_SEQUENCES = (list, tuple, np.ndarray)
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxstring, _REPR.maxother = 3, 4, 4, 20, 20


def _short(value, limit=60):
    """repr of ``value`` cut to ``limit`` characters (a hint may be nested 100,000 deep)."""
    text = _REPR.repr(value)  # reprlib stops at maxlevel: no recursion into a deep nest
    return text if len(text) <= limit else text[: limit - 3] + "..."


def hint_channels(points, size, working_shape):
    """1 x 3 x h x w float32 tensor (Cb, Cr, mask) at the working shape (h, w) from
    :func:`parse_hints` output for an input of ``size`` = (width, height); dense hints
    (strokes) thinned to one per ``HINT_SPACING`` block, as the module docstring says why."""
    xs, ys, cbcr = points
    width, height = size
    h, w = working_shape
    cols = np.clip((np.asarray(xs) * w / width).astype(np.int64), 0, w - 1)
    rows = np.clip((np.asarray(ys) * h / height).astype(np.int64), 0, h - 1)
    flat = rows * w + cols
    counts = np.bincount(flat, minlength=h * w)
    out = np.zeros((3, h * w), dtype=np.float64)
    for c in range(2):
        out[c] = np.bincount(flat, weights=cbcr[:, c], minlength=h * w)
    hit = counts > 0
    out[:2, hit] /= counts[hit]
    out[2] = hit
    return torch.from_numpy(_thin(out, w).reshape(1, 3, h, w).astype(np.float32))


def _thin(channels, w, spacing=HINT_SPACING):
    """3 x (h*w) hint channels -> the same with at most one hint per ``spacing`` x ``spacing``
    block: at the block's hinted pixel nearest its centre, carrying the block's mean chroma."""
    flat = np.flatnonzero(channels[2])
    if len(flat) < 2:
        return channels
    rows, cols = np.divmod(flat, w)
    block = (rows // spacing) * (w // spacing + 1) + cols // spacing
    centre = spacing // 2
    distance = (rows % spacing - centre) ** 2 + (cols % spacing - centre) ** 2
    order = np.lexsort((distance, block))  # by block, nearest the centre first
    flat, block = flat[order], block[order]
    starts = np.r_[True, block[1:] != block[:-1]]
    keep = flat[starts]
    group = np.cumsum(starts) - 1  # block index of each hinted pixel, in sorted order
    counts = np.bincount(group)
    thinned = np.zeros_like(channels)
    for c in range(2):
        thinned[c, keep] = np.bincount(group, weights=channels[c, flat]) / counts
    thinned[2, keep] = 1.0
    return thinned


def sample_hints(cbcr, max_hints=50, p_none=0.5, patch_sizes=(1, 3), generator=None):
    """Simulated user hints for training, as the hint channels.

    cbcr: N x 2 x H x W true chroma. Each image gets k hints, k = 0 with probability ``p_none``,
    else geometric (mean about 8, at most ``max_hints``); each at a uniform random pixel and
    carrying the mean chroma of a p x p patch around it (p drawn from ``patch_sizes``), as a
    person would pick a color for a region. Returns N x 3 x H x W (Cb, Cr, mask).
    """
    n, _, h, w = cbcr.shape
    device = cbcr.device
    g = generator
    # Geometric counts (p = 1/8) by inversion, so every draw comes from the seeded generator g.
    uniform = torch.rand(n, generator=g).clamp_min(1e-12)
    counts = (torch.log(uniform) / math.log(1 - 0.125)).floor().long() + 1
    use = torch.rand(n, generator=g) >= p_none
    counts = torch.where(use, counts.clamp_max(max_hints), torch.zeros_like(counts))
    hints = torch.zeros(n, 3, h, w, device=device)
    k_max = int(counts.max()) if n else 0
    if k_max == 0:
        return hints
    # Mean chroma over each p x p patch, per patch size, computed once for all positions.
    pooled = {p: torch.nn.functional.avg_pool2d(cbcr, p, stride=1, padding=p // 2, count_include_pad=False) for p in patch_sizes}
    rows = torch.randint(0, h, (n, k_max), generator=g).to(device)
    cols = torch.randint(0, w, (n, k_max), generator=g).to(device)
    which = torch.randint(0, len(patch_sizes), (n, k_max), generator=g).to(device)
    valid = (torch.arange(k_max)[None, :] < counts[:, None]).to(device)
    batch = torch.arange(n, device=device)[:, None].expand(n, k_max)
    for i, p in enumerate(patch_sizes):
        sel = valid & (which == i)
        b, r, c = batch[sel], rows[sel], cols[sel]
        hints[b, 0, r, c] = pooled[p][b, 0, r, c]
        hints[b, 1, r, c] = pooled[p][b, 1, r, c]
        hints[b, 2, r, c] = 1.0
    return hints
