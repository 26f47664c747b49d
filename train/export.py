"""Export a training checkpoint as a Hub-style weights folder with a model card.

``python -m train.export RUN/checkpoint.safetensors weights/NAME [--dtype auto|float32|float16]
[--no-eval]`` writes ``model.safetensors``, ``config.json`` (architecture, normalization,
epochs, data, metrics, the training config), ``history.json``, ``loss_curve.png``, the run's
example grids up to that epoch, and ``README.md`` (the model card). A run stopped between
epochs drew no grid of its last epoch: the export draws it.
"""

import argparse
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

import colorizer
from colorizer.models import accepts_hints, create_model
from colorizer.bins import TEMPERATURE
from colorizer.shipped import task_of
from colorizer.weights import atomic_write_bytes, check_vividness, check_vividness_gain, inference_scales, save_weights

from .card import model_card, read_blurb
from .checkpoint import describe_base, load_checkpoint
from .evaluate import evaluate, evaluate_files
from .plots import grids_up_to, save_loss_curve

__all__ = ["export_run", "inference_section", "main"]

HALF_TOLERANCE_DB = 0.01  # float16 is stored only if validation PSNR moves less than this
HINT_COUNTS = [0, 1, 2, 5, 10, 20, 50]
EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"  # the app's examples: out-of-dataset images


