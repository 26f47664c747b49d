"""Many strokes that agree re-grade the whole picture (colorizer.regrade), and only then."""

import numpy as np
import pytest
import torch

import colorizer
from colorizer.propagate import MANY_STROKES, propagate_strokes
from colorizer.regrade import LUMA_RIDGE, MIN_STROKES, OFFSET_RIDGE, SATURATION_RIDGE, STROKE_SHRINK, fit_regrade, regrade_to_strokes
from tests.test_strokes import CONFIG, BlindNet, chroma, two_regions

TEAL = (40, 150, 140)  # a dab color whose chroma fits the gamut at the luminance of both test regions


def dabs(places, color, side=3):
    return [(x + dx, y + dy, color) for x, y in places for dx in range(side) for dy in range(side)]


def stroke_points(places, cbcr, side=3):
    """``parse_hints``-style points (xs, ys, K x 2 chroma): a side x side dab of ``cbcr`` at each place."""
    xs = np.array([x + dx for x, _ in places for dx in range(side) for _ in range(side)])
    ys = np.array([y + dy for _, y in places for _ in range(side) for dy in range(side)])
    return xs, ys, np.tile(cbcr, (len(xs), 1))


def grid_places(count, x_range, y_range):
    """``count`` dab corners on a grid, 16 px apart: separate strokes on the 64 px gate grid."""
    places = [(x, y) for y in range(*y_range, 16) for x in range(*x_range, 16)]
    assert len(places) >= count
    return places[:count]


def test_leave_one_out_trust_matches_refitting_without_each_stroke():
    rng = np.random.default_rng(0)
    auto, y = rng.normal(0, 0.08, (9, 2)), rng.uniform(0.2, 0.8, 9)
    correction = 0.6 * auto + [0.05, -0.02] + np.outer(y - 0.5, [0.1, 0.0]) + rng.normal(0, 0.02, (9, 2))
    params, trust = fit_regrade(auto, correction, y)
    penalty = np.diag([SATURATION_RIDGE, OFFSET_RIDGE, OFFSET_RIDGE, LUMA_RIDGE, LUMA_RIDGE])

    def design(u, luma):  # written out row by row: Cb rows then Cr rows of each stroke
        return np.array([row for (cb, cr), v in zip(u, luma) for row in ([cb, 1, 0, v - 0.5, 0], [cr, 0, 1, 0, v - 0.5])])

    left_out = 0.0
    for s in range(len(auto)):
        keep = np.arange(len(auto)) != s
        x, t = design(auto[keep], y[keep]), correction[keep].reshape(-1)
        refit = np.linalg.solve(x.T @ x + penalty, x.T @ t)
        left_out += ((correction[s] - design(auto[s : s + 1], y[s : s + 1]) @ refit) ** 2).sum()
    assert trust == pytest.approx(1 - left_out / (correction**2).sum(), abs=1e-9)
    assert 0.2 < params[0] < 0.8 and 0.5 < trust < 1  # the saturation gain (0.6), shrunk by the ridge and the noise


def run(gray, hints):
    model = colorizer.Colorizer(BlindNet(), CONFIG)  # ignores hints: what changes is the strokes' doing
    return chroma(model.colorize(gray, hints=hints))


def test_agreeing_strokes_recolor_the_whole_region_they_sample():
    """Eight teal dabs on the light half: all of it turns teal, not only around the dabs; with
    one dab fewer than MIN_STROKES, pixels far from every dab keep the automatic colors. Through
    the whole pipeline with a network blind to hints, so the re-grade stays out (it follows the
    network's change) and the many strokes' spread (colorizer.propagate, step 3) carries them."""
    gray = two_regions(128)
    want = chroma([[TEAL]])[0, 0]
    far = (slice(100, 128), slice(64, 128))  # the light half's bottom, >= 50 px below every dab
    many = run(gray, dabs(grid_places(MIN_STROKES + 2, (72, 128), (4, 40)), TEAL))
    few = run(gray, dabs(grid_places(MIN_STROKES - 1, (72, 128), (4, 40)), TEAL))
    assert np.dot(many[far].mean((0, 1)), want) / np.dot(want, want) > 0.75
    assert np.dot(few[far].mean((0, 1)), want) / np.dot(want, want) < 0.25


def test_many_dabs_in_one_region_leave_the_other_region_alone():
    """The flood check with MIN_STROKES + 2 dabs: the other side of a clear luminance edge moves
    by less than a tenth of the dabs' chroma."""
    gray = two_regions(128)
    plain = run(gray, None)
    hinted = run(gray, dabs(grid_places(MIN_STROKES + 2, (4, 60), (4, 124)), TEAL))
    shift = np.linalg.norm(hinted[:, 64:].mean((0, 1)) - plain[:, 64:].mean((0, 1)))
    assert shift < 0.1 * np.linalg.norm(chroma([[TEAL]])[0, 0])


