"""Do strokes work at full resolution? The hint curve with painted dabs, and the flood check.

``python -m train.stroke_curve [--model NAME] [--data PATH...] [--size 128] [--files IMG...]
[--counts 0,1,2,5,10,20] [--dab 3] [--seed 0] [--limit N] [--json OUT]``

- Curve: every test image, at its full resolution, gets k dabs (``--dab`` x ``--dab`` pixel squares
  at uniformly random places, seeded by ``--seed``, each painted with the mean true color under it,
  as a person picks one color for a spot) and is colorized through the library's pipeline, strokes
  and all. Printed per k: mean PSNR (8-bit, capped at 50 dB), the gain over k = 0 (automatic), the
  worst image's change against its own automatic result, and how many images lose more than 0.5 dB.
  Targets (issue 18): the mean rises at every k, k = 10 is at least 3 dB over automatic, no image
  loses more than 0.5 dB.
  ``--files`` adds photo files (e.g. the corpus's photo test images), each at its own size, as a
  second set.
- Flood check: an image of two regions split by a clear luminance edge; a dab in one region must
  move the other region's mean chroma by less than 10% of the dab's chroma. Printed as that
  fraction, worst over dab colors, sides and edge directions.
"""

import argparse
import json
import sys

import numpy as np
import torch

import colorizer
from colorizer.hints import hint_channels, parse_hints
from colorizer.metrics import psnr_batch

from .config import DATA_DIR
from .data import load_sources

__all__ = ["random_dabs", "stroke_curve", "flood_check", "two_region_image", "main"]

COUNTS = (0, 1, 2, 5, 10, 20)
LOSS_LIMIT = 0.5  # dB: issue 18's bound on any image's loss against its own automatic result
FLOOD_COLORS = ((214, 40, 40), (58, 134, 255), (40, 170, 60), (250, 200, 30))


def random_dabs(rgb_uint8, count, rng, side=3):
    """``count`` dabs on an H x W x 3 uint8 image as a ``hints`` list of (x, y, (r, g, b)): each a
    ``side`` x ``side`` square at a random place (cut at the border) in its mean true color."""
    height, width = rgb_uint8.shape[:2]
    hints = []
    for _ in range(count):
        top, left = int(rng.integers(0, height)) - side // 2, int(rng.integers(0, width)) - side // 2
        rows = range(max(0, top), min(height, top + side))
        cols = range(max(0, left), min(width, left + side))
        color = tuple(int(v) for v in rgb_uint8[rows.start : rows.stop, cols.start : cols.stop].reshape(-1, 3).mean(0).round())
        hints += [(x, y, color) for y in rows for x in cols]
    return hints


def colorize_with_hints(model, images_uint8, hint_lists, batch_size=100):
    """N x H x W x 3 uint8 originals and one hints list per image -> N x H x W x 3 uint8 outputs,
    through ``Colorizer.predict`` as ``colorize`` calls it (network hint channels + strokes)."""
    outputs = []
    height, width = images_uint8.shape[1:3]
    working = model.working_shape(height, width)
    for start in range(0, len(images_uint8), batch_size):
        rgb = torch.from_numpy(images_uint8[start : start + batch_size]).permute(0, 3, 1, 2).float() / 255.0
        y = colorizer.rgb_to_ycbcr_torch(rgb)[:, :1]
        points = [parse_hints(h, (width, height)) if h else None for h in hint_lists[start : start + batch_size]]
        hints = None
        if any(p is not None for p in points):
            hints = torch.cat([hint_channels(p, (width, height), working) if p is not None else torch.zeros(1, 3, *working)
                               for p in points])
        out = model.predict(y, hints=hints, strokes=points)
        outputs.append((out.permute(0, 2, 3, 1).numpy() * 255.0).round().clip(0, 255).astype(np.uint8))
    return np.concatenate(outputs)


def _same_size_runs(images):
    """(start, stop) of each run of consecutive images that share one size."""
    starts = [0] + [i for i in range(1, len(images)) if images[i].shape != images[i - 1].shape]
    return list(zip(starts, starts[1:] + [len(images)]))


def stroke_curve(model, images_uint8, counts=COUNTS, side=3, seed=0):
    """{count: per-image PSNR array} (same images, seeded dabs; count 0 = automatic).

    images_uint8: N x H x W x 3 uint8, or a list of H x W x 3 uint8 arrays of any sizes (photo
    files at their own resolution); consecutive images of one size are colorized in batches."""
    batches = [(start, stop, np.stack(images_uint8[start:stop])) for start, stop in _same_size_runs(images_uint8)]
    curve = {}
    for count in counts:
        rng = np.random.default_rng([seed, count])
        hint_lists = [random_dabs(image, count, rng, side) for image in images_uint8]
        curve[count] = np.concatenate([psnr_batch(colorize_with_hints(model, batch, hint_lists[start:stop]), batch)
                                       for start, stop, batch in batches])
    return curve


