"""Shared fixtures."""

import pytest
import torch

import colorizer


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
            "normalization": {"gray_mean": 120.0, "gray_std": 60.0, "scheme": "standard"},
            "metrics": {"val_psnr": 20.0},
        },
    )
    return folder
