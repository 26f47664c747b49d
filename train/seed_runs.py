"""The original's three runs in one GPU command, and their weights folders from what came back.

``python -m train.seed_runs device --out DIR [--minutes 8.5]`` (on the GPU machine; see
scripts/device_seed_all.sh for the exact device call) does, against one deadline:

1. decodes the two 32 px archives in ``data/`` once (a cache in ``$COLORIZER_CACHE``);
2. a precision check: ``seed_cnn`` for a few epochs eagerly in float32, on the CUDA-graph path in
   float32 with seeds 0 and 1, and in TF32. TF32 is used when its validation error differs from
   float32's by no more than another seed's does; the graph path is used when it agrees with the
   eager loop as closely (else the runs fall back to the eager loop);
3. ``python -m train.bench`` figures for the eager and the graph path;
4. ``seed_cnn`` (2000 epochs, the 500-epoch state kept), ``seed_cnn_half`` and ``seed_cnn_plateau``
   (lr 1e-3) as threads of this process, each on its own CUDA stream, ``seed_cnn``'s at the highest
   priority: its kernels go first and the other two fill the gaps. Should ``seed_cnn`` still be
   projected to miss the deadline, the plateau run, then the half-width run, is stopped to give it
   the GPU. Each stops cleanly (checkpoint) at the deadline at the latest. Progress every 30 s;
5. packs ``<run>.tar.gz`` per run (float16 weights with the run's record and history, and its
   example grids) and ``seed_cnn_500.tar.gz`` into DIR, with ``summary.json`` (the check, the bench
   figures, each run's epochs, speed and float16 check): 5 files, ~50 MB, each under 16 MiB.

``python -m train.seed_runs unpack DIR`` (on the CPU, from the repository's root, with ``data/``
prepared) exports ``weights/seed_cnn``, ``seed_cnn_500``, ``seed_cnn_half`` and
``seed_cnn_plateau`` with their model cards, adding the measured speed and CPU bench figures.
"""

import argparse
import contextlib
import json
import math
import sys
import tarfile
import threading
import time
import traceback
from pathlib import Path

import torch
from safetensors.torch import save

from colorizer.weights import atomic_write_bytes

from . import loop
from .bench import bench
from .checkpoint import load_checkpoint
from .config import config_from_dict
from .presets import PRESETS
from .plots import grids_up_to

__all__ = ["run_device", "unpack", "main"]

RUNS = ["seed_cnn", "seed_cnn_half", "seed_cnn_plateau"]
DATA = ["data/cifar10-images.tar.gz", "data/linnaeus5-32.tar.gz"]
PRIORITY = {"seed_cnn": -100}  # CUDA stream priorities, lower first: -100 maps to the device's highest; others 0
PACK_SECONDS = 45  # kept free before the deadline for packing


def _config(name, **values):
    return config_from_dict({**PRESETS[name], **values})


def _precision(tf32):
    """TF32 for matmuls and convolutions on or off (PyTorch's default lets cuDNN use TF32)."""
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32


def _check(data, device, epochs, work, overrides, log):
    """Short ``seed_cnn`` runs: {label: {val_loss_sum after ``epochs``, epoch_seconds after the first}}
    and the choice of CUDA graphs and TF32 (CUDA only) for the long runs."""
    variants = {"eager float32": {}, "graph float32": {"cuda_graph": True}, "graph float32 seed 1": {"cuda_graph": True, "seed": 1}}
    if torch.device(device).type == "cuda":
        variants["graph tf32"] = {"cuda_graph": True, "tf32": True}
    results = {}
    for label, values in variants.items():
        cfg = _config("seed_cnn", data=data, device=device, epochs=epochs, out_dir=str(work / "check" / label.replace(" ", "_")),
                      grid_epochs=[], keep_epochs=[], checkpoint_every=10**6, **{**overrides, **values})
        _precision(cfg.tf32)
        try:
            history = json.loads((loop.train(cfg, show_progress=False) / "history.json").read_text())["epochs"]
        except Exception:  # noqa: BLE001 - a failed variant is reported and not used
            log(f"check {label}: failed\n{traceback.format_exc()}")
            continue
        rest = history[1:] or history  # the first epoch includes the capture
        results[label] = {"val_loss_sum": history[-1]["val_loss_sum"], "epoch_seconds": sum(h["seconds"] for h in rest) / len(rest)}
        log(f"check {label}: validation error {results[label]['val_loss_sum']:.6f} after {epochs} epochs, "
            f"{results[label]['epoch_seconds']:.3f} s an epoch")
    base, other = results.get("graph float32"), results.get("graph float32 seed 1")
    eager, tf32 = results.get("eager float32"), results.get("graph tf32")
    spread = abs(other["val_loss_sum"] - base["val_loss_sum"]) if base and other else 0.0
    graph_ok = bool(base and eager and abs(base["val_loss_sum"] - eager["val_loss_sum"]) <= spread)
    tf32_ok = bool(graph_ok and tf32 and abs(tf32["val_loss_sum"] - base["val_loss_sum"]) <= spread)
    log(f"check: seed-to-seed spread {spread:.6f}; CUDA graphs {'used' if graph_ok else 'NOT used'}, TF32 {'used' if tf32_ok else 'not used'}")
    return {"epochs": epochs, "results": results, "seed_spread": spread, "cuda_graph": graph_ok, "tf32": tf32_ok}


