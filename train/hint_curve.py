"""How much user hints help: PSNR against the number of hints, gray baseline alongside.

``python -m train.hint_curve --model NAME [--counts 0,1,2,5,10,20,50] [--data PATH...]
[--limit N] [--json OUT]``: for each count k, every test image gets k hints at uniformly random
pixels carrying that pixel's true color (seeded, so every model sees the same hints), is
colorized through the library's pipeline, and PSNR (per image, 8-bit, capped at 50 dB) is
averaged. Zhang et al. (SIGGRAPH 2017) report on ImageNet 24.43 dB with no hints, 26.20 with 2,
28.42 with 10 and 30.42 with 50.
"""

import argparse
import json
import sys

import numpy as np
import torch

import colorizer
from colorizer.hints import hint_channels
from colorizer.metrics import psnr_batch

from .config import DATA_DIR
from .data import load_sources
from .evaluate import colorize_set

__all__ = ["random_pixel_hints", "hint_curve", "PAPER_PSNR"]

PAPER_PSNR = {0: 24.43, 2: 26.20, 10: 28.42, 50: 30.42}  # Zhang et al. 2017, ImageNet


def random_pixel_hints(count, seed=0):
    """A ``hints`` callable for :func:`train.evaluate.colorize_set`: ``count`` random pixels
    per image with their true colors, as hint channels at the working shape."""
    rng = np.random.default_rng(seed)

    def make(rgb, working_shape):
        n, _, height, width = rgb.shape
        rgb_uint8 = (rgb.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
        channels = []
        for image in rgb_uint8:
            ys, xs = rng.integers(0, height, count), rng.integers(0, width, count)
            cbcr = colorizer.rgb_to_ycbcr(image[ys, xs].astype(np.float64) / 255.0)[:, 1:]
            channels.append(hint_channels((xs, ys, cbcr), (width, height), working_shape))
        return torch.cat(channels) if channels else torch.zeros(0, 3, *working_shape)

    return make


def hint_curve(model, images_uint8, counts, seed=0):
    """{count: mean PSNR} plus "gray": the gray baseline's mean PSNR, on N x H x W x 3 uint8."""
    curve = {}
    for count in counts:
        outputs, grays = colorize_set(model, images_uint8, hints=random_pixel_hints(count, seed) if count else None)
        curve[count] = float(psnr_batch(outputs, images_uint8).mean())
    curve["gray"] = float(psnr_batch(grays, images_uint8).mean())
    return curve


def format_curve(curve, counts):
    lines = ["| hints | " + " | ".join(str(c) for c in counts) + " |", "| --- |" + " ---: |" * len(counts)]
    lines.append("| this model, PSNR dB | " + " | ".join(f"{curve[c]:.2f}" for c in counts) + " |")
    lines.append("| Zhang et al. 2017 (ImageNet) | " + " | ".join(f"{PAPER_PSNR[c]:.2f}" if c in PAPER_PSNR else "" for c in counts) + " |")
    return "\n".join(lines) + f"\n\nGray baseline on the same images: {curve['gray']:.2f} dB."


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m train.hint_curve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--counts", default="0,1,2,5,10,20,50")
    parser.add_argument("--data", nargs="+", default=[str(DATA_DIR / "cifar10-images.tar.gz")])
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.counts.split(",")]
    try:
        model = colorizer.load(args.model)
        images = load_sources(args.data, "test").images
    except (colorizer.WeightsError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if counts != [0] and not model.accepts_hints:
        print(f"error: model {model.name!r} does not take hints", file=sys.stderr)
        return 1
    curve = hint_curve(model, images[: args.limit] if args.limit else images, counts)
    print(format_curve(curve, counts))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": model.name, "curve": {str(k): v for k, v in curve.items()}}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
