"""BatchNorm statistics for the size the network is used at.

While training, BatchNorm keeps running averages of each channel's mean and variance with momentum
0.1: those of the last ten or so batches. The mixed-scale recipes interleave 32 px batches (CIFAR-10
and Linnaeus 5) with 64 px crops of the larger pictures at random, so the exported statistics were
whatever mix the epoch happened to end on, and neither is the size people's pictures are seen at
(shrunk to the 64 px working size). It showed as noise the learning rate cannot explain: from epoch
57 to 60 of the default's run, at a learning rate of 6e-6 and then 0, its corpus photos went from
0.52 to 1.15 dB below gray. ``precise_bn`` > 0 sets the statistics, before each validation, to the
plain mean over that many batches of the extra set's crops at ``extra_size`` (the main set's, at
``image_size``, for a run without one), drawn as training draws them but from a stream of their own:
the training itself is unchanged, bit for bit. Wu and Johnson ("Rethinking 'Batch' in BatchNorm",
2021) call this precise BatchNorm.

Measured (7 December 2026, 2-core CPU; 200 test pictures a row at their own size through the
pipeline; PSNR over gray / colorfulness ratio / hue accuracy) on the default's network
(``chroma_hints_scratch_mild``, 60 epochs), statistics as trained against 50 batches of 64 px crops:
Linnaeus 5 at 128 px +1.18 / 0.70 / 54.8% against **+1.83 / 0.53 / 57.6%**, corpus clip-art +1.54 /
0.57 / 39.3% against **+2.07 / 0.57 / 41.1%**, corpus photos -1.15 / 0.96 / 48.6% against **-0.22 /
0.70 / 45.2%** (25 to 133 batches: within 0.04 dB of each other). Statistics of 200 batches of 32 px images
alone: +0.67, +1.13, -2.19 dB, louder (ratio 0.79 / 0.60 / 1.13): they are what made large photos loud and
blotched. But the 64 px statistics cost what the 32 px ones gave: on the default's suite
(``--suite --limit 1000``) CIFAR-10 26.63 -> 25.90 dB, the emoji 18.11 -> 16.97 dB (ratio 0.79 ->
0.70, hue 67.8% -> 55.9%: a brown fox and ladybird), the independent photos 22.41 -> 21.09; so the
default keeps its own. The mean over the training mix instead (two 32 px batches to one 64 px) gave
that suite within 0.2 dB of the statistics as trained on every row but the three science pictures
(-0.27): the noise gone, and no gain.
On the photos model (``chroma_hints_scratch_photos``), which people pick for photographs, the 64 px
statistics are kept (its card and the README have its suite).

``python -m train.precise_bn PRESET`` applies it to a finished run: the statistics of its last
epoch as a run with the setting would have computed them, that epoch's validation again, the
checkpoint, the history and the export (if the run has one) rewritten.
"""

import dataclasses
import json
import sys
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save

from colorizer.weights import atomic_write_bytes

from .batches import EXTRA_MIN_CROP_SCALE, MIN_CROP_SCALE, augment, batch_views, epoch_generator, network_input

__all__ = ["batch_norm_layers", "check_statistics", "recalibrate_bn", "statistics_pool", "precise_bn_inputs", "recalibrate_run"]