def two_region_image(size=256, vertical=True, y_low=0.35, y_high=0.75, seed=0):
    """size x size gray uint8: two flat regions (luminance y_low | y_high) with mild noise."""
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(size)[None, :] < size // 2, y_low, y_high) * np.ones((size, 1))
    y = y if vertical else y.T
    return np.clip((y + rng.normal(0, 0.01, y.shape)) * 255, 0, 255).round().astype(np.uint8)


def flood_check(model, size=256, colors=FLOOD_COLORS, side=5):
    """Worst fraction of a dab's chroma magnitude by which the other region's mean chroma moves."""
    worst = 0.0
    for vertical in (True, False):
        gray = two_region_image(size, vertical)
        plain = colorizer.rgb_to_ycbcr(np.asarray(model.colorize(gray), dtype=np.float64) / 255)[..., 1:]
        for color in colors:
            for dab_side in (0, 1):  # the dab in the first or second region, a quarter in from the edge
                centre = size // 4 if dab_side == 0 else 3 * size // 4
                x, y = (centre, size // 2) if vertical else (size // 2, centre)
                hints = [(x + dx, y + dy, color) for dx in range(-(side // 2), side // 2 + 1) for dy in range(-(side // 2), side // 2 + 1)]
                out = colorizer.rgb_to_ycbcr(np.asarray(model.colorize(gray, hints=hints), dtype=np.float64) / 255)[..., 1:]
                other = (np.arange(size) >= size // 2) if dab_side == 0 else (np.arange(size) < size // 2)
                region = (other[None, :] * np.ones((size, 1), bool)) if vertical else (other[:, None] * np.ones((1, size), bool))
                shift = np.linalg.norm(out[region].mean(0) - plain[region].mean(0))
                dab = np.linalg.norm(colorizer.rgb_to_ycbcr(np.asarray(color, dtype=np.float64) / 255)[1:])
                worst = max(worst, shift / dab)
    return worst


def below_limit(psnr, psnr_auto):
    """How many images lose more than LOSS_LIMIT dB against their own automatic result."""
    return int((psnr - psnr_auto < -LOSS_LIMIT).sum())


def format_curve(name, curve):
    counts = list(curve)
    auto = curve[counts[0]]
    lines = [f"{name}: {len(auto)} images", "| hints | " + " | ".join(str(c) for c in counts) + " |",
             "| --- |" + " ---: |" * len(counts),
             "| mean PSNR dB | " + " | ".join(f"{curve[c].mean():.2f}" for c in counts) + " |",
             "| gain over automatic dB | " + " | ".join(f"{curve[c].mean() - auto.mean():+.2f}" for c in counts) + " |",
             "| worst image vs its automatic dB | " + " | ".join(f"{(curve[c] - auto).min():+.2f}" for c in counts) + " |",
             f"| images > {LOSS_LIMIT} dB below their automatic | " + " | ".join(str(below_limit(curve[c], auto)) for c in counts) + " |"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m train.stroke_curve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--data", nargs="*", default=[str(DATA_DIR / "linnaeus5-128.tar.gz")])
    parser.add_argument("--size", type=int, default=128, help="--data images are resized to this square size")
    parser.add_argument("--files", nargs="*", default=[], help="photo files, a second set, each at its own size")
    parser.add_argument("--counts", default=",".join(map(str, COUNTS)))
    parser.add_argument("--dab", type=int, default=3, help="side of a dab in pixels")
    parser.add_argument("--seed", type=int, default=0, help="seed of the dabs' places (another seed, another draw)")
    parser.add_argument("--limit", type=int, default=0, help="N images of each set, evenly spaced (all classes; 0 = all)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.counts.split(",")]
    try:
        model = colorizer.load(args.model)
        sets = {}
        if args.data:
            sets["data"] = load_sources(args.data, "test", args.size).images
        if args.files:
            sets["files"] = [np.array(colorizer.open_image(f).convert("RGB")) for f in args.files]
    except (colorizer.WeightsError, colorizer.ImageInputError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if not model.accepts_hints and model.hint_model is None:
        print(f"error: model {model.name!r} does not take hints", file=sys.stderr)
        return 1
    model = model if model.accepts_hints else colorizer.load(model.hint_model)
    results = {"model": model.name, "dab": args.dab, "seed": args.seed}
    for name, images in sets.items():
        if args.limit and args.limit < len(images):
            keep = np.linspace(0, len(images) - 1, args.limit).round().astype(int)
            images = [images[i] for i in keep]
        curve = stroke_curve(model, images, counts, args.dab, args.seed)
        print(format_curve(name, curve), flush=True)
        results[name] = {str(k): {"mean": float(v.mean()), "worst_change": float((v - curve[counts[0]]).min()),
                               "below_limit": below_limit(v, curve[counts[0]])} for k, v in curve.items()}
    results["flood"] = flood_check(model)
    print(f"\nflood check: the other region's mean chroma moves by {100 * results['flood']:.1f}% of the dab's chroma (target < 10%)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
