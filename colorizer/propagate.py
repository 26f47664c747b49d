"""Full-resolution, edge-aware color strokes: the output obeys the person's hints, and a true
color does not make the picture markedly worse.

The network sees hints only as points on its small working grid (32 px for the shipped hint
network) and answers with what it knows: one dab may recolor the whole picture. Its change
(hinted minus automatic output) helps on average and ruins single pictures: a yellow dab on an
eagle's beak turned the white head and the gray background yellow, 11.5 dB below the automatic
result; with one true-color dab on 200 Linnaeus 5 train images at 128 px, the change more than
0.15 long sides from the dab would best have been scaled by a negative factor for 23% of them
(18% with 2 dabs, 6% with 5, 3.5% with 10). So a hinted image starts from the automatic colors
and takes from the network only what the strokes vouch for:

1. on a gate grid of long side ``GATE_SIZE`` (coarse enough that texture is not an edge), each
   pixel answers to its geodesically nearest stroke cell (:func:`geodesic_voronoi`: a luminance
   step of ``EDGE_STEP``, or an automatic-chroma step of ``EDGE_STEP / GATE_CHROMA``, costs one
   long side: the network's colors mark edges that the gray image does not), whose correction
   is the strokes' chroma minus the automatic chroma there. It takes ``gate x share`` of that correction (:func:`confine_change`):
   ``share`` in [0, 1] is how far the network's change goes along the correction (nothing the
   stroke did not ask for, never more than it asked: a dab where the automatic color is right
   changes nothing); ``gate`` falls with geodesic distance (``GATE_REACH`` long sides per
   stroke: the more strokes, the more of the network's reading they bear out), with luminance
   difference from the stroke (``LUMA_STEP``) and for stroke pixels unlike the rest of their
   stroke (``PIXEL_STEP``: a dab brushing across an edge says nothing about the other side).
   The result is brought to the propagation grid by guided upsampling;
2. at full resolution, the residual ``stroke chroma - chroma so far`` at every stroke pixel (any
   size: a 3-pixel dab counts, at its exact pixels) is area-averaged onto a grid of long side
   at most ``PROPAGATION_SIZE`` and spread by the domain transform's recursive filter (Gastal
   and Oliveira, SIGGRAPH 2011) as a normalized convolution, ``F(mask x residual) / (F(mask) +
   REACH)``: across a luminance edge the filter's weights collapse, and the change fades with
   distance where the automatic colors take over again; it is brought to full size by guided
   upsampling, added, and the stroke pixels are set to the strokes' chroma exactly.
3. with ``MANY_STROKES`` or more separate strokes the spread of step 2 reaches through each
   region (``SIGMA_S_MANY``, ``REACH_MANY``): a person who painted that much has said what the
   regions are, and the edges still stop it. Measured (December 2026, seeded 3 x 3 dabs, with the
   re-grade's small-sample shrink): on 1,000 Linnaeus 5 train images at 10 dabs +2.79 -> +2.87 dB
   over automatic, the worst image -0.47 -> -0.48 dB; on all 1,600 test images +2.93 -> +3.01 dB,
   worst -0.45 -> -0.49. With few strokes the same reach loses: 2 dabs on those train images,
   +0.23 dB / worst -0.26 with the short spread, +0.29 / -2.02 with it (two images past -0.5 dB).
   Other dab seeds on the test images: +2.99 / +2.98 dB, worst -0.31 / -0.25. Going further
   trades the worst image for the mean (train images, 10 dabs: filter 0.6, pull 0.05: +0.02 dB,
   worst -0.49; a luminance step of 0.06 in place of ``SIGMA_R``: +0.07 dB, one image at -0.52).

Measured (``python -m train.stroke_curve --limit 400``: 400 Linnaeus 5 test images at 128 px,
0/1/2/5/10/20 true-color 3 x 3 dabs, with ``colorizer.regrade`` before this step): mean PSNR
21.70/21.84/22.07/22.82/25.11/26.49 dB, +0.14/+0.37/+1.13/+3.41/+4.79 over automatic, the worst
image -0.09/-0.33/-0.29/-0.14/+0.20 dB against its automatic result, none below -0.5 dB; flood
check 0.0%. With the luminance as the gate's only guide: +0.26/+0.65/+1.71/+3.77/+5.03 dB, worst
-0.84/-0.78/-1.01/-0.26/+0.20, one image below -0.5 dB at each of 1, 2, 5 dabs, where a dab's
correction crossed an edge that the gray image hardly has (an ostrich's beige neck against a
blue sky as bright). ``GATE_CHROMA`` is the smallest of 5/10/20/40 with no image below -0.5 dB
at up to 10 dabs on the two train sets (at 20 dabs one of their 400 is, -1.10 dB, with or without
it: dabs on blackberries gray the leaves behind); it buys the worst image with mean gain at few
dabs. Guiding the spread (step 2) by the chroma too (weight 10) moved neither. The previous step
(the network's whole change times a geodesic gate of reach 2 long sides on its working grid)
had worst -11.50/-2.73/-2.06 dB at 1/2/5 dabs with 18/14/12 images below -0.5 dB, flood 2.1%.
What is left fails for small things as bright and as colored as their surroundings (a beak on a
white head, a leaf on a dark background), whose edges the gate grid does not see.

All numbers here were measured with the hint network that was the default then
(``chroma_unet_hints``). With ``chroma_hints_scratch_mild``, the default since 7 December 2026, the
same steps gave on all 1,600 Linnaeus 5 test images +3.28 dB at 10 dabs (+3.31 / +3.29 with other
dab seeds), one image at -0.98 dB from the re-grade, and on two sets of 200 train images +3.04 /
+3.30 dB with none below -0.5 dB; there a larger re-grade shrink (4) or a narrower luminance
support (0.1) only lost mean gain (+2.92 / +3.15, +2.74 / +2.95), so the constants were kept and
the re-grade now follows the network's change (``colorizer.regrade``): +3.11 dB at 10 dabs, worst
-0.43 (the model card has the whole curve). With another draw of the dabs (seed 2) this step
itself fails at 5 dabs, where no re-grade runs: 2 images past -0.5 dB (``bird_8_128.jpg`` -1.12:
a dab on a dark orange cloud browns the dark blue sky around it; ``flower_275_128.jpg`` -0.82: a
dab on a purple flower in a dark green background turns the background purple), the network's
change let through by a gate that sees no edge between them (spreading the strokes alone, without
the network's change: +0.04 and -0.10 dB). So with 2 to 5 strokes the change is now first scaled
by how far it foresees each stroke left out (``colorizer.held_out``): -0.15 and -0.11 dB.

Tuned on Linnaeus 5 train images (two sets of 200, never the test images). Each part buys safety
with mean gain; dropped one at a time (one set, 10 dabs, without step 2: +2.30 dB, worst image
-0.26 dB at any count): the projection (the network's whole change, gated) +2.36 dB, worst
-1.40; the luminance term +2.60, worst -0.84; the pixel trust +2.47, worst -0.56; the distance
term +2.58, worst -5.27. Also measured and not kept: gate grids of 32 and 128 px, a domain-
transform mass as the gate, reaches growing as strokes^0.5..1.5, a luminance term widening with
more strokes, a linear luminance cost in the distance, and the network fed its own automatic
colors as extra hints far from the strokes: none gave more gain for the same worst image.

Why the domain transform and not Levin, Lischinski and Weiss's optimization (SIGGRAPH 2004) as
the spread (``python -m train.propagation_compare --limit 30``, measured with the previous gate:
30 Linnaeus 5 test images at 128 px, a screened sparse solve on the same grid): PSNR gain over
automatic at 1/2/5/10/20 dabs +0.84/+1.54/+2.50/+3.47/+4.24 dB (domain transform) against
+0.85/+1.56/+2.55/+3.57/+4.39 (Levin), both 2.1% in the flood check; but one spread on a
256 x 256 grid took 173 ms against 1085 ms (2-core CPU shared with other jobs), and the 1024 px
photo has 300 ms for everything: 0.1 dB is not worth six times the time.
"""