def _train_threads(configs, cuda, stop_at, log, report_s):
    """Train ``configs`` ({name: cfg}) in threads, each on its own CUDA stream; ({name: traceback or
    None}, names of the runs stopped early). The first run comes first: whenever it would not finish
    by ``stop_at`` at its latest rate, the last run still going is stopped (cleanly, checkpointed)."""
    errors, latest, seen, stopping, started = {}, {}, {}, [], time.monotonic()
    first = next(iter(configs))

    def work(name, cfg):
        try:
            stream = torch.cuda.Stream(priority=PRIORITY.get(name, 0)) if cuda else None
            with torch.cuda.stream(stream) if cuda else contextlib.nullcontext():
                loop.train(cfg, show_progress=False, on_epoch=lambda record: latest.__setitem__(name, record) or name in stopping)
            errors[name] = None
        except Exception:  # noqa: BLE001 - one run's failure must not stop the others
            errors[name] = traceback.format_exc()
            log(f"{name}: failed\n{errors[name]}")

    def report():
        now = time.monotonic()
        for name, cfg in configs.items():
            h = latest.get(name)
            steady = name in seen  # the rate since the last report, not since the start (data, capture)
            epoch, then = seen.get(name, (0, started))
            if h and (name not in errors or h["epoch"] > epoch):  # running, or finished since the last report
                rate = (h["epoch"] - epoch) / (now - then)
                seen[name] = (h["epoch"], now)
                eta = f"the rest in {(cfg.epochs - h['epoch']) / rate / 60:.1f} min" if rate else "no epoch since the last report"
                log(f"[{now - started:5.0f} s] {name}: epoch {h['epoch']}/{cfg.epochs}, train {h['train_loss_sum']:.4f}, "
                    f"val {h['val_loss_sum']:.4f}, lr {h['lr']:.1e}; {rate:.2f} epochs/s, {eta}; {(stop_at - now) / 60:.1f} min to the stop")
                if name == first and steady and name not in errors and rate and now + (cfg.epochs - h["epoch"]) / rate > stop_at:
                    going = [n for n in configs if n != first and n not in errors and n not in stopping]
                    if going:
                        stopping.append(going[-1])
                        log(f"{first} would not finish in time at this rate: stopping {going[-1]} to give it the GPU")

    threads = [threading.Thread(target=work, args=item, daemon=True) for item in configs.items()]
    for thread in threads:
        thread.start()
    last = time.monotonic()
    while any(t.is_alive() for t in threads):
        time.sleep(0.2)
        if time.monotonic() - last >= report_s:
            report()
            last = time.monotonic()
    report()
    return errors, stopping


def _slim(checkpoint, target):
    """The checkpoint's model in float16 with its record (config, history...), no optimizer state."""
    model_state, _, scheduler, meta = load_checkpoint(checkpoint)
    tensors = {f"model.{k}": (v.half() if v.is_floating_point() else v).contiguous() for k, v in model_state.items()}
    meta = {**meta, "optimizer": {"param_groups": [], "scalars": {}}, "scheduler": scheduler}
    atomic_write_bytes(target, save(tensors, metadata={"checkpoint": json.dumps(meta)}))


