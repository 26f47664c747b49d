"""A few strokes: the hinted network's change is trusted as far as it predicts a stroke it was not shown.

With 2 to ``MANY_STROKES - 1`` separate strokes the gate of ``colorizer.propagate`` lets the
network's change through wherever it sees no edge, and the strokes are too few to tell a reading
of the picture from a guess: a dab on a dark orange cloud browned the dark blue sky around it, a
dab on a purple flower turned its dark green background purple. So the network runs once more
per stroke with that stroke left out (one batch), and ``trust`` is the mean over strokes of how
far that run's change, at the left-out stroke's hint cells, goes along the stroke's own
correction (``propagate.share_along``: 0 against it or across it, 1 all of it): did the other
strokes' reading of the picture foresee this one? The whole change is scaled by it before the
usual steps; the strokes themselves still spread in their regions. One stroke has nothing to be
checked against, and from ``MANY_STROKES`` on the strokes are many: there the re-grade's own
held-out trust (``colorizer.regrade``) and the longer spread take over, and a check per stroke
would cost a network run each.

Measured (7 December 2026, the default hint network ``chroma_hints_scratch_mild``, seeded 3 x 3
true-color dabs, ``python -m train.stroke_curve``): the two failures of ``--seed 2`` on the Linnaeus
5 test images at 5 dabs, ``bird_8_128.jpg`` -1.12 -> -0.15 dB and ``flower_275_128.jpg`` -0.82 ->
-0.11 dB against their automatic result; on 200 Linnaeus 5 train images (tuning set) at 2 / 5
dabs the mean gain +0.23 / +0.83 -> +0.14 / +0.57 dB, the worst image -0.76 / -0.00 -> -0.02 /
-0.01 dB. On all 1,600 test images, seeds 0 / 1 / 2: 2 dabs +0.28 / +0.26 / +0.27 -> +0.18 /
+0.15 / +0.16 dB, 5 dabs +0.96 / +0.94 / +0.94 -> +0.69 / +0.68 / +0.68 dB, the worst image at 5
dabs -0.12 / -0.18 / -1.12 -> -0.05 / -0.09 / -0.34 dB, none past issue 18's -0.5 at any count; the
corpus's 11 photo test files at full size +0.55 / +1.71 -> +0.43 / +1.44 dB at 2 / 5 dabs. Time
(``python -m colorizer.bench_strokes``, 2 threads): a 1024 x 1024 photo with 5 strokes 183 -> 255
ms. Measured and not kept: each pixel trusting its nearest stroke's share alone (train images:
+0.13 / +0.54 dB, the same worst; at 10 / 20 dabs +2.87 / +4.51 -> +2.35 / +3.93 dB, where issue 18
needs +3 dB at 10), and the square root of the trust (+0.16 / +0.68 dB, but bird_8 at -0.42).
"""

import numpy as np
import torch

from .hints import hint_channels
from .propagate import MANY_STROKES, gate_strokes
from .stroke_cells import point_pixels

__all__ = ["point_strokes", "held_out_hints", "held_out_trust"]


def point_strokes(points, height, width):
    """The stroke of each hint point: ``parse_hints`` output (xs, ys in input pixels) -> K int64,
    the 8-connected group of gate-grid cells it falls in (``propagate.gate_strokes``)."""
    return gate_strokes(point_pixels(points, height, width), height, width)


def held_out_hints(points, size, working_shape):
    """Hint channels for the check, or None outside 2 .. ``MANY_STROKES - 1`` strokes.

    points: ``parse_hints`` output for an input of ``size`` = (width, height). Returns (without,
    alone), each S x 3 x h x w (``colorizer.hints.hint_channels`` at the working shape): all
    strokes but stroke s, and stroke s alone."""
    width, height = size
    strokes = point_strokes(points, height, width)
    count = int(strokes.max()) + 1 if len(strokes) else 0
    if not 2 <= count < MANY_STROKES:
        return None
    xs, ys, cbcr = points

    def channels(keep):
        return hint_channels((xs[keep], ys[keep], cbcr[keep]), size, working_shape)

    return torch.cat([channels(strokes != s) for s in range(count)]), torch.cat([channels(strokes == s) for s in range(count)])


def held_out_trust(change_without, alone, cbcr_auto):
    """Mean over strokes of how far the change made without each stroke goes along its correction.

    change_without: S x 2 x h x w chroma, the network's output without stroke s minus the automatic
    chroma; alone: S x 3 x h x w hint channels of stroke s alone (Cb, Cr, mask); cbcr_auto: 1 x 2 x
    h x w automatic chroma. Returns a float in [0, 1]: per stroke, the share of ``share_along``
    pooled over its hint cells (the change's projection on the correction over the correction's
    squared length, clipped to [0, 1]), averaged over strokes."""
    shares = []
    for change, hint in zip(change_without.double(), alone.double()):
        cells = hint[2] > 0
        correction = (hint[:2] - cbcr_auto[0].double())[:, cells]
        along = (change[:, cells] * correction).sum() / ((correction**2).sum() + 1e-4 * cells.sum())  # share_along's, pooled
        shares.append(float(along.clamp(0.0, 1.0)))
    return float(np.mean(shares))
