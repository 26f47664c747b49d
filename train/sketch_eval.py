"""Sketch mode against its targets: line drawings of clip-art, one true-color dab per region.

``python -m train.sketch_eval [--count 50] [--size 256] [--files IMG...] [--json OUT]``

Each colored picture (synthetic clip-art by default: flat-colored ellipses, boxes and polygons on
a white or colored page; ``--files`` for real clip-art such as the corpus's, all one size) becomes
a line drawing: black 2-pixel outlines where the color changes, on white. Every region of the
drawing (4-connected pixels off the lines once small gaps are closed, as sketch mode sees them; at least ``MIN_REGION`` pixels with room for a dab) gets
one 3 x 3 dab of its true color, and ``colorize(drawing, mode="sketch", hints=dabs)`` fills it.
Targets (issue 18): in every region at least 95% of the pixels within Delta E 10 (CIELAB, CIE76)
of the dab's color, and PSNR against the colored picture at least 6 dB above the drawing's.
"""

import argparse
import json
import sys

import numpy as np
import torch
from PIL import Image, ImageDraw
from scipy import ndimage

import colorizer
from colorizer.color import delta_e
from colorizer.metrics import psnr
from colorizer.sketch import ink_mask

__all__ = ["clip_art", "line_drawing", "region_dabs", "evaluate_sketch", "main"]

MIN_REGION = 50  # pixels; smaller slivers are not dabbed (and not scored)
PALETTE = np.array([[230, 57, 70], [244, 162, 97], [233, 196, 106], [42, 157, 143], [38, 70, 83], [69, 123, 157],
                    [168, 218, 220], [131, 56, 236], [255, 190, 11], [6, 214, 160], [17, 138, 178], [255, 112, 166],
                    [141, 85, 36], [120, 190, 80], [250, 240, 220]], dtype=np.uint8)


def clip_art(size, rng):
    """size x size x 3 uint8: 3 to 8 flat-colored shapes on a white (or, one time in three,
    colored) page, drawn without antialiasing, as clip-art is flat."""
    page = tuple(int(v) for v in (PALETTE[rng.integers(len(PALETTE))] if rng.random() < 1 / 3 else (255, 255, 255)))
    image = Image.new("RGB", (size, size), page)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.integers(3, 9)):
        color = tuple(int(v) for v in PALETTE[rng.integers(len(PALETTE))])
        x0, y0 = rng.integers(0, size * 3 // 4, 2)
        w, h = rng.integers(size // 8, size // 2, 2)
        kind = rng.integers(3)
        if kind == 0:
            draw.ellipse([x0, y0, x0 + w, y0 + h], fill=color)
        elif kind == 1:
            draw.rectangle([x0, y0, x0 + w, y0 + h], fill=color)
        else:
            draw.polygon([tuple(int(v) for v in p) for p in rng.integers(0, size, (3, 2))], fill=color)
    return np.asarray(image)


def line_drawing(rgb_uint8, width=2):
    """H x W uint8 gray drawing of a colored picture: black where the color changes (lines
    ``width`` pixels wide), white elsewhere; and the H x W bool line mask."""
    change = np.zeros(rgb_uint8.shape[:2], bool)
    change[:, 1:] |= (rgb_uint8[:, 1:] != rgb_uint8[:, :-1]).any(-1)
    change[1:, :] |= (rgb_uint8[1:] != rgb_uint8[:-1]).any(-1)
    lines = ndimage.binary_dilation(change, np.ones((width, width), bool)) if width > 1 else change
    return np.where(lines, 0, 255).astype(np.uint8), lines


def region_dabs(rgb_uint8, drawing, rng, side=3):
    """(labels H x W int, scored (region id, color) pairs, hints): one ``side`` x ``side`` dab of
    the true color (the region's most common color) at a random place inside each region big
    enough. Regions as the issue defines them: enclosed by the lines once small gaps are closed
    (``colorizer.sketch.ink_mask``, what a person sees as closed and dabs)."""
    lines = ink_mask(torch.from_numpy(drawing / np.float32(255))[None, None])[1]
    labels, count = ndimage.label(~lines)
    hints, scored = [], []
    for region in range(1, count + 1):
        inside = labels == region
        room = ndimage.binary_erosion(inside, np.ones((side, side), bool))
        if inside.sum() < MIN_REGION or not room.any():
            continue
        colors, counts = np.unique(rgb_uint8[inside], axis=0, return_counts=True)
        color = tuple(int(v) for v in colors[counts.argmax()])
        ys, xs = np.nonzero(room)
        pick = rng.integers(len(ys))
        hints += [(int(xs[pick]) + dx, int(ys[pick]) + dy, color) for dy in range(-(side // 2), side // 2 + 1)
                  for dx in range(-(side // 2), side // 2 + 1)]
        scored.append((region, color))
    return labels, scored, hints


def evaluate_sketch(model, pictures, seed=0):
    """Per picture: (worst region's share of pixels within Delta E 10, PSNR of the output,
    PSNR of the drawing), both PSNR against the colored picture."""
    rng = np.random.default_rng(seed)
    rows = []
    for picture in pictures:
        drawing, _ = line_drawing(picture)
        labels, scored, hints = region_dabs(picture, drawing, rng)
        out = np.asarray(model.colorize(drawing, mode="sketch", hints=hints))
        shares = [float((delta_e(out[labels == r] / 255.0, np.asarray(c) / 255.0) <= 10).mean()) for r, c in scored]
        rows.append((min(shares) if shares else 1.0, psnr(out, picture), psnr(np.repeat(drawing[..., None], 3, -1), picture)))
    return np.array(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m train.sketch_eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50, help="synthetic pictures")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--files", nargs="*", default=[], help="colored clip-art files instead of synthetic pictures")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    try:
        pictures = [np.asarray(colorizer.open_image(f).convert("RGB")) for f in args.files] or \
            [clip_art(args.size, rng) for _ in range(args.count)]
        model = colorizer.load()  # sketch mode uses no network yet; load() gives the pipeline
    except (colorizer.WeightsError, colorizer.ImageInputError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    rows = evaluate_sketch(model, pictures)
    worst, out_psnr, drawing_psnr = rows.T
    print(f"{len(rows)} pictures: worst region within Delta E 10: min {100 * worst.min():.1f}%, mean {100 * worst.mean():.1f}% "
          f"(target >= 95%); pictures meeting it {(worst >= 0.95).mean() * 100:.0f}%")
    print(f"PSNR: filled {out_psnr.mean():.2f} dB, drawing {drawing_psnr.mean():.2f} dB, gain {np.mean(out_psnr - drawing_psnr):+.2f} dB "
          f"(smallest {np.min(out_psnr - drawing_psnr):+.2f}; target >= +6)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"pictures": len(rows), "worst_region_share_min": float(worst.min()), "worst_region_share_mean": float(worst.mean()),
                       "psnr": float(out_psnr.mean()), "psnr_drawing": float(drawing_psnr.mean())}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
