"""Many strokes that agree re-grade the whole picture, before the local propagation.

Strokes are local (``colorizer.propagate``): each corrects its region and the automatic colors
take over again with distance and at edges. But a person who dabs true colors all over a photo
also says how the network's colors are off as a whole: too pale, too warm, a yellow sky that is
blue. When there are at least ``MIN_STROKES`` separate strokes, their corrections (stroke chroma
minus automatic chroma, one mean per stroke) are fitted by one small model of the whole picture,

    correction = a x automatic chroma + b + c x (Y - 0.5)

(a: a saturation gain; b, c: a Cb, Cr shift and its change with brightness) by ridge regression,
and the fit is trusted as far as it predicts each stroke from the others: ``trust = 1 -
leave-one-stroke-out error / error of changing nothing`` (in closed form), times ``S / (S +
STROKE_SHRINK)`` for S strokes, since a few strokes may agree by chance; no trust, no change.
A pixel takes ``trust x support x share x`` the fitted correction, ``support`` falling with the
pixel's distance from the nearest stroke in luminance (``SUPPORT_Y``) and in automatic chroma
(``SUPPORT_CHROMA``): strokes on a bright sky do not re-grade a dark field, nor strokes on the
apples of a tree its leaves; ``share`` in [0, 1] is how far the hinted network's own change goes
along the fitted correction there (as in ``colorizer.propagate``): the fit sees only luminance
and automatic chroma and cannot tell a puppy's dark gray muzzle from its dark brown fur, the
network sees the hints in place and the picture around them. Then the strokes propagate locally
as before, from these colors.

Measured (3 x 3 true-color dabs at random places, the hint network ``chroma_unet_hints``, the
default then; ``python -m train.stroke_curve``; tuned on two sets of 200 Linnaeus 5 train images at 128 px; with the
luminance-only gate of that time, see ``colorizer.propagate`` for the numbers now): at 10 / 20
dabs the gain over automatic rose from +2.35 / +3.33 to +3.03 / +4.10 dB on one train set and
from +2.31 / +3.24 to +2.92 / +3.98 dB on the other, the worst image unchanged; on 400 test
images (``--limit 400``) from +2.72 / +3.82 to +3.77 / +5.03 dB, the worst image -0.05 -> -0.26
dB at 10 dabs, and on four 2560 x 1600 corpus test photos from +3.86 / +5.63 to +6.07 / +8.08
dB. Without the luminance term c, 0.1 dB less; without the support, 0.1 to 0.3 dB more on
random dabs, and strokes on one object would re-grade its surroundings. ``MIN_STROKES``: with 3
to 5 strokes the fit often extrapolated from strokes that all missed a salient object (dabs on
a sky and a trunk turned red currants cyan): on the test images at 5 dabs 6 images fell more
than 0.5 dB below automatic, against 1. Seen and left: a dark dog on a lawn takes a green cast
from dabs mostly on the grass (a whole-picture model cannot tell black fur from dark grass when
the network painted both the same).

The shrink (December 2026, all 1,600 Linnaeus 5 test images, seeded dabs): without it two images
fell more than 0.5 dB below their automatic result at 10 dabs (worst -0.81 dB: dabs on a blue-gray
wall and a red coat agreed on "cooler when bright" and turned a cream couch bluish), with it none
(worst -0.45), for 0.18 dB of the mean gain (+3.11 -> +2.93 dB), of which the longer spread of many
strokes (``colorizer.propagate``, step 3) wins back 0.08 (+3.01). Measured and not kept (issue 18's
notes): spatial, texture and network-uncertainty terms in the support, powers of the trust, and a
locally weighted fit (each gate cell its own a, b, c from the strokes near it in luminance and
color, pulled toward the global fit): the three images that lost most without the shrink lost as
much (-0.48 to -0.90 dB, against -0.53 to -0.81).

The share (7 December 2026, the hint network ``chroma_hints_scratch_mild``, the default): without
it, on all 1,600 Linnaeus 5 test images at 10 dabs one image fell 0.98 dB below its automatic
result (``dog_181_128.jpg``: three dabs on dark brown fur, trust 0.66, re-graded its dark gray
muzzle and eyes warmer), with it -0.43 dB; the mean gain +3.28 -> +3.11 dB (other dab seeds +3.31
-> +3.12, +3.29 -> +3.12). Tuned on nothing (no constant: the network's change goes the whole way
or not), checked on the two train sets of 200: 10 dabs +3.04 / +3.30 -> +2.90 / +3.15 dB, 20 dabs
+4.61 / +4.96 -> +4.50 / +4.82, the worst image unchanged (+0.01 / -0.05 at 10), none below -0.5
dB either way. The share at half weight (``0.5 + 0.5 x share``: +2.99 / +3.24 dB on the train sets
at 10 dabs) or measured against twice the network's change left the puppy below -0.5 (-0.69,
-0.83 dB).
With the fine-tuned ``chroma_unet_hints`` as the hint network: +3.01 -> +2.86 dB at 10 dabs, the
worst image -0.49 -> -0.17 dB.
"""

import numpy as np
import torch

from .propagate import GATE_SIZE, MANY_STROKES, gate_strokes, share_along
from .stroke_cells import grid_shape, stroke_pixels
from .upsample import resize

__all__ = ["MIN_STROKES", "STROKE_SHRINK", "regrade_to_strokes"]

