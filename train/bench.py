"""``python -m train.bench [--model seed_cnn] [--device auto] [--steps 50] [--amp none|bf16] [--channels-last] [--cuda-graph] [--tf32]``

Times the training step of a network on random data of the real run's shape (batch 100 of
32x32 gray images) on the current device, and prints images per second and the projected
time of the original's 2000-epoch run (54,800 training and 11,600 validation images).
With --cuda-graph the steps run as the training loop's CUDA-graph path does (train/cuda_graph.py:
one graph of ``steps`` steps, replayed; validation with its metrics, also replayed); on a CPU
that path runs eagerly.
"""

import argparse
import sys
import time

import torch

from colorizer.models import create_model

from .batches import loss_fn, network_input, split_color
from .config import TrainConfig
from .loop import pick_device

TRAIN_IMAGES, VAL_IMAGES, EPOCHS = 54_800, 11_600, 2000


def bench(model_name="seed_cnn", device="auto", steps=50, batch_size=100, amp="none", loss_kind="mse_rgb", compile=False,
          channels_last=False, cuda_graph=False, tf32=False):
    """(train images/s, validation images/s) measured after a warm-up; the options are the
    training config's (``amp`` bf16 autocasts the training step on CUDA and CPU alike)."""
    device = pick_device(device)
    torch.manual_seed(0)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = create_model(model_name).to(device, memory_format=layout)
    cuda = device.type == "cuda"
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, fused=cuda or None, capturable=cuda and cuda_graph)
    if cuda_graph:
        cfg = TrainConfig(model=model_name, batch_size=batch_size, amp=amp, loss=loss_kind, channels_last=channels_last,
                          compile=compile, cuda_graph=True, tf32=tf32)
        return _bench_graphed(model, optimizer, cfg, steps, device) + (device,)
    step_model = torch.compile(model) if compile else model
    data = torch.randint(0, 256, (batch_size * 8, 32, 32, 3), dtype=torch.uint8, device=device)
    use_amp = amp == "bf16"

    def step(i):
        rgb, y, cbcr = split_color(data[(i % 8) * batch_size : (i % 8 + 1) * batch_size])
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            out = step_model(network_input(model, y, 120.0, 60.0).contiguous(memory_format=layout))
        loss = loss_fn(model, out.float(), rgb, y, cbcr, loss_kind)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    for i in range(5):
        step(i)
    sync()
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    sync()
    train_rate = steps * batch_size / (time.perf_counter() - start)
    model.eval()
    with torch.no_grad():
        start = time.perf_counter()
        for i in range(steps):
            rgb, y, _ = split_color(data[(i % 8) * batch_size : (i % 8 + 1) * batch_size])
            step_model(network_input(model, y, 120.0, 60.0).contiguous(memory_format=layout))
        sync()
    val_rate = steps * batch_size / (time.perf_counter() - start)
    return train_rate, val_rate, device


def _bench_graphed(model, optimizer, cfg, steps, device):
    """(train images/s, validation images/s) of the loop's CUDA-graph path; the first epoch and
    validation (warm-up and capture) are not timed."""
    from .cuda_graph import GraphedEpochs

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    data = torch.randint(0, 256, (cfg.batch_size * steps, 32, 32, 3), dtype=torch.uint8, device=device)
    graphed = GraphedEpochs(model, optimizer, cfg, data, data, torch.randperm(len(data)), 120.0, 60.0)
    rates = []
    for run in (lambda epoch: graphed.train_epoch(epoch)[0], lambda epoch: graphed.validate()):
        run(0)
        sync()
        start = time.perf_counter()
        run(1)
        sync()
        rates.append(len(data) / (time.perf_counter() - start))
    return tuple(rates)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m train.bench", description=__doc__.split("\n\n")[1])
    parser.add_argument("--model", default="seed_cnn")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--amp", default="none", choices=["none", "bf16"])
    parser.add_argument("--loss", default="mse_rgb", choices=["mse_rgb", "mse_cbcr"])
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--channels-last", action="store_true", help="NHWC layout for the convolutions")
    parser.add_argument("--cuda-graph", action="store_true", help="the training loop's CUDA-graph path (eager on a CPU)")
    parser.add_argument("--tf32", action="store_true", help="with --cuda-graph on CUDA: TF32 matmuls and convolutions")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        train_rate, val_rate, device = bench(args.model, args.device, args.steps, amp=args.amp, loss_kind=args.loss,
                                             compile=args.compile, channels_last=args.channels_last, cuda_graph=args.cuda_graph,
                                             tf32=args.tf32)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    epoch_s = TRAIN_IMAGES / train_rate + VAL_IMAGES / val_rate
    print(f"device: {name}; model {args.model}, batch 100, amp {args.amp}, compile {args.compile}, channels_last {args.channels_last}, "
          f"cuda_graph {args.cuda_graph}, tf32 {args.tf32 and device.type == 'cuda'}")
    print(f"training: {train_rate:,.0f} images/s; validation: {val_rate:,.0f} images/s")
    print(f"one epoch: {epoch_s:,.1f} s; projected {EPOCHS}-epoch run: {EPOCHS * epoch_s / 3600:,.2f} h ({EPOCHS * epoch_s / 60:,.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
