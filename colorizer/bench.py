"""``python -m colorizer.bench [--size 512] [--repeat 20] [--models NAME ...] [--big 4096]``

Median time to colorize one size x size photo-like image (PIL in, PIL out, the whole
pipeline) for each shipped model in the same run, and the peak memory of the process after
colorizing one big x big image with the default model (the first of ``--models`` if given; 0 skips it).
"""

import argparse
import resource
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image

from .pipeline import load
from .shipped import shipped_models


def test_image(size, seed=0):
    """A smooth random color image (not noise, so it looks like the inputs we care about)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    return Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC)


def median_ms(model, image, repeat):
    model.colorize(image)  # warm-up: first-call allocations
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        model.colorize(image)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m colorizer.bench", description=__doc__.split("\n\n")[1])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--models", nargs="*", default=None, help="default: every shipped model")
    parser.add_argument("--big", type=int, default=4096, help="side of the memory test image (0 = skip)")
    args = parser.parse_args(argv)
    names = args.models or list(shipped_models())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.size}x{args.size} input, median of {args.repeat}")
    image = test_image(args.size)
    for name in names:
        model = load(name)
        print(f"{name:>24}: {median_ms(model, image, args.repeat):7.1f} ms  (working size {model.working_shape(args.size, args.size)})")
    if args.big:
        model = load(names[0]) if args.models else load()  # the default model: what the app serves
        start = time.perf_counter()
        model.colorize(test_image(args.big))
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{model.name} on {args.big}x{args.big}: {time.perf_counter() - start:.2f} s, process peak memory {peak_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