def _float16_check(checkpoint, device, val_images):
    """{"float32": validation error, "float16": the same with the weights rounded to float16}."""
    from colorizer.models import create_model

    model_state, _, _, meta = load_checkpoint(checkpoint)
    cfg, norm = config_from_dict(meta["config"]), meta["normalization"]
    model = create_model(meta["architecture"]["name"], **meta["architecture"]["kwargs"]).to(device)
    val = torch.from_numpy(val_images).to(device)
    errors = {}
    for dtype in (torch.float32, torch.float16):
        model.load_state_dict({k: v.to(dtype).float() if v.is_floating_point() else v for k, v in model_state.items()})
        errors[str(dtype).removeprefix("torch.")] = loop.validate(model, val, cfg, norm["gray_mean"], norm["gray_std"])[0]
    return errors


def _pack(run_dir, name, checkpoint, out_dir, log):
    """out_dir/<name>.tar.gz: the checkpoint slimmed (float16, no optimizer state; its record holds
    the config and history) and the run's example grids up to its epoch; returns its size in bytes."""
    slim = run_dir / f"{name}.slim.safetensors"
    _slim(checkpoint, slim)
    epoch = load_checkpoint(slim)[3]["epoch"]
    archive = out_dir / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(slim, arcname=loop.CHECKPOINT)
        for path in grids_up_to(run_dir, epoch):
            tar.add(path, arcname=path.name)
    size = archive.stat().st_size
    if size > 16 * 2**20:
        log(f"WARNING: {archive.name} is {size / 2**20:.1f} MiB, over the 16 MiB a file may have to come back")
    return size


