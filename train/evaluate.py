"""Evaluate a colorizer on test images, with the gray baseline measured in the same run.

``python -m train.evaluate --model NAME_OR_FOLDER... --data PATH... [--split test] [--limit N]
[--mode full|seed] [--json OUT]`` prints, per source and pooled: PSNR (per image on 8-bit RGB,
capped at 50 dB, averaged), SSIM, colorfulness (Hasler-Suesstrunk) of outputs and originals and
their ratio (mean output / mean original), the share of images below gray (PSNR below the gray
image's), hue accuracy (:func:`colorizer.metrics.hue_accuracy_batch`: share of clearly colored
pixels whose CbCr hue is within 30 degrees), mean MSE (RGB in [0, 1]) and the original project's
summed-loss scale (sum over batches of 100 of the per-batch mean MSE). "gray" is the baseline that
returns the gray image as RGB.

``--suite`` evaluates the standard sets instead, each at its own size through the pipeline
(:func:`suite_sets`): CIFAR-10 test (32 px), Linnaeus 5 test at 32 and at 128 px, each corpus test
source (128 px) with the photo and clip-art sources also pooled (a later archive, GCompris's
photographs, a row of its own), the app's emoji examples, and
the independent pictures of :mod:`train.independent` (sample images of Python packages, never
trained on, each at its own size, a row per kind).
``--panels OUT.png`` writes gray | model... | original for corpus test photos and clip-art.
``--vividness V...`` gives a model with the setting one column per vividness: its PSNR / colorfulness frontier.
"""

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np
import torch

import colorizer
from colorizer.weights import check_vividness, default_vividness
from colorizer.metrics import colorfulness_batch, hue_accuracy_batch, mse_batch, psnr_batch, ssim_batch

from .config import DATA_DIR
from .data import ImageSet, default_corpus, load_source, load_sources

__all__ = ["colorize_set", "metrics_row", "evaluate", "evaluate_files", "suite_sets", "evaluate_suite", "format_table",
           "format_comparison", "main"]

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"

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


def _per_image(outputs, grays, originals, ssim=True):
    """{metric: float64 (N,)} for uint8 N x H x W x 3 stacks (what :func:`_aggregate` averages);
    ``ssim=False`` leaves SSIM out (it alone takes about as long as colorizing 128 px pictures)."""
    with np.errstate(invalid="ignore"):  # hue accuracy of an image without clearly colored pixels: NaN
        hue, hue_gray = hue_accuracy_batch(outputs, originals), hue_accuracy_batch(grays, originals)
    return {"psnr": psnr_batch(outputs, originals), "psnr_gray": psnr_batch(grays, originals),
            **({"ssim": ssim_batch(outputs, originals), "ssim_gray": ssim_batch(grays, originals)} if ssim else {}),
            "colorfulness": colorfulness_batch(outputs), "colorfulness_original": colorfulness_batch(originals),
            "hue": hue, "hue_gray": hue_gray, "mse": mse_batch(outputs, originals), "mse_gray": mse_batch(grays, originals)}


def _aggregate(m):
    """A table row from :func:`_per_image`'s arrays (of one stack, or concatenated over images of
    different sizes); without SSIM columns if they were left out."""
    colorfulness, colorfulness_original = m["colorfulness"].mean(), m["colorfulness_original"].mean()
    with np.errstate(invalid="ignore"):  # no clearly colored pixel in the whole set: NaN
        hue, hue_gray = np.nanmean(m["hue"]), np.nanmean(m["hue_gray"])
    return {
        "images": len(m["psnr"]),
        "psnr": float(m["psnr"].mean()),
        "psnr_gray": float(m["psnr_gray"].mean()),
        **({"ssim": float(m["ssim"].mean()), "ssim_gray": float(m["ssim_gray"].mean())} if "ssim" in m else {}),
        "colorfulness": float(colorfulness),
        "colorfulness_original": float(colorfulness_original),
        # ratio of the means: a mean of per-image ratios would explode on near-gray originals
        "colorfulness_ratio": float(colorfulness / colorfulness_original) if colorfulness_original > 0 else float("nan"),
        "below_gray": float((m["psnr"] < m["psnr_gray"]).mean()),
        "hue_accuracy": float(hue),
        "hue_accuracy_gray": float(hue_gray),
        "mse": float(m["mse"].mean()),
        "mse_gray": float(m["mse_gray"].mean()),
        # sum over batches of 100 of the per-batch mean = mean MSE x number of batches
        "loss_sum": float(m["mse"].mean() * len(m["psnr"]) / ORIGINAL_BATCH),
    }


