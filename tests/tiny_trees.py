"""Tiny image trees in the loader's train|test/<class>/<file> layout, for training and evaluation tests."""

import numpy as np
from PIL import Image


def make_tree(root, size=32, n_train=6, n_test=3, seed=0, classes=("sky", "grass")):
    """train|test/<class>/<file> with smooth colored patterns (learnable, not noise); returns root.
    classes: two or more class names (the first bluish, the others greenish)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    for split, n in (("train", n_train), ("test", n_test)):
        for cls, hue in zip(classes, [(0.2, 0.4, 0.9)] + [(0.2, 0.8, 0.2)] * (len(classes) - 1)):
            (root / split / cls).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                phase = rng.random()
                shade = 0.5 + 0.5 * np.sin(6 * (xx + yy) + 6 * phase)[..., None]
                rgb = (np.array(hue) * shade + 0.1 * rng.random((size, size, 3))) * 255
                Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).save(root / split / cls / f"{i:04d}.png")
    return root
