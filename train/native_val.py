"""Validation at the pictures' own size, through the library's inference pipeline.

The loop's validation runs the bare network on the test pictures at the training size (32 px for
CIFAR-10 and Linnaeus 5). What people bring is larger, and the app shrinks it to the working size
and averages flips and scales. The first from-scratch default showed the gap: over its last 12
epochs the 128 px photos grew louder and worse (corpus photos 22.25 -> 21.86 dB, colorfulness ratio
0.84 -> 0.99) while its validation PSNR stayed flat. This validation colorizes the test split of
each source of ``val_native_data`` at its own size the way the export will serve it
(``Colorizer.predict``, the run's inference settings) and records, per row, what the suite
reports: PSNR beside the gray baseline, colorfulness ratio, share below gray, hue accuracy.

Rows: one per source, except the Debian artwork corpus, whose classes are packages: one row per
archive and kind ("corpus photo", "corpus clipart", "gcompris photo"), as the suite pools them.
"""

import numpy as np

from colorizer.pipeline import Colorizer

from .corpus import SOURCES
from .data import load_source, source_name
from .evaluate import colorize_set, metrics_row

__all__ = ["native_sets", "validate_native", "best_native_epoch", "NATIVE_KEYS"]

# What each row records of ``train.evaluate``'s row (computed without SSIM, which alone would take as
# long as colorizing), kept small: the history holds every epoch.
NATIVE_KEYS = ("psnr", "psnr_gray", "colorfulness_ratio", "below_gray", "hue_accuracy")

_ROW_OF_PACKAGE = {s.package: f"{s.archive} {s.kind}" for s in SOURCES}


def native_sets(sources, limit=0):
    """{row name: N x H x W x 3 uint8} from the test split of each source at its own size (all
    images of a source must share it): a row per source, a row per archive and kind for the corpus's packages;
    at most ``limit`` images a row (0 = all), every k-th, so that all classes stay represented."""
    rows = {}
    for source in sources:
        image_set = load_source(source, "test", None)
        for name, image in zip(image_set.names, image_set.images):
            row = _ROW_OF_PACKAGE.get(name.split("_")[0])
            rows.setdefault(row or source_name(source), []).append(image)
    sets = {}
    for row, images in rows.items():
        step = -(-len(images) // limit) if limit else 1
        sets[row] = np.stack(images[::step])
    return sets


def validate_native(model, sets, config):
    """{row: {key: float for NATIVE_KEYS}} for ``model`` (the network as it trains, on the CPU)
    colorizing ``sets`` (:func:`native_sets`) through the pipeline. ``config``: a weights config's
    ``architecture``, ``normalization`` and ``inference`` sections. Leaves the model in eval mode."""
    pipeline = Colorizer(model, config)
    table = {}
    for row, originals in sets.items():
        row_metrics = metrics_row(*colorize_set(pipeline, originals), originals, ssim=False)
        table[row] = {key: row_metrics[key] for key in NATIVE_KEYS}
    return table


def best_native_epoch(history):
    """The epoch of ``history`` whose native rows gain most over gray on average (rows weighted
    equally; the latest of ties), or None if no epoch has them."""
    scored = [(sum(m["psnr"] - m["psnr_gray"] for m in h["native"].values()) / len(h["native"]), h["epoch"])
              for h in history if h.get("native")]
    return max(scored)[1] if scored else None
