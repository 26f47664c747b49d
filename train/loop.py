"""The training loop, top to bottom: data, normalization, model, optimizer, epochs, checkpoints.

Per epoch it records, in ``<out_dir>/history.json``, the training and validation loss in the
original project's scale (sum over batches of the per-batch mean loss, batch 100), as mean loss,
and the validation PSNR (per image on 8-bit RGB, capped at 50 dB). On CUDA the data set sits on
the GPU and the loop reads nothing back from it until the epoch ends; with ``cuda_graph`` each
epoch's steps and the validation are CUDA graphs, replayed (train/cuda_graph.py).
"""

import copy
import dataclasses
import json
import math
import shutil
import time
import warnings
from pathlib import Path

import torch
from tqdm import tqdm

from colorizer.models import create_model
from colorizer.weights import atomic_write_bytes

from .batches import EXTRA_MIN_CROP_SCALE, MIN_CROP_SCALE, augment, batch_views, epoch_generator, forward_rgb, gray_stats, loss_fn, network_input, training_prior
from .checkpoint import check_resumable, describe_base, init_weights, load_checkpoint, load_export, save_checkpoint
from .data import load_sources, of_classes, validation_images
from .lineart import gray_class_pages, white_pages
from .native_val import best_native_epoch, native_sets, validate_native
from .precise_bn import check_statistics, precise_bn_inputs, recalibrate_bn, statistics_pool

__all__ = ["train", "load_data", "validate", "TrainingDiverged"]

CHECKPOINT = "checkpoint.safetensors"
BEST_NATIVE = "best_native.safetensors"  # keep_best_native's snapshot


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


def pick_device(name):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def validate(model, val_uint8, cfg, gray_mean, gray_std):
    """(loss sum over batches, mean loss, mean RGB MSE, mean PSNR) on the validation set; one sync.
    Always in float32, as the exported network runs, whatever ``cfg.amp`` trains with."""
    return read_validation(validation_sums(model, val_uint8, cfg, gray_mean, gray_std), len(val_uint8), cfg.batch_size)


def read_validation(sums, n_images, batch_size):
    """:func:`validate`'s numbers from :func:`validation_sums`' tensors."""
    loss_sum, mse_sum, psnr_sum = sums
    loss_sum = loss_sum.item()
    return loss_sum, loss_sum / math.ceil(n_images / batch_size), mse_sum.item() / n_images, psnr_sum.item() / n_images


@torch.no_grad()
def validation_sums(model, val_uint8, cfg, gray_mean, gray_std):
    """(loss sum over batches, RGB MSE sum over images, PSNR sum over images) as 0-d tensors on
    the data's device, with no host sync (a CUDA graph can record it)."""
    model.eval()
    loss_sum = torch.zeros((), device=val_uint8.device)
    mse_sum = torch.zeros((), device=val_uint8.device)
    psnr_sum = torch.zeros((), device=val_uint8.device)
    n_batches = math.ceil(len(val_uint8) / cfg.batch_size)
    for b in range(n_batches):
        rgb_uint8 = val_uint8[b * cfg.batch_size : (b + 1) * cfg.batch_size]
        rgb, y, cbcr = batch_views(model, rgb_uint8)
        out = model(memory_layout(network_input(model, y, gray_mean, gray_std), cfg))
        loss_sum += loss_fn(model, out, rgb, y, cbcr, cfg.loss, cfg.colorfulness_weight, cfg.rebalance)
        pred_uint8 = (forward_rgb(model, out, y) * 255.0).round()
        mse = (pred_uint8 - (rgb * 255.0).round()).pow(2).mean(dim=(1, 2, 3))  # the target: a line-art net's has a white page
        mse_sum += (mse / 255.0**2).sum()
        psnr_sum += (10 * torch.log10(255.0**2 / mse.clamp_min(1e-10))).clamp(max=50.0).sum()
    return loss_sum, mse_sum, psnr_sum


def memory_layout(x, cfg):
    """``x`` in the layout the run's convolutions use (NHWC with ``channels_last``)."""
    return x.contiguous(memory_format=torch.channels_last) if cfg.channels_last else x


def extra_oversampling(cfg, n_main, n_extra):
    """How many times more often training draws each extra image than each main one (1 = in proportion)."""
    if not cfg.extra_share:
        return 1.0
    return cfg.extra_share / (1 - cfg.extra_share) * n_main / n_extra


