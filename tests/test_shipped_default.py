"""The shipped default (weights/chroma_hints_scratch_mild since 7 December 2026) as a person meets it:
the luminance kept within one level at its 64 px working size, the same output twice, and cartoons
colored, not tinted (issue 17: the default before the corpus left a red apple gray-brown and a yellow
taxi gray)."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import colorizer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def default_model():
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("COLORIZER_WEIGHTS", raising=False)
        if not colorizer.shipped_models():
            pytest.skip("no shipped weights")
        model = colorizer.load()
        assert model.name == "chroma_hints_scratch_mild"  # the flag in its config.json, whatever the PSNRs
        return model


def test_the_default_works_at_64_px_keeps_luminance_and_repeats_itself(default_model):
    assert default_model.working_size == 64
    rgb = np.random.default_rng(3).integers(0, 256, (97, 203, 3), dtype=np.uint8)
    first, second = np.asarray(default_model.colorize(rgb)), np.asarray(default_model.colorize(rgb))
    assert (first == second).all()
    assert np.abs(np.rint(colorizer.to_gray(first)) - np.rint(colorizer.to_gray(rgb))).max() <= 1


@pytest.mark.parametrize("name, rule, least", [
    # measured: this default / the fine-tuned default before it / the default before the corpus
    ("emoji_apple", "red", 70),        # R - G over the originally red pixels: 123 / 97 / 43
    ("emoji_fire_engine", "red", 70),  # 97 / 168 / 30
    ("emoji_taxi", "yellow", 60),      # (R + G) / 2 - B over the originally yellow pixels: 91 / 110 / -3
])
def test_the_default_paints_cartoon_colors(default_model, name, rule, least):
    image = Image.open(EXAMPLES / f"{name}.png").convert("RGB")
    out = np.asarray(default_model.colorize(colorizer.to_gray(image))).astype(int)  # the rounded gray, as the app's
    rgb = np.asarray(image).astype(int)
    if rule == "red":
        mask = rgb[..., 0] - rgb[..., 1] > 80
        score = (out[mask, 0] - out[mask, 1]).mean()
    else:
        mask = (rgb[..., 0] > 180) & (rgb[..., 1] > 150) & (rgb[..., 2] < 90)
        score = (out[mask, :2].mean(1) - out[mask, 2]).mean()
    assert mask.sum() > 1000 and score > least
