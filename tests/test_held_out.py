"""A few strokes: the hinted network's change is trusted as far as it foresees a stroke left out
(colorizer.held_out)."""

import numpy as np
import torch

from colorizer.held_out import held_out_hints, held_out_trust, point_strokes
from colorizer.hints import hint_channels, parse_hints
from colorizer.pipeline import Colorizer
from colorizer.propagate import MANY_STROKES
from tests.test_regrade import TEAL, dabs, grid_places
from tests.test_strokes import CONFIG, BlindNet, FloodNet, chroma, two_regions

RED = (214, 40, 40)


def points_of(places, color=TEAL, size=128):
    return parse_hints(dabs(places, color), (size, size))


def test_strokes_are_counted_as_the_gate_counts_them():
    touching = points_of([(10, 10), (12, 10)])  # one stroke on the 64 px gate grid
    apart = points_of([(10, 10), (60, 10), (10, 60)])
    assert point_strokes(touching, 128, 128).max() == 0
    assert sorted(set(point_strokes(apart, 128, 128))) == [0, 1, 2]


def test_the_check_runs_only_for_two_to_fewer_than_many_strokes():
    working = (32, 32)
    for count, expected in ((1, False), (2, True), (MANY_STROKES - 1, True), (MANY_STROKES, False)):
        points = points_of(grid_places(count, (8, 120), (8, 120)))
        assert (held_out_hints(points, (128, 128), working) is not None) == expected


def test_each_stroke_is_left_out_once_and_shown_alone_once():
    points = points_of(grid_places(3, (8, 120), (8, 120)))
    without, alone = held_out_hints(points, (128, 128), (32, 32))
    assert without.shape == alone.shape == (3, 3, 32, 32)
    every = hint_channels(points, (128, 128), (32, 32))[0, 2] > 0
    masks = alone[:, 2] > 0
    assert masks.sum(0).max() == 1 and torch.equal(masks.any(0), every)  # disjoint, and all of them
    assert torch.equal((without[:, 2] > 0), every[None] & ~masks)  # the others, each time


def test_trust_is_the_mean_share_along_each_left_out_correction():
    auto = torch.zeros(1, 2, 8, 8)
    alone = torch.zeros(2, 3, 8, 8)
    alone[0, :, 1, 1] = torch.tensor([0.1, -0.1, 1.0])
    alone[1, :, 6, 6] = torch.tensor([-0.2, 0.05, 1.0])
    change = torch.zeros(2, 2, 8, 8)
    change[0, :, 1, 1] = torch.tensor([0.1, -0.1])  # foreseen all the way
    change[1, :, 6, 6] = torch.tensor([0.2, -0.05])  # against it
    assert abs(held_out_trust(change, alone, auto) - 0.5) < 0.01
    change[0, :, 1, 1] *= 3  # never more than all of it
    assert abs(held_out_trust(change, alone, auto) - 0.5) < 0.01
    change[1, :, 6, 6] = torch.tensor([-0.1, 0.025])  # half way
    assert abs(held_out_trust(change, alone, auto) - 0.75) < 0.01


def test_strokes_that_contradict_the_networks_reading_drop_its_change():
    """FloodNet paints the mean hint color everywhere: left without one of two dabs of opposite
    colors, it paints the other's, against the one left out: trust 0, and the output is what a
    network that ignores its hints gives. Two dabs of one color foresee each other: trust 1."""
    gray = two_regions()
    places = [(80, 30), (100, 90)]  # both in the light half, separate strokes
    opposite = dabs(places[:1], RED) + dabs(places[1:], TEAL)
    flood, blind = Colorizer(FloodNet(), CONFIG), Colorizer(BlindNet(), CONFIG)
    assert np.array_equal(np.asarray(flood.colorize(gray, hints=opposite)), np.asarray(blind.colorize(gray, hints=opposite)))
    same = dabs(places, TEAL)
    flooded, blinded = chroma(flood.colorize(gray, hints=same)), chroma(blind.colorize(gray, hints=same))
    assert np.abs(flooded - blinded).max() > 0.02  # the network's change is kept (as far as the gate lets it)