def _test_set(source, image_size, limit=0):
    """A source's test split, or every k-th image of it so that at most ``limit`` remain (evenly
    spread: the files are in class order)."""
    from .data import load_sources

    images = load_sources([source], "test", image_size)
    return images.subset(slice(None, None, -(-len(images) // limit))) if limit and len(images) > limit else images


def _evaluate_sources(model, sources, image_size, mode="full", limit=0):
    """{source file name: table} for a loaded Colorizer on each source's test split (see _test_set)."""
    return {Path(s).name: evaluate(model, _test_set(s, image_size, limit), mode=mode) for s in sources}


def _pooled_mean(evaluation, key):
    """Image-weighted mean of ``key`` over the test sets' pooled rows."""
    pooled = [table["pooled"] for table in evaluation.values()]
    return sum(r[key] * r["images"] for r in pooled) / sum(r["images"] for r in pooled)


def _sketch_numbers(folder, limit=0, panels=False):
    """``train.sketch_eval``'s numbers for the line-art network in ``folder`` on the corpus's
    clip-art test images at 128 px (at most ``limit``, evenly spread; 0 = all); with ``panels``,
    also ``panels.png`` (drawing | the network alone | original) in the folder."""
    from .sketch_eval import corpus_clip_art, evaluate_sketch, evaluate_undabbed, summarize, undabbed_panels

    pictures = list(corpus_clip_art(128, limit))
    model = colorizer.load(folder)
    undabbed, outputs = evaluate_undabbed(model, pictures)
    if panels:
        undabbed_panels(pictures, outputs).save(Path(folder) / "panels.png")
    return summarize(evaluate_sketch(model, pictures), undabbed)


def _draw_missing_grid(checkpoint_path, model, meta):
    """The loop draws a grid when a piece of a run ends; a piece killed between epochs drew none.
    Draw the checkpoint's epoch's grid as the loop would (same ten validation pictures, same rows)
    beside the checkpoint, where this and later exports of the run find it; a run whose test data
    are not here gets a one-line notice instead."""
    from .data import validation_images
    from .lineart import white_pages
    from .plots import grid_path, grid_pictures, save_grid
    from .sources import DataError

    epoch, cfg = meta["epoch"], meta["config"]
    path = grid_path(checkpoint_path.parent, epoch)
    if not epoch or path.exists():
        return
    try:
        val_uint8 = validation_images(cfg["data"], cfg["image_size"], cfg.get("classes", []), cfg.get("val_limit", 0))
    except DataError as e:
        print(f"no example grid for epoch {epoch}: {e}", file=sys.stderr)
        return
    grid_uint8 = np.ascontiguousarray(grid_pictures(val_uint8))
    if model.task == "sketch":  # the loop whitens the validation pages before it picks the grid's pictures
        white_pages(grid_uint8)
    norm = meta["normalization"]
    save_grid(model, torch.from_numpy(grid_uint8), norm["gray_mean"], norm["gray_std"], path, epoch)


def inference_section(model, train_config, working_size=None, flip_average=None, scales=None, vividness=None,
                      vividness_beta=None, temperature=None, prior_mix=None, vividness_gain=None):
    """The ``inference`` section of a weights config for ``model`` trained with ``train_config``
    (a dict): each setting given here, else the training config's (:func:`export_run` explains
    them). ValueError for settings that ``colorizer.load`` would refuse."""
    scales = inference_scales(train_config.get("scales", [1.0]) if scales is None else scales)
    decoding = {}  # the inference settings of colors: bin networks' decoding, or a regression network's vividness
    vividness = train_config.get("vividness", 0.0) if vividness is None else vividness
    if model.output == "bins":
        decoding = {"vividness": check_vividness(vividness),
                    "vividness_beta": float(train_config.get("vividness_beta", 0.5) if vividness_beta is None else vividness_beta),
                    "temperature": TEMPERATURE if temperature is None else float(temperature),
                    "prior_mix": float(train_config.get("prior_mix", 0.0) if prior_mix is None else prior_mix)}
        for key in ("vividness_beta", "temperature"):
            if not 0 < decoding[key] < math.inf:
                raise ValueError(f"{key} must be positive and finite, got {decoding[key]}")
        if not 0 <= decoding["prior_mix"] <= 1:
            raise ValueError(f"prior_mix must be from 0 to 1, got {decoding['prior_mix']}")
    elif model.task == "color":
        gain = check_vividness_gain(train_config.get("vividness_gain", 0.0) if vividness_gain is None else vividness_gain)
        if gain:
            decoding = {"vividness": check_vividness(vividness), "vividness_gain": gain}
    return {
        "working_size": working_size or train_config.get("working_size", 256),
        "flip_average": train_config.get("flip_average", False) if flip_average is None else flip_average,
        **({"scales": list(scales)} if len(scales) > 1 else {}),
        **decoding,
    }


def export_run(checkpoint_path, folder, dtype="auto", run_eval=True, working_size=None, default=False, flip_average=None,
               scales=None, extra_metrics=None, vividness=None, vividness_beta=None, eval_limit=0, temperature=None,
               prior_mix=None, vividness_gain=None):
    """Write the weights folder for ``checkpoint_path``; returns the config written.

    extra_metrics: measured numbers to record beside the metrics (``training_speed`` from
    train.seed_runs, which the card shows);
    working_size, flip_average, scales: the inference settings to record (default: the training
    config's; scales are the relative working sizes whose outputs inference averages);
    default: mark the model as the one ``colorizer.load()`` serves, whatever its PSNR.
    vividness, vividness_beta: bin networks' decoding (default: the training config's);
    temperature, prior_mix: theirs too (default: colorizer.bins.TEMPERATURE; the training config's).
    vividness_gain: for networks that regress chroma, their chroma's factor at vividness 1 minus 1
    (0: no vividness setting); vividness then their default (both default: the training config's).
    eval_limit: evaluate on at most this many images of each test set, evenly spread (0 = all).
    ValueError for settings that ``colorizer.load`` would refuse, before anything is written."""
    checkpoint_path, folder = Path(checkpoint_path), Path(folder)
    model_state, _, _, meta = load_checkpoint(checkpoint_path)
    train_config = meta["config"]
    model = create_model(meta["architecture"]["name"], **meta["architecture"]["kwargs"])
    model.load_state_dict(model_state)
    inference = inference_section(model, train_config, working_size=working_size, flip_average=flip_average, scales=scales,
                                  vividness=vividness, vividness_beta=vividness_beta, temperature=temperature,
                                  prior_mix=prior_mix, vividness_gain=vividness_gain)
    history = [h for h in meta["history"] if h["epoch"] <= meta["epoch"]]
    best = min(history, key=lambda h: h["val_loss_sum"]) if history else None
    # Recorded when training started; older checkpoints: read the base folder now (which may by
    # now hold this run's own earlier export, counting its epochs twice).
    base = meta["fine_tuned_from"] if "fine_tuned_from" in meta else describe_base(train_config.get("init_from"))
    config = {
        "architecture": meta["architecture"],
        "normalization": meta["normalization"],
        "inference": inference,
        "epochs": meta["epoch"] + (base["epochs"] if base else 0),  # a fine-tune counts its base's epochs too
        "data": {**meta["data"], "sources": [Path(s).name for s in meta["data"]["sources"]]},
        "metrics": {},
        "train_config": train_config,
    }
    if base:
        config["fine_tuned_from"] = base
    if default:
        config["default"] = True
    config["metrics"].update(extra_metrics or {})
    planned = train_config.get("epochs")
    if not meta.get("snapshot") and isinstance(planned, int) and meta["epoch"] < planned:
        config["metrics"]["planned_epochs"] = planned  # a run stopped before its end (a kept epoch of a longer run is not one)
    if history:
        config["metrics"].update({
            "train_loss_sum": history[-1]["train_loss_sum"],
            "val_loss_sum": history[-1]["val_loss_sum"],
            "best_epoch": best["epoch"],
            "best_val_loss_sum": best["val_loss_sum"],
            "raw_val_psnr": history[-1]["val_psnr"],
        })
    save_weights(folder, model, config)
    evaluation = {}
    if run_eval and task_of(config) == "sketch":  # a line-art network: sketch mode's numbers, not a colorizer's
        config["metrics"]["sketch"] = _sketch_numbers(folder, eval_limit, panels=True)
        config["metrics"]["val_psnr"] = config["metrics"]["sketch"]["undabbed_psnr"]
        if dtype == "auto":
            save_weights(folder, model, config, half=True)
            change = _sketch_numbers(folder, eval_limit)["undabbed_psnr"] - config["metrics"]["val_psnr"]
            config["metrics"]["float16_psnr_change"] = change
            dtype = "float16" if abs(change) < HALF_TOLERANCE_DB else "float32"
    elif run_eval:
        sources = train_config["data"]
        evaluated = colorizer.load(folder)  # the float32 weights just written
        evaluation = _evaluate_sources(evaluated, sources, train_config["image_size"], limit=eval_limit)
        if eval_limit:
            config["metrics"]["eval_limit"] = eval_limit
        config["metrics"]["val_psnr"] = _pooled_mean(evaluation, "psnr")
        config["metrics"]["evaluation"] = {name: table["pooled"] for name, table in evaluation.items()}
        if model.output == "rgb":  # the raw network output, as the original project showed it
            raw = _evaluate_sources(evaluated, sources, train_config["image_size"], mode="seed", limit=eval_limit)
            config["metrics"]["evaluation_seed_mode"] = {name: table["pooled"] for name, table in raw.items()}
        if accepts_hints(model):  # hint networks: PSNR against the number of hints, first test set
            from .hint_curve import hint_curve

            images = _test_set(sources[0], train_config["image_size"], eval_limit).images
            curve = hint_curve(evaluated, images, HINT_COUNTS)
            config["metrics"]["hint_curve"] = {"test_set": Path(sources[0]).name, **{str(k): v for k, v in curve.items()}}
        example_files = sorted(EXAMPLES_DIR.glob("*.png"))
        if example_files:
            tables = evaluate_files(evaluated, example_files)
            config["metrics"]["examples"] = {group: table[group] for group, table in tables.items()}
        if dtype == "auto":
            save_weights(folder, model, config, half=True)
            half = _evaluate_sources(colorizer.load(folder), sources, train_config["image_size"], limit=eval_limit)
            half_psnr = _pooled_mean(half, "psnr")
            config["metrics"]["float16_psnr_change"] = half_psnr - config["metrics"]["val_psnr"]
            dtype = "float16" if abs(half_psnr - config["metrics"]["val_psnr"]) < HALF_TOLERANCE_DB else "float32"
    save_weights(folder, model, config, half=dtype == "float16")
    atomic_write_bytes(folder / "history.json", json.dumps({"epochs": history}, indent=1).encode())
    gray_psnr = _pooled_mean(evaluation, "psnr_gray") if evaluation else None
    if history:
        save_loss_curve(history, folder / "loss_curve.png", f"{folder.name}: {meta['architecture']['name']}, {meta['epoch']} epochs", gray_psnr,
                        train_config.get("loss", "mse_rgb"), train_config.get("colorfulness_weight", 0.0))
    _draw_missing_grid(checkpoint_path, model, meta)
    grids = []
    for grid in grids_up_to(checkpoint_path.parent, meta["epoch"]):
        shutil.copyfile(grid, folder / grid.name)
        grids.append(grid.name)
    card = model_card(folder.name, json.loads((folder / "config.json").read_text()), evaluation, history, grids,
                      config["metrics"].get("examples"), blurb=read_blurb(folder))
    atomic_write_bytes(folder / "README.md", card.encode())
    return config


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m train.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="a run's checkpoint.safetensors or epoch_NNNN.safetensors")
    parser.add_argument("folder", help="the weights folder to write, e.g. weights/seed_cnn")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "float16"])
    parser.add_argument("--no-eval", action="store_true", help="skip the test-set evaluation (quick export)")
    parser.add_argument("--working-size", type=int, default=None, help="inference working size (long side, px)")
    parser.add_argument("--flip-average", action=argparse.BooleanOptionalAction, default=None,
                        help="average each output with the mirrored input's (default: the training config's)")
    parser.add_argument("--scales", type=float, nargs="+", default=None,
                        help="relative working sizes whose outputs are averaged, starting with 1 (e.g. 1 1.25)")
    parser.add_argument("--vividness", type=float, default=None, help="default vividness, 0..1 (bin networks; regression "
                        "networks with a vividness gain)")
    parser.add_argument("--vividness-gain", type=float, default=None, help="regression networks: chroma x (1 + vividness x "
                        "this); 0 = no vividness setting")
    parser.add_argument("--vividness-beta", type=float, default=None, help="bin networks: prior-correction exponent at vividness 1")
    parser.add_argument("--temperature", type=float, default=None, help="bin networks: annealed-mean temperature")
    parser.add_argument("--prior-mix", type=float, default=None, help="bin networks: uniform share mixed into the prior")
    parser.add_argument("--eval-limit", type=int, default=0,
                        help="evaluate on at most N images of each test set, evenly spread (0 = all; a slow CPU)")
    parser.add_argument("--default", action="store_true",
                        help="make it the default model of colorizer.load(), the CLI and the app (over better-PSNR models)")
    args = parser.parse_args(argv)
    try:
        config = export_run(args.checkpoint, args.folder, dtype=args.dtype, run_eval=not args.no_eval,
                            working_size=args.working_size, default=args.default, flip_average=args.flip_average,
                            scales=args.scales, vividness=args.vividness, vividness_beta=args.vividness_beta,
                            eval_limit=args.eval_limit, temperature=args.temperature, prior_mix=args.prior_mix,
                            vividness_gain=args.vividness_gain)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    psnr = config["metrics"].get("val_psnr")  # the test evaluation's; none with --no-eval
    print(f"exported {args.folder}: {config['epochs']} epochs, "
          + (f"validation PSNR {psnr:.2f} dB" if psnr is not None else "not evaluated (--no-eval)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
