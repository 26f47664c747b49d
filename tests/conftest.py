"""Shared fixtures."""

import pytest
import torch

import colorizer
from colorizer.images import DEFAULT_MAX_PIXELS

from .tiny_trees import make_tree

TINY_NORMALIZATION = {"gray_mean": 120.0, "gray_std": 60.0, "scheme": "standard"}


@pytest.fixture(scope="session")
def seed_weights(tmp_path_factory):
    """A weights folder (Path) holding a randomly initialized, seeded ``seed_cnn``: fast, and
    enough for tests of everything around the network."""
    folder = tmp_path_factory.mktemp("weights") / "seed_cnn"
    torch.manual_seed(0)
    colorizer.save_weights(
        folder,
        colorizer.create_model("seed_cnn"),
        {
            "architecture": {"name": "seed_cnn", "kwargs": {}},
            "normalization": TINY_NORMALIZATION,
            "metrics": {"val_psnr": 20.0},
        },
    )
    return folder


@pytest.fixture(scope="session")
def hint_weights(tmp_path_factory):
    """A weights folder (Path) with a seeded, untrained ``chroma_unet_hints`` at a 64 px working size."""
    folder = tmp_path_factory.mktemp("weights") / "hints"
    torch.manual_seed(0)
    colorizer.save_weights(folder, colorizer.create_model("chroma_unet_hints"), {
        "architecture": {"name": "chroma_unet_hints", "kwargs": {}}, "normalization": TINY_NORMALIZATION,
        "inference": {"working_size": 64}, "metrics": {"val_psnr": 20.0}})
    return folder


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """A tiny train|test image tree (``tests.tiny_trees.make_tree``); read-only for its users."""
    return make_tree(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def shared_cache(tmp_path_factory, monkeypatch):
    """Decoded-data cache in one folder per test session, never the user's ~/.cache."""
    monkeypatch.setenv("COLORIZER_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def default_limit(monkeypatch):
    """The library's default pixel limit, whatever the environment says; setenv, not delenv, so
    that monkeypatch also undoes what a CLI call's --max-pixels sets in os.environ."""
    monkeypatch.setenv("COLORIZER_MAX_PIXELS", str(DEFAULT_MAX_PIXELS))