def metrics_row(outputs, grays, originals, ssim=True):
    """The table row (:func:`evaluate`'s metrics) of uint8 N x H x W x 3 outputs, their grays and
    originals; ``ssim=False``: without the SSIM columns (much faster)."""
    return _aggregate(_per_image(outputs, grays, originals, ssim))


def evaluate(model, image_set, mode="full", limit=0, groups=None, pooled="pooled"):
    """{source: metrics row, ..., group: row, ..., pooled: row} for an ImageSet (``train.data``).

    groups: optional {row name: source names} for rows pooled over some sources (e.g. the corpus's
    photo sources); a group without images here is left out. ``pooled=None`` leaves out the row of all.
    """
    sources = np.asarray(image_set.sources)
    keep = np.zeros(len(sources), dtype=bool)
    for name in dict.fromkeys(image_set.sources):  # every k-th image, so that at most ``limit`` of each source
        index = np.flatnonzero(sources == name)  # remain, evenly spread (archives are in class order)
        keep[index[:: -(-len(index) // limit)] if limit else index] = True
    originals, sources = image_set.images[keep], sources[keep]
    outputs, grays = colorize_set(model, originals, mode=mode)
    table = {name: metrics_row(outputs[sources == name], grays[sources == name], originals[sources == name]) for name in dict.fromkeys(sources)}
    for name, members in (groups or {}).items():
        mask = np.isin(sources, list(members))
        if mask.any():
            table[name] = metrics_row(outputs[mask], grays[mask], originals[mask])
    if pooled:
        table[pooled] = metrics_row(outputs, grays, originals)
    return table


def evaluate_files(model, paths, mode="full"):
    """{group: table} for image files, grouped by the file-name prefix before the first "_"
    (the app's examples: ``emoji_*.png``, ``cifar10_*.png``; :mod:`train.independent`'s
    ``photo_*.png``). Each image goes through the pipeline alone, at its own size, so a group may
    mix sizes and aspect ratios."""
    groups = {}
    for path in sorted(map(Path, paths)):
        groups.setdefault(path.name.split("_")[0], []).append(path)
    tables = {}
    for group, files in groups.items():
        per_image = []
        for f in files:
            original = np.array(colorizer.open_image(f).convert("RGB"))[None]
            per_image.append(_per_image(*colorize_set(model, original, mode=mode), original))
        tables[group] = {group: _aggregate({k: np.concatenate([m[k] for m in per_image]) for k in per_image[0]})}
    return tables


def corpus_test_set(corpus) -> ImageSet:
    """The corpus's test split at its native 128 px, with each image's source set to its class
    (= its Debian package), so that :func:`evaluate` gives one row per package."""
    image_set = load_source(corpus, "test", None)
    return ImageSet(image_set.names, image_set.images, [name.split("_")[0] for name in image_set.names])


def suite_sets(corpus=None, data_dir=DATA_DIR, examples_dir=EXAMPLES_DIR, independent_dir=None, log=print):
    """The standard evaluation sets: [(row prefix, ImageSet or list of files, groups)], each image at
    the size it goes through the pipeline. The corpus (default :func:`default_corpus`) and the
    independent pictures (default :func:`train.independent.default_dir`: files of many sizes, a row
    per kind) are left out with a note if they have not been built."""
    from .corpus import SOURCES, archives, sources_of_kind  # the builder knows which packages are photographs
    from .independent import kinds

    data_dir = Path(data_dir)
    sets = [(f"{name} ({size} px)", load_source(data_dir / archive, "test", size), None)
            for name, archive, size in (("cifar10", "cifar10-images.tar.gz", 32), ("linnaeus5", "linnaeus5-32.tar.gz", 32),
                                        ("linnaeus5", "linnaeus5-128.tar.gz", 128))]
    corpus = Path(corpus) if corpus else default_corpus()
    for archive in archives():  # later archives lie beside the corpus: rows of their own, never pooled with it
        path = corpus.with_name(corpus.name.replace("corpus-", f"{archive}-", 1))
        if not path.exists():
            log(f"note: no corpus archive at {path} (build it with python -m train.corpus); its rows are left out")
            continue
        packages = [s.package for s in SOURCES if s.archive == archive]
        groups = {f"{kind} (pooled)": [p for p in sources_of_kind(kind) if p in packages] for kind in ("photo", "clipart")}
        groups = {name: members for name, members in groups.items() if len(members) > 1}
        sets.append((f"{archive} ", corpus_test_set(path), groups or None))
    files = sorted(Path(examples_dir).glob("emoji_*.png"))
    images = [np.asarray(colorizer.open_image(f).convert("RGB")) for f in files]
    sets.append((f"emoji ({images[0].shape[0]} px)", ImageSet([f.name for f in files], np.stack(images), ["emoji"] * len(files)), None))
    independent = kinds(independent_dir)
    if independent:
        sets.append(("independent ", [f for files in independent.values() for f in files], None))
    else:
        log("note: no independent pictures (write them with python -m train.independent); their rows are left out")
    return sets


def evaluate_suite(model, sets, mode="full", limit=0):
    """One table over :func:`suite_sets`: a row per set (per source and group for the corpus, per
    kind for the independent pictures, which are few and all evaluated: ``limit`` spares them)."""
    table = {}
    for prefix, image_set, groups in sets:
        if isinstance(image_set, list):
            table.update({f"{prefix}{group}": row for t in evaluate_files(model, image_set, mode=mode).values()
                          for group, row in t.items()})
            continue
        rows = evaluate(model, image_set, mode=mode, limit=limit, groups=groups, pooled=None)
        if groups is None:  # one source: the row is the set's
            table[prefix.rstrip()] = next(iter(rows.values()))
        else:
            table.update({f"{prefix}{name}": row for name, row in rows.items()})
    return table


def format_table(table, title=""):
    """Markdown table of :func:`evaluate`'s result."""
    lines = [title] if title else []
    lines += [
        "| set | images | PSNR dB | gray PSNR dB | SSIM | gray SSIM | colorfulness | original colorfulness | MSE | gray MSE | summed error "
        "| colorfulness ratio | below gray | hue accuracy |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in table.items():
        nan = float("nan")  # rows saved before these columns existed
        lines.append(
            f"| {name} | {r['images']} | {r['psnr']:.2f} | {r['psnr_gray']:.2f} | {r['ssim']:.4f} | {r['ssim_gray']:.4f} | "
            f"{r['colorfulness']:.1f} | {r['colorfulness_original']:.1f} | {r['mse']:.5f} | {r['mse_gray']:.5f} | {r['loss_sum']:.4f} | "
            f"{r.get('colorfulness_ratio', nan):.2f} | {r.get('below_gray', nan):.0%} | {r.get('hue_accuracy', nan):.1%} |"
        )
    return "\n".join(lines)


def format_comparison(tables):
    """Markdown table comparing models, {model name: table from :func:`evaluate`}: per set, the
    gray baseline, each model and the originals' colorfulness, all from the same run."""
    lines = ["| set | output | PSNR dB | SSIM | colorfulness | MSE | colorfulness ratio | below gray | hue accuracy |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    first = next(iter(tables.values()))
    for source in first:
        g = first[source]
        # the gray image has colorfulness 0 and is never below itself; its hue accuracy is measured (0)
        lines.append(f"| {source} | gray (baseline) | {g['psnr_gray']:.2f} | {g['ssim_gray']:.4f} | 0.0 | {g['mse_gray']:.5f} | "
                     f"0.00 | 0% | {g['hue_accuracy_gray']:.1%} |")
        for name, table in tables.items():
            r = table[source]
            lines.append(f"| {source} | {name} | {r['psnr']:.2f} | {r['ssim']:.4f} | {r['colorfulness']:.1f} | {r['mse']:.5f} | "
                         f"{r['colorfulness_ratio']:.2f} | {r['below_gray']:.0%} | {r['hue_accuracy']:.1%} |")
        lines.append(f"| {source} | original | | | {g['colorfulness_original']:.1f} | | 1.00 | | |")
    return "\n".join(lines)


def _columns(names, vividness_values):
    """[(column name, Colorizer)]: one per model, and per vividness for models with the setting when
    values are given (a copy of the network's pipeline for each, its default vividness set)."""
    columns = []
    for name in names:
        model = colorizer.load(name)
        if not vividness_values or default_vividness(model.config) is None:
            columns.append((model.name, model))
            continue
        for value in vividness_values:
            column = copy.copy(model)  # the network itself is shared
            column.vividness = check_vividness(value)
            columns.append((f"{model.name} (vividness {value:g})", column))
    return columns


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="+", default=[None], help="shipped model names or weights folders (default: the "
                        "default model); with several, a comparison table follows")
    parser.add_argument("--data", nargs="+", default=[str(DATA_DIR / "cifar10-images.tar.gz"), str(DATA_DIR / "linnaeus5-32.tar.gz")])
    parser.add_argument("--split", default="test", choices=["train", "test"])
    parser.add_argument("--size", type=int, default=32, help="images are resized to this square size")
    parser.add_argument("--limit", type=int, default=0, help="at most N images of each source, evenly spread (0 = all)")
    parser.add_argument("--vividness", type=float, nargs="+", default=None, help="models with the setting: one column per vividness "
                        "(0..1) instead of the model's default, the PSNR / colorfulness frontier")
    parser.add_argument("--mode", default="full", choices=colorizer.pipeline.MODES)
    parser.add_argument("--files", nargs="+", default=None, help="evaluate these image files instead of --data "
                        "(grouped by file-name prefix, e.g. the app's examples/emoji_*.png)")
    parser.add_argument("--json", default=None, help="also write the table as JSON here")
    parser.add_argument("--suite", action="store_true", help="evaluate the standard sets instead of --data (each at "
                        "its own size): CIFAR-10, Linnaeus 5 at 32 and 128 px, the corpus per source, the emoji examples, the "
                        "independent pictures per kind")
    parser.add_argument("--corpus", default=None, help="the corpus's 128 px archive (default: where train.corpus writes it)")
    parser.add_argument("--panels", default=None, metavar="OUT.png", help="write gray | each model (and --vividness) | "
                        "original for 8 corpus test photos and 8 clip-art images (or for --files) to this PNG, then stop")
    args = parser.parse_args(argv)
    tables = {}
    try:
        if args.panels:
            from .eval_panels import write_file_panels, write_panels

            columns = _columns(args.model, args.vividness)
            if args.files:
                write_file_panels(columns, args.files, args.panels, mode=args.mode)
            else:
                write_panels(columns, args.corpus or default_corpus(), args.panels, mode=args.mode)
            print(f"wrote {args.panels}")
            return 0
        sets = suite_sets(args.corpus) if args.suite else None
        image_set = None if args.files or args.suite else load_sources(args.data, args.split, args.size)
        for name, model in _columns(args.model, args.vividness):
            if args.suite:
                table = evaluate_suite(model, sets, mode=args.mode, limit=args.limit)
            elif args.files:
                table = {g: row for t in evaluate_files(model, args.files, mode=args.mode).values() for g, row in t.items()}
            else:
                table = evaluate(model, image_set, mode=args.mode, limit=args.limit)
            tables[name] = table
            what = "standard sets, test split" if args.suite else "files" if args.files else args.split + " split"
            print(format_table(table, f"{name} ({args.mode} mode), {what}"), flush=True)
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