MIN_STROKES = MANY_STROKES  # separate strokes (8-connected on the gate grid) before the whole picture may change
STROKE_SHRINK = 2.0  # the fit's trust times S / (S + this), S strokes: few strokes that agree may agree by chance
SATURATION_RIDGE = 0.01  # ridge on a: automatic chroma is ~0.1, so a few strokes already set a
OFFSET_RIDGE = 1.0  # ridge on b, in strokes: b is shrunk by S / (S + 1)
LUMA_RIDGE = 0.3  # ridge on c: strokes' luminance spreads ~0.2 around 0.5, so ~8 strokes set c
SUPPORT_Y = 0.2  # luminance (Y in [0, 1]) from the nearest stroke at which the support is 1/e
SUPPORT_CHROMA = 0.08  # ... and automatic-chroma distance (Cb, Cr centred, in [-0.5, 0.5])


def _design(auto, y):
    """Per stroke its automatic chroma (S x 2) and luminance (S) -> S x 2 x 5 rows of the model
    ``a x u + b + c x (y - 0.5)`` (params a, b_cb, b_cr, c_cb, c_cr)."""
    rows = np.zeros((len(auto), 2, 5))
    rows[:, :, 0] = auto
    rows[:, 0, 1] = rows[:, 1, 2] = 1.0
    rows[:, 0, 3] = rows[:, 1, 4] = y - 0.5
    return rows


def fit_regrade(auto, correction, y):
    """Ridge fit of per-stroke corrections (S x 2) on automatic chroma (S x 2) and luminance (S).

    Returns (params: a, b_cb, b_cr, c_cb, c_cr; trust in [0, 1]): trust compares the
    leave-one-stroke-out error (exact for ridge: each stroke's residual through its 2 x 2 block
    of the hat matrix) with the error of changing nothing."""
    rows = _design(auto, y)
    gram = np.einsum("sij,sik->jk", rows, rows) + np.diag([SATURATION_RIDGE] + [OFFSET_RIDGE] * 2 + [LUMA_RIDGE] * 2)
    inverse = np.linalg.inv(gram)
    params = inverse @ np.einsum("sij,si->j", rows, correction)
    residual = correction - rows @ params
    hat = np.einsum("sij,jk,slk->sil", rows, inverse, rows)  # S x 2 x 2 diagonal blocks
    left_out = np.linalg.solve(np.eye(2) - hat, residual[..., None])[..., 0]
    trust = 1.0 - (left_out**2).sum() / max((correction**2).sum(), 1e-12)
    return params, float(np.clip(trust, 0.0, 1.0))


def regrade_to_strokes(y_full, cbcr_full, points, change_small, min_strokes=MIN_STROKES):
    """The automatic chroma re-graded by what many strokes agree on, where the network agrees too.

    y_full: 1 x 1 x H x W float luminance in [0, 1]; cbcr_full: 1 x 2 x H x W automatic chroma
    (centred, float); points: ``parse_hints`` output; change_small: 1 x 2 x h x w, the hinted
    network's chroma minus its automatic chroma on its working grid (zero: no re-grade). Returns
    1 x 2 x H x W (``cbcr_full`` itself when there are fewer than ``min_strokes`` strokes or the
    fit does not predict them)."""
    height, width = y_full.shape[-2:]
    flat, stroke_cbcr = stroke_pixels(points, height, width)
    if len(flat) == 0:
        return cbcr_full
    grid = grid_shape(height, width, GATE_SIZE)
    groups = gate_strokes(flat, height, width)
    strokes = groups.max() + 1
    if strokes < min_strokes:
        return cbcr_full
    counts = np.bincount(groups)[:, None]
    auto_pixels = cbcr_full.reshape(2, -1)[:, flat].double().numpy().T  # K x 2

    def per_stroke(values):  # K x C -> S x C means
        return np.stack([np.bincount(groups, weights=v, minlength=strokes) for v in values.T], 1) / counts

    auto = per_stroke(auto_pixels)
    stroke_y = per_stroke(y_full.reshape(-1)[flat].double().numpy()[:, None])[:, 0]
    params, trust = fit_regrade(auto, per_stroke(stroke_cbcr - auto_pixels), stroke_y)
    if trust <= 0.0:
        return cbcr_full
    trust *= strokes / (strokes + STROKE_SHRINK)
    # support on the gate grid (pixels x strokes stays small for any number of strokes)
    y_gate = resize(y_full.float(), grid).double()
    cbcr_gate = resize(cbcr_full.float(), grid).double()
    distance = (((y_gate.reshape(-1, 1).numpy() - stroke_y) / SUPPORT_Y) ** 2
                + (((cbcr_gate.reshape(2, -1).T[:, None, :].numpy() - auto) / SUPPORT_CHROMA) ** 2).sum(-1))
    support = np.exp(-distance.min(1)).reshape(grid)
    # as far as the network's own hinted change goes along the fitted correction
    share = share_along(resize(change_small.float(), grid)[0].double().numpy(), _fitted(params, cbcr_gate, y_gate)[0].numpy())
    weight = torch.from_numpy((trust * support * share).reshape(1, 1, *grid).astype(np.float32))
    weight = resize(weight, (height, width)) if grid != (height, width) else weight
    return cbcr_full + weight.to(cbcr_full) * _fitted(params, cbcr_full, y_full)


def _fitted(params, cbcr, y):
    """The fitted correction ``a x cbcr + b + c x (y - 0.5)`` (params a, b_cb, b_cr, c_cb, c_cr):
    cbcr N x 2 x H x W, y N x 1 x H x W (torch); in cbcr's dtype."""
    shift = torch.tensor(params[1:3], dtype=cbcr.dtype).view(1, 2, 1, 1)
    slope = torch.tensor(params[3:], dtype=cbcr.dtype).view(1, 2, 1, 1)
    return float(params[0]) * cbcr + shift + slope * (y.to(cbcr) - 0.5)
