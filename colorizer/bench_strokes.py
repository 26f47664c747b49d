"""``python -m colorizer.bench_strokes [--threads 2] [--repeat 10]``

Median time of the two person-guided calls (issue 18's speed targets, PIL in, PIL out, the whole
pipeline): a 1024 x 1024 photo-like image with 10 painted strokes (target 300 ms) and with 5 (the
most strokes that ``colorizer.held_out`` checks, one network run more per stroke: the slowest
count), and a 512 x 512 line drawing with a dab in each region (sketch mode, target 150 ms), and
the same with one dab (the shipped line-art network fills the other regions), on ``--threads``
threads.
Wall time and the process's CPU time are both printed: on a shared machine the wall time also
counts waiting for a core.
"""

import argparse
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image, ImageDraw

from .bench import test_image
from .pipeline import load


def strokes(size, count=10, seed=0):
    """``count`` strokes as a hints list: 60 x 6 pixel bars at random places, random colors."""
    rng = np.random.default_rng(seed)
    hints = []
    for _ in range(count):
        x0, y0 = (int(v) for v in rng.integers(0, size - 60, 2))
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        hints += [(x, y, color) for x in range(x0, x0 + 60) for y in range(y0, y0 + 6)]
    return hints


def drawing(size):
    """A size x size house-and-sun line drawing (gray) and one dab per region."""
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    s = size / 512
    draw.rectangle([100 * s, 250 * s, 300 * s, 450 * s], outline=0, width=4)
    draw.polygon([(100 * s, 250 * s), (200 * s, 150 * s), (300 * s, 250 * s)], outline=0, width=4)
    draw.ellipse([360 * s, 40 * s, 460 * s, 140 * s], outline=0, width=3)
    draw.line([(0, 470 * s), (size, 470 * s)], fill=0, width=4)
    dabs = [((200, 350), (200, 40, 40)), ((200, 220), (140, 70, 30)), ((410, 90), (250, 200, 30)),
            ((30, 30), (110, 170, 240)), ((30, 490), (40, 150, 60))]
    return image, [(int(x * s) + dx, int(y * s) + dy, c) for (x, y), c in dabs for dx in range(4) for dy in range(4)]


def timed(call, repeat):
    """(median wall ms, median CPU ms) of ``call()`` after one warm-up call."""
    call()
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return 1000 * statistics.median(wall), 1000 * statistics.median(cpu)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m colorizer.bench_strokes", description=__doc__.split("\n\n")[1])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--model", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = load(args.model)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {args.repeat}")
    photo, photo_hints = test_image(1024), strokes(1024)
    wall, cpu = timed(lambda: model.colorize(photo, hints=photo_hints), args.repeat)
    print(f"1024x1024 photo, 10 strokes: {wall:7.1f} ms wall, {cpu:7.1f} ms CPU  (target 300 ms)")
    few_hints = strokes(1024, count=5)
    wall, cpu = timed(lambda: model.colorize(photo, hints=few_hints), args.repeat)
    print(f"1024x1024 photo, 5 strokes:  {wall:7.1f} ms wall, {cpu:7.1f} ms CPU  (5 network runs more: the held-out check)")
    wall, cpu = timed(lambda: model.colorize(photo), args.repeat)
    print(f"1024x1024 photo, no strokes: {wall:7.1f} ms wall, {cpu:7.1f} ms CPU  (for reference)")
    sketch, dabs = drawing(512)
    wall, cpu = timed(lambda: model.colorize(sketch, mode="sketch", hints=dabs), args.repeat)
    print(f"512x512 sketch, 5 dabs:      {wall:7.1f} ms wall, {cpu:7.1f} ms CPU  (target 150 ms)")
    wall, cpu = timed(lambda: model.colorize(sketch, mode="sketch", hints=dabs[:16]), args.repeat)
    print(f"512x512 sketch, 1 dab:       {wall:7.1f} ms wall, {cpu:7.1f} ms CPU  (the line-art network fills the rest)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