import numpy as np
import torch

from .edge_aware import domain_transform, geodesic_voronoi
from .stroke_cells import grid_cells, grid_shape, pixel_strokes, splat, stroke_pixels
from .upsample import guided_upsample, resize

__all__ = ["PROPAGATION_SIZE", "GATE_SIZE", "MANY_STROKES", "gate_strokes", "share_along", "confine_change", "spread_residual", "propagate_strokes"]

PROPAGATION_SIZE = 256  # long side of the propagation grid; the recursive filter is O(pixels)
SIGMA_S = 0.12  # spatial reach of the filter, as a fraction of the grid's long side
SIGMA_R = 0.04  # luminance step (Y in [0, 1]) that counts as one spatial sigma of distance
REACH = 1.0  # stroke pixels (of the input) at which a stroke's pull is half its full strength
GATE_SIZE = 64  # long side of the gate's grid: coarse enough that texture is not an edge
EDGE_STEP = 0.15  # a luminance step this large costs the gate one long side of distance
GATE_REACH = 0.5  # in long sides, per stroke: the gate falls to 1/e at this (geodesic) distance
LUMA_STEP = 0.25  # ... and at this luminance difference (Y in [0, 1]) from the nearest stroke
GATE_CHROMA = 20.0  # the gate's edges also see the automatic chroma, times this, beside the luminance
PIXEL_STEP = 0.15  # a stroke pixel this much brighter or darker than its stroke's median trusts it 1/e
MANY_STROKES = 6  # separate strokes (8-connected on the gate grid) from which the strokes are many:
SIGMA_S_MANY = 0.4  # ... then each region takes its strokes' residual through and through: the
REACH_MANY = 0.1  # filter reaches 0.4 long sides and a stroke pulls fully from its first pixels