def batch_norm_layers(model):
    """The model's BatchNorm layers (none in a GroupNorm network: nothing for precise_bn to set)."""
    return [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def check_statistics(cfg, model):
    """ValueError where ``cfg.precise_bn`` asks for statistics that ``model`` lacks (a GroupNorm
    network): it would run its batches for nothing and the card would claim them."""
    if cfg.precise_bn and not batch_norm_layers(model):
        raise ValueError(f"precise_bn sets BatchNorm statistics and {cfg.model} {cfg.model_kwargs} has none: use --precise_bn=0")


@torch.no_grad()
def recalibrate_bn(model, inputs):
    """Set every BatchNorm layer's running mean and variance to the plain mean over ``inputs`` (an
    iterable of network inputs, N x C x H x W float): the batch statistics the layers see in
    training mode, averaged with equal weight. Returns the number of batches; the model is left in
    eval mode, its momentum as it was. Nothing but the BatchNorm buffers changes."""
    layers = batch_norm_layers(model)
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # None: a cumulative mean over the batches seen since the reset
    model.train()
    count = 0
    for x in inputs:
        model(x)
        count += 1
    for m, momentum in zip(layers, momenta):
        m.momentum = momentum
    model.eval()
    return count


def statistics_pool(cfg, main_uint8, extra_uint8):
    """(pictures, crop size, smallest crop scale) that ``precise_bn`` draws from: the extra set
    (kept at twice ``extra_size``) as training crops it, else the main set at ``image_size``."""
    if extra_uint8 is not None:
        return extra_uint8, cfg.extra_size or cfg.image_size, EXTRA_MIN_CROP_SCALE
    return main_uint8, cfg.image_size, MIN_CROP_SCALE


def precise_bn_inputs(model, cfg, pool_uint8, size, min_scale, epoch, gray_mean, gray_std, layout=lambda x: x):
    """The first ``cfg.precise_bn`` batches (``cfg.batch_size`` each) of network inputs that training
    would draw from ``pool_uint8`` (N x H x W x 3 uint8: the extra set, kept at twice ``size``, or
    the main set) after ``epoch`` (0-based): a shuffle, crops of at least ``min_scale`` of the short
    side resized to ``size`` and simulated hints, from a generator of their own (stream 3), so that a
    run and a later recalibration of it draw the same."""
    g = epoch_generator(cfg.seed, epoch, stream=3)
    order = torch.randperm(len(pool_uint8), generator=g).to(pool_uint8.device)
    for start in range(0, min(cfg.precise_bn * cfg.batch_size, len(order)), cfg.batch_size):
        rgb_uint8 = pool_uint8[order[start : start + cfg.batch_size]]
        if cfg.augment:
            rgb_uint8 = augment(rgb_uint8, size, min_scale, g)
        rgb, y, cbcr = batch_views(model, rgb_uint8)
        yield layout(network_input(model, y, gray_mean, gray_std, cbcr, g if cfg.hints else None, cfg.hints_none))


def recalibrate_run(cfg):
    """The run of ``cfg`` (its ``out_dir``): its checkpoint's statistics recomputed with
    ``cfg.precise_bn`` as the loop would have after the checkpoint's epoch, that epoch's validation
    again, then the checkpoint, the history and the export (``cfg.export``, if set) rewritten. The
    weights are untouched. Returns the epoch's history record; ValueError / CheckpointError for a
    run it cannot take."""
    from colorizer.models import create_model

    from .checkpoint import check_resumable, load_checkpoint
    from .export import export_run, inference_section
    from .loop import CHECKPOINT, load_data, memory_layout, validate
    from .native_val import native_sets, validate_native

    if cfg.precise_bn <= 0:
        raise ValueError("precise_bn must be > 0 (set it in the preset or with --precise_bn=N)")
    path = Path(cfg.out_dir) / CHECKPOINT
    model_state, _, _, meta = load_checkpoint(path)
    check_resumable(cfg, meta["config"], path)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    model = create_model(cfg.model, **cfg.model_kwargs)
    check_statistics(cfg, model)
    model.load_state_dict(model_state)
    model = model.to(memory_format=torch.channels_last if cfg.channels_last else torch.preserve_format)
    train_set, val_images, extra = load_data(cfg)
    norm = meta["normalization"]
    gray_mean, gray_std = norm["gray_mean"], norm["gray_std"]
    pool = statistics_pool(cfg, torch.from_numpy(train_set.images), None if extra is None else torch.from_numpy(extra))
    epoch = meta["epoch"]
    recalibrate_bn(model, precise_bn_inputs(model, cfg, *pool, epoch - 1, gray_mean, gray_std, lambda x: memory_layout(x, cfg)))
    record = next(h for h in meta["history"] if h["epoch"] == epoch)
    record["val_loss_sum"], record["val_loss"], record["val_mse"], record["val_psnr"] = \
        validate(model, torch.from_numpy(val_images), cfg, gray_mean, gray_std)
    if cfg.val_native_data:
        config = {"architecture": meta["architecture"], "normalization": norm,
                  "inference": inference_section(model, dataclasses.asdict(cfg))}
        record["native"] = validate_native(model, native_sets(cfg.val_native_data, cfg.val_native_limit), config)
    record["precise_bn"] = cfg.precise_bn
    with safe_open(str(path), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        raw = json.loads(f.metadata()["checkpoint"])
    tensors.update({f"model.{k}": v.contiguous() for k, v in model.state_dict().items()})
    raw["config"]["precise_bn"], raw["history"] = cfg.precise_bn, meta["history"]
    atomic_write_bytes(path, save(tensors, metadata={"checkpoint": json.dumps(raw)}))
    atomic_write_bytes(path.parent / "history.json", json.dumps({"epochs": meta["history"]}, indent=1).encode())
    if cfg.export:
        export_run(path, cfg.export, eval_limit=cfg.export_eval_limit, default=cfg.export_default)
    return record


def main(argv=None):
    """``python -m train.precise_bn PRESET [--key=value ...]``: :func:`recalibrate_run` of the run."""
    from .checkpoint import CheckpointError
    from .config import parse_args

    try:
        record = recalibrate_run(parse_args(sys.argv[1:] if argv is None else argv)[0])
    except (ValueError, CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"epoch {record['epoch']}: validation PSNR {record['val_psnr']:.2f} dB; " + "; ".join(
        f"{row} {m['psnr'] - m['psnr_gray']:+.2f} dB over gray" for row, m in record.get("native", {}).items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
