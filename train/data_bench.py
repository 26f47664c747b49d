"""Time loading the data sources cold (decoding into an empty cache) and warm (from the cache).

``python -m train.data_bench [--data PATH ...] [--size N] [--cache-dir DIR]``

Without ``--cache-dir`` the cold pass uses a fresh temporary cache, removed afterwards. Targets for the
three shared archives, both splits, on a 2-core machine: under 30 s cold and under 2 s warm.
"""

import argparse
import tempfile
import time
from pathlib import Path

from .data import DATA_DIR, SPLITS, load_sources

DEFAULT_DATA = [DATA_DIR / name for name in ("cifar10-images.tar.gz", "linnaeus5-32.tar.gz", "linnaeus5-128.tar.gz")]
COLD_TARGET_S, WARM_TARGET_S = 30.0, 2.0


def load_all(paths, size, cache_dir) -> tuple[float, list[tuple[str, str, int, tuple]]]:
    """(seconds, [(source, split, images, image shape), ...]) for loading every source and split."""
    rows, start = [], time.perf_counter()
    for path in paths:
        for split in SPLITS:
            image_set = load_sources([path], split, size, cache_dir=cache_dir)
            rows.append((image_set.sources[0], split, len(image_set), image_set.images.shape[1:]))
    return time.perf_counter() - start, rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.data_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="+", default=[str(p) for p in DEFAULT_DATA], help="sources to load")
    parser.add_argument("--size", type=int, default=32, help="square image size (0 = native)")
    parser.add_argument("--cache-dir", default=None, help="cache folder (default: a fresh temporary one)")
    args = parser.parse_args(argv)
    size = args.size or None

    with tempfile.TemporaryDirectory(prefix="colorizer-cache-") as tmp:
        cache_dir = Path(args.cache_dir) if args.cache_dir else Path(tmp)
        cold, rows = load_all(args.data, size, cache_dir)
        warm, _ = load_all(args.data, size, cache_dir)

    print(f"{'source':<24} {'split':<6} {'images':>7}  shape")
    for source, split, count, shape in rows:
        print(f"{source:<24} {split:<6} {count:>7}  {'x'.join(map(str, shape))}")
    print(f"total {sum(r[2] for r in rows)} images")
    print(f"cold {cold:6.2f} s (target < {COLD_TARGET_S:.0f} s) {'ok' if cold < COLD_TARGET_S else 'SLOW'}"
          + ("  [--cache-dir given: may have been warm already]" if args.cache_dir else ""))
    print(f"warm {warm:6.2f} s (target < {WARM_TARGET_S:.0f} s) {'ok' if warm < WARM_TARGET_S else 'SLOW'}")
    return 0 if cold < COLD_TARGET_S and warm < WARM_TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