def test_strokes_that_disagree_change_nothing_away_from_themselves():
    """Alternating opposite colors on a flat page: no whole-picture model predicts one stroke
    from the others, so the trust is 0 and the chroma comes back as it went in."""
    y = torch.full((1, 1, 128, 128), 0.5)
    cbcr = torch.zeros(1, 2, 128, 128)
    places = grid_places(10, (4, 124), (4, 124))
    xs, ys, colors = [], [], []
    for i, (x, yy) in enumerate(places):
        for dx in range(3):
            for dy in range(3):
                xs.append(x + dx), ys.append(yy + dy), colors.append([0.1, -0.1] if i % 2 else [-0.1, 0.1])
    assert regrade_to_strokes(y, cbcr, (np.array(xs), np.array(ys), np.array(colors)), agreeing([0.1, -0.1])) is cbcr


def agreeing(cbcr, size=32):
    """A hinted network's change (1 x 2 x size x size) ten times ``cbcr`` everywhere: it goes all
    the way along any correction toward ``cbcr``'s direction."""
    return 10.0 * torch.tensor(cbcr, dtype=torch.float32).view(1, 2, 1, 1).expand(1, 2, size, size)


def test_the_regrade_goes_only_where_the_network_moves_along_it():
    """The same agreeing strokes on a flat page: no network change, or one against the strokes,
    re-grades nothing; one along them, everything; one along them only on the left half of the
    working grid, only the left half (the right half's far side keeps the automatic chroma)."""
    y = torch.full((1, 1, 128, 128), 0.5)
    cbcr = torch.zeros(1, 2, 128, 128)
    want = [-0.05, -0.08]
    points = stroke_points(grid_places(MIN_STROKES + 2, (4, 124), (4, 124)), want)
    for change in (torch.zeros(1, 2, 32, 32), agreeing([0.05, 0.08])):
        assert torch.equal(regrade_to_strokes(y, cbcr, points, change), cbcr)
    assert regrade_to_strokes(y, cbcr, points, agreeing(want)).abs().min() > 0.01
    left_only = agreeing(want).clone()
    left_only[..., 16:] = 0.0
    half = regrade_to_strokes(y, cbcr, points, left_only)
    assert half[..., :56].abs().min() > 0.01 and half[..., 72:].abs().max() < 1e-6


def test_the_fit_is_trusted_by_s_over_s_plus_stroke_shrink(monkeypatch):
    """MIN_STROKES strokes asking for one shift: the re-grade's change is S / (S + STROKE_SHRINK)
    of the change without the shrink, at every pixel (few strokes may agree by chance)."""
    import colorizer.regrade as regrade

    y = torch.full((1, 1, 128, 128), 0.5)
    cbcr = torch.zeros(1, 2, 128, 128)
    points = stroke_points(grid_places(MIN_STROKES, (4, 124), (4, 124)), [-0.05, -0.08])
    shrunk = regrade_to_strokes(y, cbcr, points, agreeing([-0.05, -0.08]))
    monkeypatch.setattr(regrade, "STROKE_SHRINK", 0.0)
    whole = regrade_to_strokes(y, cbcr, points, agreeing([-0.05, -0.08]))
    assert whole.abs().min() > 0.01  # the fit is trusted and reaches the whole flat page
    ratio = MIN_STROKES / (MIN_STROKES + STROKE_SHRINK)
    torch.testing.assert_close(shrunk, ratio * whole, rtol=1e-5, atol=1e-7)


def test_many_strokes_carry_their_color_through_their_region_and_not_across_an_edge():
    """The local spread alone (no network change): MANY_STROKES dabs at the top of the light half
    carry their chroma to its far end (~60 px below them) almost fully; one dab fewer, hardly at
    all (a few strokes correct around themselves); the dark half does not move either way."""
    y = torch.from_numpy(two_regions(128) / 255.0).float()[None, None]
    cbcr = torch.zeros(1, 2, 128, 128)
    want = np.array([-0.05, -0.08])
    reached = {}
    for count in (MANY_STROKES, MANY_STROKES - 1):
        out = propagate_strokes(y, cbcr, stroke_points(grid_places(count, (72, 128), (4, 40)), want))[0].numpy()
        reached[count] = out[:, 100:, 64:].mean((1, 2)) @ want / (want @ want)
        assert np.linalg.norm(out[:, :, :64].mean((1, 2))) < 0.01 * np.linalg.norm(want)
    assert reached[MANY_STROKES] > 0.9 and reached[MANY_STROKES - 1] < 0.1