def run_device(out_dir, work_dir, data=DATA, device="cuda", epochs=2000, snapshot=500, minutes=8.5, check_epochs=3,
               bench_steps=200, overrides=None, runs=RUNS, report_s=30.0, log=print):
    """Steps 1-5 of the module's docstring; returns the summary also written to out_dir/summary.json.
    overrides: config values for every run (a dry run's tiny batch size, say)."""
    from .data import load_sources

    started = time.monotonic()
    deadline = started + 60 * minutes
    out_dir, work = Path(out_dir), Path(work_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    overrides = dict(overrides or {})
    cuda = torch.device(device).type == "cuda"
    summary = {"torch": torch.__version__, "device": torch.cuda.get_device_name() if cuda else "cpu", "minutes": minutes, "runs": {}}
    log(f"torch {summary['torch']} on {summary['device']}; everything done within {minutes} min")
    # Decode once into the cache, before the runs' threads read it.
    n_train, val_images = len(load_sources(data, "train")), load_sources(data, "test").images
    log(f"[{time.monotonic() - started:5.0f} s] data decoded")
    check = _check(data, device, check_epochs, work, overrides, log) if check_epochs else {"cuda_graph": True, "tf32": False}
    summary["check"] = check
    if bench_steps:
        summary["bench"] = {}
        for label, graphed in (("eager", False), ("graph", check["cuda_graph"])):
            _precision(check["tf32"])
            train_rate, val_rate, _ = bench("seed_cnn", device, bench_steps, cuda_graph=graphed, tf32=check["tf32"])
            summary["bench"][label] = {"train_images_per_s": train_rate, "val_images_per_s": val_rate, "cuda_graph": graphed,
                                       "tf32": check["tf32"], "steps": bench_steps}
            log(f"bench seed_cnn {label}: training {train_rate:,.0f} images/s, validation {val_rate:,.0f} images/s")
    _precision(check["tf32"])  # for the eager loop too, should the graph path have failed its check
    stop_at = deadline - PACK_SECONDS
    configs = {name: _config(name, data=data, device=device, epochs=epochs, out_dir=str(work / "runs" / name),
                             cuda_graph=check["cuda_graph"], tf32=check["tf32"], keep_epochs=[snapshot], grid_epochs=[snapshot],
                             checkpoint_every=250, max_minutes=(stop_at - time.monotonic()) / 60, **overrides) for name in runs}
    log(f"[{time.monotonic() - started:5.0f} s] training {', '.join(runs)} for up to {(stop_at - time.monotonic()) / 60:.1f} min")
    errors, stopped = _train_threads(configs, cuda, stop_at, log, report_s)
    for name, cfg in configs.items():
        run_dir = Path(cfg.out_dir)
        shared = {"error": errors.get(name), "planned_epochs": cfg.epochs, "cuda_graph": cfg.cuda_graph, "tf32": cfg.tf32,
                  "beside": [n for n in configs if n != name], "stopped_for": next(iter(configs)) if name in stopped else None}
        packs = [(name, run_dir / loop.CHECKPOINT)]
        if name == "seed_cnn":
            packs.append((f"{name}_{snapshot}", run_dir / f"epoch_{snapshot:04d}.safetensors"))
        for label, checkpoint in packs:
            if not checkpoint.exists():
                continue
            history = load_checkpoint(checkpoint)[3]["history"]
            seconds = sum(h["seconds"] for h in history)
            record = {**shared, "planned_epochs": cfg.epochs if label == name else snapshot, "epochs": len(history), "train_seconds": seconds,
                      "steps_per_s": len(history) * math.ceil(n_train / cfg.batch_size) / seconds,
                      "float16_check": _float16_check(checkpoint, device, val_images), "bytes": _pack(run_dir, label, checkpoint, out_dir, log)}
            summary["runs"][label] = record
            log(f"{label}: {record['epochs']} epochs, {record['steps_per_s']:,.0f} steps/s, packed {record['bytes'] / 2**20:.1f} MiB")
        summary["runs"].setdefault(name, shared)
    summary["seconds"] = time.monotonic() - started
    atomic_write_bytes(out_dir / "summary.json", json.dumps(summary, indent=1).encode())
    log(f"[{summary['seconds']:5.0f} s] done")
    return summary


def unpack(in_dir, weights_dir="weights", runs_dir="runs/device", run_eval=True, cpu_bench_steps=10, log=print):
    """Export each packed run in ``in_dir`` to ``weights_dir/<name>`` with its card; returns the names."""
    from .export import export_run

    in_dir, runs_dir = Path(in_dir), Path(runs_dir)
    summary = json.loads((in_dir / "summary.json").read_text())
    cpu_bench = {}
    exported = []
    for archive in sorted(in_dir.glob("*.tar.gz")):
        name = archive.name.removesuffix(".tar.gz")
        run_dir = runs_dir / name
        run_dir.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(run_dir, filter="data")
        record = summary["runs"].get(name, {})
        model_name = load_checkpoint(run_dir / loop.CHECKPOINT)[3]["architecture"]["name"]
        if cpu_bench_steps and model_name not in cpu_bench:
            rates = bench(model_name, "cpu", cpu_bench_steps)[:2]
            cpu_bench[model_name] = {"train_images_per_s": rates[0], "val_images_per_s": rates[1], "threads": torch.get_num_threads()}
        speed = {**{k: v for k, v in record.items() if k != "bytes"}, "device": summary["device"], "torch": summary["torch"],
                 "check": summary.get("check"), "bench_gpu": summary.get("bench"), "bench_cpu": cpu_bench.get(model_name)}
        config = export_run(run_dir / loop.CHECKPOINT, Path(weights_dir) / name, run_eval=run_eval,
                            extra_metrics={"training_speed": speed})
        metrics = config["metrics"]
        log(f"{name}: {config['epochs']} epochs, train error {metrics.get('train_loss_sum', float('nan')):.4f}, "
            f"validation {metrics.get('val_loss_sum', float('nan')):.4f} (lowest {metrics.get('best_val_loss_sum', float('nan')):.4f}"
            f" at epoch {metrics.get('best_epoch')})")
        exported.append(name)
    return exported


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m train.seed_runs", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("device", help="train the three runs against a deadline and pack them into --out")
    dev.add_argument("--out", required=True)
    dev.add_argument("--work", default="/tmp/seed_runs", help="run folders (not brought back)")
    dev.add_argument("--minutes", type=float, default=8.5, help="deadline for everything, packing included")
    dev.add_argument("--epochs", type=int, default=2000)
    dev.add_argument("--check-epochs", type=int, default=3, help="epochs of each precision-check run (0: no check)")
    dev.add_argument("--device", default="cuda")
    un = sub.add_parser("unpack", help="export the packed runs in a folder to weights/ with their cards")
    un.add_argument("folder")
    un.add_argument("--weights", default="weights")
    un.add_argument("--no-eval", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "device":
            run_device(args.out, args.work, device=args.device, epochs=args.epochs, minutes=args.minutes, check_epochs=args.check_epochs,
                       log=lambda line: print(line, flush=True))
        else:
            unpack(args.folder, args.weights, run_eval=not args.no_eval)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