def gate_strokes(flat, height, width):
    """The stroke of each stroke pixel (K flat indices into H x W): the 8-connected group of cells
    of the gate grid (long side ``GATE_SIZE``) it falls in, K int64 numbered from 0."""
    grid = grid_shape(height, width, GATE_SIZE)
    return pixel_strokes(grid_cells(flat, height, width, grid), grid)


def _group_medians(values, groups):
    """Median of ``values`` (K floats) within each group (``groups``: K ints 0 .. G-1, each one
    present): G floats, the lower middle value for even counts. One sort, any number of groups."""
    order = np.lexsort((values, groups))
    counts = np.bincount(groups)
    return values[order][np.cumsum(counts) - counts + (counts - 1) // 2]


def _cell_votes(y_full, flat, correction, grid):
    """The stroke pixels pooled per cell of the gate grid.

    Returns seeds (grid-shaped int64: the cell's number at cells under a stroke, -1 elsewhere),
    per cell its correction (U x 2), luminance (U) and trust (U, in [0, 1]), and the number of
    strokes (8-connected groups of cells). A stroke is one color: it vouches for the pixels under
    it that look alike (luminance near the stroke's median) and not for those it only brushes
    across an edge, whose correction (stroke color minus another region's automatic color) says
    nothing about that region; their weight falls off with ``PIXEL_STEP``."""
    height, width = y_full.shape[-2:]
    pixel_cells = grid_cells(flat, height, width, grid)
    cells, inverse = np.unique(pixel_cells, return_inverse=True)
    seeds = np.full(grid[0] * grid[1], -1, dtype=np.int64)
    seeds[cells] = np.arange(len(cells))
    seeds = seeds.reshape(grid)
    groups = pixel_strokes(pixel_cells, grid)
    y_stroke = y_full.reshape(-1)[flat].double().numpy()
    trust = np.exp(-(((y_stroke - _group_medians(y_stroke, groups)[groups]) / PIXEL_STEP) ** 2))
    counts = np.bincount(inverse)
    cell_trust = np.bincount(inverse, weights=trust)
    cell_correction = np.stack([np.bincount(inverse, weights=trust * c) for c in correction.T], 1)
    cell_correction /= np.maximum(cell_trust, 1e-12)[:, None]
    return seeds, cell_correction, np.bincount(inverse, weights=y_stroke) / counts, cell_trust / counts, groups.max() + 1


def share_along(change, toward):
    """How far ``change`` goes along ``toward`` (both 2 x h x w chroma arrays), per pixel, clipped to
    [0, 1]: nothing against it or across it, never more than all of it. 1e-4 = (0.01 chroma)^2: a
    ``toward`` much smaller than that lets almost nothing through."""
    return np.clip((change * toward).sum(0) / ((toward**2).sum(0) + 1e-4), 0.0, 1.0)


def confine_change(y_full, cbcr_full, change_small, flat, correction):
    """The hinted network's change, kept only as far as the strokes vouch for it.

    y_full: 1 x 1 x H x W luminance in [0, 1]; cbcr_full: 1 x 2 x H x W automatic chroma (the
    gate's second guide, times ``GATE_CHROMA``); change_small: 1 x 2 x h x w, hinted minus
    automatic chroma on the network's grid; flat: K stroke pixels (flat indices of H x W);
    correction: K x 2, each stroke pixel's chroma minus the automatic chroma there. Returns the
    confined change (1 x 2 x g x g') and the luminance (1 x 1 x g x g') on the gate grid (long
    side ``GATE_SIZE``).

    Each pixel answers to its geodesically nearest stroke cell and takes ``gate x share`` of
    that cell's correction: ``share`` in [0, 1] is how far the network's change goes along the
    correction (nothing the strokes did not ask for, never more than they asked: a dab where the
    automatic color is right changes nothing); ``gate`` is the cell's trust times
    ``exp(-d / (GATE_REACH x strokes x long side) - (dY / LUMA_STEP)^2)``, d the geodesic
    distance, dY the luminance difference from the cell: far, across edges, or in another
    brightness, a stroke says less; the more strokes, the more the network's reading is borne out.
    """
    height, width = y_full.shape[-2:]
    grid = grid_shape(height, width, GATE_SIZE)
    y_gate = resize(y_full, grid)
    y = y_gate[0, 0].double().numpy()
    seeds, cell_correction, cell_y, cell_trust, strokes = _cell_votes(y_full, flat, correction, grid)
    guide = np.concatenate([y[None], GATE_CHROMA * resize(cbcr_full.float(), grid)[0].double().numpy()])
    distance, nearest = geodesic_voronoi(guide, seeds, EDGE_STEP)
    reach = GATE_REACH * strokes * max(grid)
    gate = cell_trust[nearest] * np.exp(-distance / reach - ((y - cell_y[nearest]) / LUMA_STEP) ** 2)
    toward = cell_correction[nearest].transpose(2, 0, 1)  # 2 x g x g'
    change = resize(change_small.float(), grid)[0].double().numpy()
    return torch.from_numpy((gate * share_along(change, toward) * toward).astype(np.float32))[None], y_gate


def spread_residual(y, stack, area, sigma_s=SIGMA_S, sigma_r=SIGMA_R, reach=REACH):
    """The residual spread on the grid: y h x w in [0, 1]; stack 3 x h x w (mask x residual Cb,
    Cr, and mask, area-averaged); area: input pixels per grid cell. Returns 2 x h x w."""
    sigma = sigma_s * max(y.shape)
    spread = domain_transform(y, stack.astype(np.float32), sigma, sigma_r)
    impulse_peak = 1.0 / (np.pi * sigma**2)  # about F(one pixel of mass) at that pixel, in a flat image
    return spread[:2] / (spread[2] + reach / area * impulse_peak)


def propagate_strokes(y_full, cbcr_full, points, change_small=None, size=PROPAGATION_SIZE):
    """Make one image's chroma obey its strokes.

    y_full: 1 x 1 x H x W float luminance in [0, 1]; cbcr_full: 1 x 2 x H x W the network's
    automatic chroma at full size; points: ``parse_hints`` output (xs, ys in input pixels, cbcr
    K x 2); change_small: None or 1 x 2 x h x w, the hinted network's chroma minus its automatic
    chroma on its working grid (confined by :func:`confine_change`). Returns a new 1 x 2 x H x W.
    """
    height, width = y_full.shape[-2:]
    flat, stroke_cbcr = stroke_pixels(points, height, width)
    if len(flat) == 0:
        return cbcr_full
    y_full = y_full.float()
    correction = stroke_cbcr - cbcr_full.reshape(2, -1)[:, flat].double().numpy().T  # K x 2
    grid = grid_shape(height, width, size)
    y_grid = resize(y_full, grid)
    change = np.zeros((2, *grid), dtype=np.float32)
    if change_small is not None:
        confined, y_gate = confine_change(y_full, cbcr_full, change_small, flat, correction)
        change = guided_upsample(confined, y_gate, y_grid)[0].numpy()
    residual = correction - change.reshape(2, -1)[:, grid_cells(flat, height, width, grid)].T  # what the strokes still ask for
    stack, area = splat(flat, np.concatenate([residual, np.ones((len(flat), 1))], 1), height, width, grid)
    many = gate_strokes(flat, height, width).max() + 1 >= MANY_STROKES
    sigma_s, reach = (SIGMA_S_MANY, REACH_MANY) if many else (SIGMA_S, REACH)
    spread = spread_residual(y_grid[0, 0].numpy(), stack, area, sigma_s=sigma_s, reach=reach)
    delta = torch.from_numpy((change + spread).astype(np.float32))[None]
    if grid != (height, width):
        delta = guided_upsample(delta, y_grid, y_full)
    out = cbcr_full + delta.to(cbcr_full)
    out.reshape(2, -1)[:, flat] = torch.from_numpy(stroke_cbcr.T).to(out)
    return out
