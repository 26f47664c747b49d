"""``python -m train.bench [--model seed_cnn] [--device auto] [--steps 50] [--amp none|bf16] [--channels-last]``

Times the training step of a network on random data of the real run's shape (batch 100 of
32x32 gray images) on the current device, and prints images per second and the projected
time of the original's 2000-epoch run (54,800 training and 11,600 validation images).
"""

import argparse
import sys
import time

import torch

from colorizer.models import create_model

from .batches import loss_fn, network_input, split_color
from .loop import pick_device

TRAIN_IMAGES, VAL_IMAGES, EPOCHS = 54_800, 11_600, 2000


def bench(model_name="seed_cnn", device="auto", steps=50, batch_size=100, amp="none", loss_kind="mse_rgb", compile=False,
          channels_last=False):
    """(train images/s, validation images/s) measured after a warm-up; the options are the
    training config's (``amp`` bf16 autocasts the training step on CUDA and CPU alike)."""
    device = pick_device(device)
    torch.manual_seed(0)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = create_model(model_name).to(device, memory_format=layout)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, fused=device.type == "cuda" or None)
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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m train.bench", description=__doc__.split("\n\n")[1])
    parser.add_argument("--model", default="seed_cnn")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--amp", default="none", choices=["none", "bf16"])
    parser.add_argument("--loss", default="mse_rgb", choices=["mse_rgb", "mse_cbcr"])
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--channels-last", action="store_true", help="NHWC layout for the convolutions")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    train_rate, val_rate, device = bench(args.model, args.device, args.steps, amp=args.amp, loss_kind=args.loss, compile=args.compile,
                                         channels_last=args.channels_last)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    epoch_s = TRAIN_IMAGES / train_rate + VAL_IMAGES / val_rate
    print(f"device: {name}; model {args.model}, batch 100, amp {args.amp}, compile {args.compile}, channels_last {args.channels_last}")
    print(f"training: {train_rate:,.0f} images/s; validation: {val_rate:,.0f} images/s")
    print(f"one epoch: {epoch_s:,.1f} s; projected {EPOCHS}-epoch run: {EPOCHS * epoch_s / 3600:,.2f} h ({EPOCHS * epoch_s / 60:,.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
