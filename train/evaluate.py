"""Evaluate a colorizer on test images, with the gray baseline measured in the same run.

``python -m train.evaluate --model NAME_OR_FOLDER... --data PATH... [--split test] [--limit N]
[--mode full|seed] [--json OUT]`` prints, per source and pooled: PSNR (per image on 8-bit RGB,
capped at 50 dB, averaged), SSIM, colorfulness (Hasler-Suesstrunk) of outputs and originals,
mean MSE (RGB in [0, 1]) and the original project's summed-loss scale (sum over batches of 100
of the per-batch mean MSE). "gray" is the baseline that returns the gray image as RGB.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

import colorizer
from colorizer.metrics import colorfulness_batch, mse_batch, psnr_batch, ssim_batch

from .config import DATA_DIR
from .data import ImageSet, load_sources

__all__ = ["colorize_set", "evaluate", "evaluate_files", "format_table", "format_comparison", "main"]

ORIGINAL_BATCH = 100  # the original's batch size, which its summed error scales with


def colorize_set(model, images_uint8, mode="full", batch_size=500, hints=None):
    """N x H x W x 3 uint8 originals -> (outputs, grays) as N x H x W x 3 uint8, through the
    library's one pipeline (``Colorizer.predict``) on the originals' gray.

    hints: optional callable (rgb batch N x 3 x H x W in [0, 1], working shape (h, w)) -> hint
    channels N x 3 x h x w, for hint-curve evaluations.
    """
    outputs, grays = [], []
    for start in range(0, len(images_uint8), batch_size):
        rgb = torch.from_numpy(images_uint8[start : start + batch_size]).permute(0, 3, 1, 2).float() / 255.0
        y = colorizer.rgb_to_ycbcr_torch(rgb)[:, :1]
        hint_tensor = hints(rgb, model.working_shape(*rgb.shape[-2:])) if hints else None
        out = model.predict(y, hints=hint_tensor, mode=mode)
        outputs.append((out.permute(0, 2, 3, 1).numpy() * 255.0).round().clip(0, 255).astype(np.uint8))
        grays.append(np.repeat((y.permute(0, 2, 3, 1).numpy() * 255.0).round().clip(0, 255).astype(np.uint8), 3, axis=-1))
    return np.concatenate(outputs), np.concatenate(grays)


def _row(outputs, grays, originals):
    mse_out = mse_batch(outputs, originals)
    mse_gray = mse_batch(grays, originals)
    return {
        "images": len(originals),
        "psnr": float(psnr_batch(outputs, originals).mean()),
        "psnr_gray": float(psnr_batch(grays, originals).mean()),
        "ssim": float(ssim_batch(outputs, originals).mean()),
        "ssim_gray": float(ssim_batch(grays, originals).mean()),
        "colorfulness": float(colorfulness_batch(outputs).mean()),
        "colorfulness_original": float(colorfulness_batch(originals).mean()),
        "mse": float(mse_out.mean()),
        "mse_gray": float(mse_gray.mean()),
        # sum over batches of 100 of the per-batch mean = mean MSE x number of batches
        "loss_sum": float(mse_out.mean() * len(originals) / ORIGINAL_BATCH),
    }


def evaluate(model, image_set, mode="full", limit=0):
    """{source: metrics row, ..., "pooled": row} for an ImageSet (``train.data``)."""
    sources = np.asarray(image_set.sources)
    keep = np.zeros(len(sources), dtype=bool)
    for name in dict.fromkeys(image_set.sources):  # the first ``limit`` images of each source
        index = np.flatnonzero(sources == name)
        keep[index[:limit] if limit else index] = True
    originals, sources = image_set.images[keep], sources[keep]
    outputs, grays = colorize_set(model, originals, mode=mode)
    table = {name: _row(outputs[sources == name], grays[sources == name], originals[sources == name]) for name in dict.fromkeys(sources)}
    table["pooled"] = _row(outputs, grays, originals)
    return table


def evaluate_files(model, paths, mode="full"):
    """{group: table} for image files, grouped by the file-name prefix before the first "_"
    (the app's examples: ``emoji_*.png``, ``cifar10_*.png``); a group's images share one size."""
    groups = {}
    for path in sorted(map(Path, paths)):
        groups.setdefault(path.name.split("_")[0], []).append(path)
    tables = {}
    for group, files in groups.items():
        images = [np.asarray(colorizer.open_image(f).convert("RGB")) for f in files]
        if len({im.shape for im in images}) > 1:
            raise ValueError(f"images of group {group!r} differ in size; evaluate them separately")
        image_set = ImageSet([f.name for f in files], np.stack(images), [group] * len(files))
        tables[group] = {group: evaluate(model, image_set, mode=mode)[group]}
    return tables


def format_table(table, title=""):
    """Markdown table of :func:`evaluate`'s result."""
    lines = [title] if title else []
    lines += [
        "| set | images | PSNR dB | gray PSNR dB | SSIM | gray SSIM | colorfulness | original colorfulness | MSE | gray MSE | summed error |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in table.items():
        lines.append(
            f"| {name} | {r['images']} | {r['psnr']:.2f} | {r['psnr_gray']:.2f} | {r['ssim']:.4f} | {r['ssim_gray']:.4f} | "
            f"{r['colorfulness']:.1f} | {r['colorfulness_original']:.1f} | {r['mse']:.5f} | {r['mse_gray']:.5f} | {r['loss_sum']:.4f} |"
        )
    return "\n".join(lines)


def format_comparison(tables):
    """Markdown table comparing models, {model name: table from :func:`evaluate`}: per set, the
    gray baseline, each model and the originals' colorfulness, all from the same run."""
    lines = ["| set | output | PSNR dB | SSIM | colorfulness | MSE |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    first = next(iter(tables.values()))
    for source in first:
        g = first[source]
        lines.append(f"| {source} | gray (baseline) | {g['psnr_gray']:.2f} | {g['ssim_gray']:.4f} | 0.0 | {g['mse_gray']:.5f} |")
        for name, table in tables.items():
            r = table[source]
            lines.append(f"| {source} | {name} | {r['psnr']:.2f} | {r['ssim']:.4f} | {r['colorfulness']:.1f} | {r['mse']:.5f} |")
        lines.append(f"| {source} | original | | | {g['colorfulness_original']:.1f} | |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="+", default=[None], help="shipped model names or weights folders (default: the "
                        "default model); with several, a comparison table follows")
    parser.add_argument("--data", nargs="+", default=[str(DATA_DIR / "cifar10-images.tar.gz"), str(DATA_DIR / "linnaeus5-32.tar.gz")])
    parser.add_argument("--split", default="test", choices=["train", "test"])
    parser.add_argument("--size", type=int, default=32, help="images are resized to this square size")
    parser.add_argument("--limit", type=int, default=0, help="first N images of each source (0 = all)")
    parser.add_argument("--mode", default="full", choices=colorizer.pipeline.MODES)
    parser.add_argument("--files", nargs="+", default=None, help="evaluate these image files instead of --data "
                        "(grouped by file-name prefix, e.g. the app's examples/emoji_*.png)")
    parser.add_argument("--json", default=None, help="also write the table as JSON here")
    args = parser.parse_args(argv)
    tables = {}
    try:
        image_set = None if args.files else load_sources(args.data, args.split, args.size)
        for name in args.model:
            model = colorizer.load(name)
            if args.files:
                table = {g: row for t in evaluate_files(model, args.files, mode=args.mode).values() for g, row in t.items()}
            else:
                table = evaluate(model, image_set, mode=args.mode, limit=args.limit)
            tables[model.name] = table
            print(format_table(table, f"{model.name} ({args.mode} mode), {'files' if args.files else args.split + ' split'}"), flush=True)
    except (colorizer.WeightsError, colorizer.ImageInputError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if len(tables) > 1:
        print("\n" + format_comparison(tables))
    if args.json:
        results = {name: {"model": name, "mode": args.mode, "split": args.split, "table": table} for name, table in tables.items()}
        with open(args.json, "w") as f:
            json.dump(next(iter(results.values())) if len(results) == 1 else {"models": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