def epoch_batches(n_main, n_extra, cfg, epoch, fixed_order, device):
    """[(pool, index tensor on device)] for one epoch: pool 0 is the main set, pool 1 the extra set."""
    g = epoch_generator(cfg.seed, epoch)
    order = fixed_order if cfg.shuffle == "once" else torch.randperm(n_main, generator=g)
    extra = torch.randperm(n_extra, generator=g) if n_extra else None
    if cfg.epoch_images and cfg.epoch_images < n_main:  # a fresh draw each epoch with every_epoch shuffling
        n_extra = round(n_extra * cfg.epoch_images / n_main)
        order, n_main = order[: cfg.epoch_images], cfg.epoch_images
    if cfg.extra_share and extra is not None:  # as many passes over the extra set as the share needs
        n_extra = round(n_main * cfg.extra_share / (1 - cfg.extra_share))
        passes = -(-n_extra // len(extra))
        extra = torch.cat([extra] + [torch.randperm(len(extra), generator=g) for _ in range(passes - 1)])[:n_extra]
    batches = [(0, order[i : i + cfg.batch_size]) for i in range(0, n_main, cfg.batch_size)]
    if n_extra:
        batches += [(1, extra[i : i + cfg.batch_size]) for i in range(0, n_extra, cfg.batch_size)]
        batches = [batches[i] for i in torch.randperm(len(batches), generator=g)]
    # One host-to-device copy per epoch, not one per step: a copy per step would stall the queue.
    flat = torch.cat([index for _, index in batches]).to(device)
    views = flat.split([len(index) for _, index in batches])
    return [(pool, view) for (pool, _), view in zip(batches, views)]


def load_data(cfg):
    """(main training ImageSet, validation images, extra set or None) of ``cfg``, as N x H x W x 3
    uint8. Larger images for scale variety are kept at twice their crops' size and cropped each epoch."""
    train_set = of_classes(load_sources(cfg.data, "train", cfg.image_size), cfg.classes)
    val_images = validation_images(cfg.data, cfg.image_size, cfg.classes, cfg.val_limit)
    extra = gray_class_pages(load_sources(cfg.extra_train_data, "train", 2 * (cfg.extra_size or cfg.image_size)),
                             cfg.extra_gray_pages).images if cfg.extra_train_data else None
    return train_set, val_images, extra


def train(cfg, resume=False, show_progress=True, on_epoch=None):
    """Run (or resume) the training described by ``cfg``; returns the run folder.
    on_epoch: called with each epoch's history record (progress reports); if it returns True, the
    run stops after that epoch as at ``max_minutes`` (checkpoint; ``--resume`` continues)."""
    from .plots import grid_path, grid_pictures, grids_up_to, save_grid, save_loss_curve  # matplotlib only when training

    started = time.monotonic()
    if cfg.amp not in ("none", "bf16"):
        raise ValueError(f"unknown amp {cfg.amp!r}; use 'none' or 'bf16'")
    if not 0 <= cfg.extra_share < 1:
        raise ValueError(f"extra_share must be in [0, 1), got {cfg.extra_share}")
    if cfg.cuda_graph:
        from .cuda_graph import GraphedEpochs, check_config

        check_config(cfg)
    device = pick_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out_dir = Path(cfg.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    train_set, val_images, extra = load_data(cfg)
    extra_size = cfg.extra_size or cfg.image_size
    gray_mean, gray_std = gray_stats(train_set.images, cfg.normalization)

    torch.manual_seed(cfg.seed)
    model = create_model(cfg.model, **cfg.model_kwargs)
    check_statistics(cfg, model)
    if model.task == "sketch":  # a drawing's page is white (train.lineart)
        for images in (train_set.images, val_images):
            white_pages(images)
    base = describe_base(cfg.init_from)
    if cfg.init_from:
        init_weights(model, cfg.init_from)
    if model.output == "bins":  # the prior that inference divides out (saved with the weights)
        sets = [(train_set.images, 1.0)] + ([(extra, 0.25 * extra_oversampling(cfg, len(train_set), len(extra)))]
                                            if extra is not None else [])  # extra: seen as 1/4-area crops
        model.bin_prior.copy_(training_prior(sets, model.grid))
    model = model.to(device, memory_format=torch.channels_last if cfg.channels_last else torch.preserve_format)
    cuda = device.type == "cuda"
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=cuda or None,
                                 capturable=cuda and cfg.cuda_graph)
    scheduler = None
    if cfg.scheduler == "plateau":
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=cfg.plateau_factor, patience=cfg.plateau_patience)
    elif cfg.scheduler == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    elif cfg.scheduler != "none":
        raise ValueError(f"unknown scheduler {cfg.scheduler!r}; use 'none', 'plateau' or 'cosine'")
    fixed_order = torch.randperm(len(train_set), generator=epoch_generator(cfg.seed, -1))

    history, start_epoch = [], 0
    checkpoint_path = out_dir / CHECKPOINT
    export_dir = Path(cfg.export) if cfg.export else None
    if resume and checkpoint_path.exists():
        model_state, optim_state, sched_state, meta = load_checkpoint(checkpoint_path)
        check_resumable(cfg, meta["config"], checkpoint_path)
        model.load_state_dict(model_state)
        optimizer.load_state_dict(optim_state)
        if scheduler is not None:
            scheduler.load_state_dict(sched_state)
        history, start_epoch = meta["history"], meta["epoch"]
        base = meta.get("fine_tuned_from", base)  # the base as it was when the run began
    elif resume and export_dir and (export_dir / "history.json").exists():
        # The run folder is gone (another machine, another session) but the piece's export is not.
        model_state, meta = load_export(export_dir)
        check_resumable(cfg, meta["config"], export_dir)
        model.load_state_dict(model_state)
        history, start_epoch = meta["history"], meta["epoch"]
        base = meta.get("fine_tuned_from", base)
        if cfg.scheduler == "cosine":  # back to where the run stopped (a plateau schedule restarts its patience)
            with warnings.catch_warnings():  # torch warns of a step before any optimizer step
                warnings.simplefilter("ignore", UserWarning)
                for _ in range(start_epoch):
                    scheduler.step()
        for grid in grids_up_to(export_dir, start_epoch):  # the earlier pieces' grids, for this run's later exports
            if not (out_dir / grid.name).exists():
                shutil.copyfile(grid, out_dir / grid.name)
        print(f"resuming from {export_dir} after epoch {start_epoch}: no checkpoint in {out_dir}, so Adam's moments start afresh")
    if cfg.compile:
        model = torch.compile(model)
    amp = cfg.amp == "bf16"

    train_uint8 = torch.from_numpy(train_set.images).to(device)
    val_uint8 = torch.from_numpy(val_images).to(device)
    extra_uint8 = torch.from_numpy(extra).to(device) if extra is not None else None
    grid_uint8 = grid_pictures(val_uint8)
    bn_pool = statistics_pool(cfg, train_uint8, extra_uint8)
    graphed = GraphedEpochs(model, optimizer, cfg, train_uint8, val_uint8, fixed_order, gray_mean, gray_std) if cfg.cuda_graph else None
    normalization = {"gray_mean": gray_mean, "gray_std": gray_std, "scheme": cfg.normalization}
    native = native_sets(cfg.val_native_data, cfg.val_native_limit) if cfg.val_native_data else None
    if native:  # served as the export will serve it (ValueError now for settings colorizer.load would refuse)
        from .export import inference_section

        native_config = {"architecture": {"name": cfg.model, "kwargs": cfg.model_kwargs}, "normalization": normalization,
                         "inference": inference_section(model, dataclasses.asdict(cfg))}

    def write_checkpoint(path, epoch, snapshot=False):
        meta = {"config": dataclasses.asdict(cfg), "architecture": {"name": cfg.model, "kwargs": cfg.model_kwargs},
                "normalization": normalization, "epoch": epoch, "history": history, "fine_tuned_from": base,
                "data": {"sources": cfg.data, "train_images": len(train_set), "val_images": len(val_images)},
                **({"snapshot": True} if snapshot else {})}  # a kept epoch of a run that goes on, not where it stopped
        save_checkpoint(path, getattr(model, "_orig_mod", model), optimizer, scheduler, meta)

    epochs = tqdm(range(start_epoch, cfg.epochs), initial=start_epoch, total=cfg.epochs, desc=cfg.model,
                  unit="epoch", disable=not show_progress, dynamic_ncols=True)
    for epoch in epochs:
        tick = time.monotonic()
        model.train()
        g = epoch_generator(cfg.seed, epoch, stream=1)
        loss_sum = torch.zeros((), device=device)
        batches = [] if graphed else epoch_batches(len(train_uint8), 0 if extra_uint8 is None else len(extra_uint8), cfg, epoch,
                                                   fixed_order, device)
        for pool, index in tqdm(batches, leave=False, disable=not show_progress, unit="batch", dynamic_ncols=True):
            rgb_uint8 = (train_uint8 if pool == 0 else extra_uint8)[index]
            if cfg.augment:
                rgb_uint8 = augment(rgb_uint8, cfg.image_size if pool == 0 else extra_size, MIN_CROP_SCALE if pool == 0 else EXTRA_MIN_CROP_SCALE, g)
            rgb, y, cbcr = batch_views(model, rgb_uint8)
            x = memory_layout(network_input(model, y, gray_mean, gray_std, cbcr, g if cfg.hints else None, cfg.hints_none), cfg)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                out = model(x)
            loss = loss_fn(model, out.float(), rgb, y, cbcr, cfg.loss, cfg.colorfulness_weight, cfg.rebalance)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach()
        n_batches = len(batches)
        if graphed:
            loss_sum, n_batches = graphed.train_epoch(epoch)
        train_loss_sum = loss_sum.item()  # the epoch's one host sync
        if not math.isfinite(train_loss_sum):
            raise TrainingDiverged(
                f"loss became {train_loss_sum} in epoch {epoch + 1}; stopped, "
                + (f"last good checkpoint kept at {checkpoint_path}" if checkpoint_path.exists() else "no checkpoint was written yet")
            )
        if cfg.precise_bn:  # statistics for the size pictures are used at, not the last batches' (train.precise_bn)
            recalibrate_bn(model, precise_bn_inputs(model, cfg, *bn_pool, epoch, gray_mean, gray_std, lambda x: memory_layout(x, cfg)))
        val_loss_sum, val_loss, val_mse, val_psnr = (graphed.validate() if graphed else
                                                      validate(model, val_uint8, cfg, gray_mean, gray_std))
        if native:  # the pipeline runs on the CPU in float32, whatever the run trains on
            net = getattr(model, "_orig_mod", model)
            native_rows = validate_native(net if device.type == "cpu" else copy.deepcopy(net).cpu(), native, native_config)
        if scheduler is not None:
            scheduler.step(val_loss_sum) if cfg.scheduler == "plateau" else scheduler.step()
        history.append({
            "epoch": epoch + 1, "lr": float(optimizer.param_groups[0]["lr"]),  # a tensor with cuda_graph
            "train_loss_sum": train_loss_sum, "val_loss_sum": val_loss_sum,
            "train_loss": train_loss_sum / n_batches, "val_loss": val_loss,
            "val_mse": val_mse, "val_psnr": val_psnr, "seconds": time.monotonic() - tick,
            **({"native": native_rows} if native else {}), **({"precise_bn": cfg.precise_bn} if cfg.precise_bn else {}),
        })
        epochs.set_postfix(train=f"{train_loss_sum:.4f}", val=f"{val_loss_sum:.4f}", psnr=f"{val_psnr:.2f}")
        asked_to_stop = bool(on_epoch and on_epoch(history[-1]))
        done = epoch + 1
        last = done == cfg.epochs
        out_of_time = (cfg.max_minutes and time.monotonic() - started > 60 * cfg.max_minutes) or done == cfg.stop_after or asked_to_stop
        if done in cfg.grid_epochs or last or out_of_time:
            save_grid(model, grid_uint8, gray_mean, gray_std, grid_path(out_dir, done), done)
        if done % cfg.checkpoint_every == 0 or last or out_of_time or done in cfg.keep_epochs:
            write_checkpoint(checkpoint_path, done)
            atomic_write_bytes(out_dir / "history.json", json.dumps({"epochs": history}, indent=1).encode())
        if done in cfg.keep_epochs:
            write_checkpoint(out_dir / f"epoch_{done:04d}.safetensors", done, snapshot=True)
        if native and cfg.keep_best_native and best_native_epoch(history) == done:
            write_checkpoint(out_dir / BEST_NATIVE, done, snapshot=True)
        if out_of_time:
            print(f"stopping after epoch {done} (stop_after / max_minutes); --resume continues")
            break
    # Also after the loop: a kill between the last checkpoint and its history write, then a
    # resume that finds nothing left to train, must still leave a complete history.
    atomic_write_bytes(out_dir / "history.json", json.dumps({"epochs": history}, indent=1).encode())
    save_loss_curve(history, out_dir / "loss_curve.png", title=f"{cfg.model} ({len(history)} epochs)",
                    loss=cfg.loss, colorfulness_weight=cfg.colorfulness_weight)
    if cfg.export and history:
        from .export import export_run

        export_run(out_dir / CHECKPOINT, cfg.export, eval_limit=cfg.export_eval_limit, default=cfg.export_default)
    return out_dir
