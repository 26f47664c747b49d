"""Which edge-aware spread for the strokes' residual: the domain transform or Levin et al.?

``python -m train.propagation_compare [--limit 40] [--size 256]``: the stroke curve
(``train.stroke_curve``) and the flood check with the library's spread
(``colorizer.propagate.spread_residual``: a domain-transform normalized convolution) and with
Levin, Lischinski and Weiss's optimization (SIGGRAPH 2004) in its screened form, a sparse solve
for the residual d on the same grid:

    minimize  sum over 4-neighbours p, q of w_pq (d_p - d_q)^2  +  LAMBDA sum_p d_p^2
              + BETA sum_p m_p (d_p - r_p)^2,     w_pq = exp(-(Y_p - Y_q)^2 / (2 SIGMA^2))

(m: the stroke mask, r: the residual; LAMBDA lets the change fade where no stroke reaches, as
``REACH`` does for the filter); plus each spread's time on a ``--size`` grid with 10 strokes.
"""

import argparse
import sys
import time

import numpy as np
import scipy.sparse as sparse
import scipy.sparse.linalg as sparse_linalg

import colorizer
import colorizer.propagate as propagate

from .config import DATA_DIR
from .data import load_sources
from .stroke_curve import COUNTS, flood_check, format_curve, stroke_curve

SIGMA, LAMBDA, BETA = 0.03, 1e-3, 100.0


def levin_spread(y, stack, area):
    """Same contract as ``colorizer.propagate.spread_residual``, by a sparse direct solve."""
    h, w = y.shape
    index = np.arange(h * w).reshape(h, w)
    first = np.r_[index[:, :-1].ravel(), index[:-1].ravel()]
    second = np.r_[index[:, 1:].ravel(), index[1:].ravel()]
    weight = np.exp(-(y.ravel()[first] - y.ravel()[second]) ** 2 / (2 * SIGMA**2))
    adjacency = sparse.coo_matrix((weight, (first, second)), shape=(h * w, h * w))
    adjacency = (adjacency + adjacency.T).tocsr()
    mask = np.minimum(stack[2].ravel() * area, 1.0)  # share of the cell under a stroke
    residual = stack[:2].reshape(2, -1) / np.maximum(stack[2].ravel(), 1e-12)
    system = sparse.diags(np.asarray(adjacency.sum(1)).ravel() + LAMBDA + BETA * mask) - adjacency
    solved = sparse_linalg.splu(system.tocsc()).solve(BETA * mask[:, None] * residual.T)
    return solved.T.reshape(2, h, w)


def time_spread(spread, size, repeat=3, seed=0):
    """Median seconds of one spread on a size x size grid of smooth gray with 10 3 x 3 strokes."""
    rng = np.random.default_rng(seed)
    y = np.kron(rng.random((8, 8)), np.ones((size // 8, size // 8))).astype(np.float32)
    stack = np.zeros((3, size, size))
    for top, left in rng.integers(0, size - 3, (10, 2)):
        stack[:, top : top + 3, left : left + 3] = np.array([0.1, -0.1, 1.0])[:, None, None]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        spread(y, stack, 1.0)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m train.propagation_compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="+", default=[str(DATA_DIR / "linnaeus5-128.tar.gz")])
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--size", type=int, default=256, help="grid side for the timing")
    args = parser.parse_args(argv)
    model = colorizer.load()
    images = load_sources(args.data, "test", 128).images
    images = images[np.random.default_rng(0).choice(len(images), min(args.limit, len(images)), replace=False)]
    library_spread = propagate.spread_residual
    for name, spread in (("domain transform (library)", library_spread), ("Levin et al. sparse solve", levin_spread)):
        propagate.spread_residual = spread  # the one pipeline, with the candidate's spread
        curve = stroke_curve(model, images, COUNTS)
        print(format_curve(name, curve))
        print(f"flood {100 * flood_check(model):.1f}% of the dab's chroma; {1000 * time_spread(spread, args.size):.0f} ms "
              f"on a {args.size}x{args.size} grid\n", flush=True)
    propagate.spread_residual = library_spread
    return 0


if __name__ == "__main__":
    sys.exit(main())
