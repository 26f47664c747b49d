"""Load test of a running app: many concurrent API clients, latency, throughput and server memory.

    python app.py &                                   # the server under test, on this machine
    python scripts/load_test.py [URL] --pid PID [--cache DIR] [--clients 50] [--requests 10] [--size 512]
    python scripts/load_test.py --profile [--size 512]  # where a request's server time goes, no server

``--clients`` ``gradio_client`` clients, each in its own thread, send ``--requests`` colorize
calls one after another to ``/colorize`` (or ``--api-name``; a ``--size`` square photo: the app's examples, resized).
It prints the request count, the failures (any error or an output of the wrong size) and among
them the rejections ("Queue is full"), latency percentiles and throughput, and, given the
server's ``--pid``, its resident memory (VmRSS, sampled every second) after warm-up (once every
client has had its first answer) and at the end; given ``--cache`` (the server's
``GRADIO_TEMP_DIR``), the number of files in Gradio's cache over time.
``--profile`` times, in this process, the stages of one ``/colorize`` request on the server:
decoding the upload, the network (``Colorizer.colorize``), the metrics and the PNG encoding of
the answer (at Gradio's default zlib level and at the app's level 1).
Only a server on 127.0.0.1 is accepted, and counts and total time are bounded, so it cannot be
pointed at someone else's Space or left running. Exit code 1 if any request failed.
"""

import argparse
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from gradio_client import Client, handle_file  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MAX_CLIENTS, MAX_REQUESTS = 200, 100  # per run: enough for a 2-core Space, not a flood


def rss_kib(pid):
    """The process's resident memory in KiB (VmRSS), or None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def file_count(folder):
    return sum(len(files) for _, _, files in os.walk(folder))


class MemorySampler(threading.Thread):
    """Samples a process's VmRSS every ``interval`` seconds into ``samples`` [(seconds, KiB)],
    and the file count of ``cache`` (if given) into ``files`` [(seconds, count)]."""

    def __init__(self, pid, interval=1.0, cache=None):
        super().__init__(daemon=True)
        self.pid, self.interval, self.cache = pid, interval, cache
        self.samples, self.files, self.stopped = [], [], threading.Event()
        self.start_time = time.monotonic()

    def run(self):
        while not self.stopped.is_set():
            now = time.monotonic() - self.start_time
            kib = rss_kib(self.pid) if self.pid else None
            if kib is not None:
                self.samples.append((now, kib))
            if self.cache:
                self.files.append((now, file_count(self.cache)))
            self.stopped.wait(self.interval)

    def now(self):
        """A fresh sample, taken at once (for the marks 'after warm-up' and 'end')."""
        return rss_kib(self.pid)


def test_images(folder, count, size):
    """``count`` different size x size PNGs made from the app's color photo examples."""
    photos = sorted((ROOT / "examples").glob("linnaeus5_*.png")) or sorted((ROOT / "examples").glob("*.png"))
    paths = []
    for i in range(count):
        path = Path(folder) / f"load_{i:03d}.png"
        image = Image.open(photos[i % len(photos)]).convert("RGB")
        # a different crop per client, so no two clients upload the same file
        shift = (i // len(photos)) % 8
        image.crop((shift, shift, image.width - shift, image.height - shift)).resize((size, size), Image.BICUBIC).save(path)
        paths.append(path)
    return paths


def profile(size, repeats=20):
    """Milliseconds per stage of one /colorize request of a size x size color photo, done here
    as the server does it (webapp.handlers.Handlers.colorize_api, then Gradio's PNG encoding)."""
    import io

    import numpy as np
    import torch

    sys.path.insert(0, str(ROOT))
    import colorizer
    from colorizer.images import is_gray
    from colorizer.metrics import psnr

    torch.set_num_threads(1)  # as app.py: one core per request
    with tempfile.TemporaryDirectory(prefix="load_profile_") as tmp:
        path = test_images(tmp, 1, size)[0]
        model = colorizer.load()
        image = colorizer.open_image(path)
        colorized = model.colorize(image)
        stages = {
            "decode (open_image)": lambda: colorizer.open_image(path),
            "gray and reference": lambda: (is_gray(image), image.convert("RGB"), colorizer.to_gray(image)),
            "network (colorize)": lambda: model.colorize(image),
            "metrics (2 x PSNR)": lambda: (psnr(np.asarray(colorized), np.asarray(image)),) * 2,
            "PNG encode, zlib 6 (Gradio's default)": lambda: colorized.save(io.BytesIO(), "PNG", compress_level=6),
            "PNG encode, zlib 1 (the app's)": lambda: colorized.save(io.BytesIO(), "PNG", compress_level=1),
        }
        for name, stage in stages.items():
            stage()
            start = time.perf_counter()
            for _ in range(repeats):
                stage()
            print(f"{name:40s} {(time.perf_counter() - start) / repeats * 1000:8.1f} ms")


def percentile(values, q):
    """The q-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:7860/")
    parser.add_argument("--pid", type=int, help="the server's process id, to sample its memory")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=10, help="requests per client")
    parser.add_argument("--size", type=int, default=512, help="side of the square test images")
    parser.add_argument("--api-name", default="/colorize", help="endpoint taking an image, returning the colorized image first")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds for the whole run; requests not done by then fail")
    parser.add_argument("--cache", help="the server's Gradio cache folder (GRADIO_TEMP_DIR), to count its files")
    parser.add_argument("--profile", action="store_true", help="time the server's stages of one request here; no server")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.size)
        return 0
    if urlparse(args.url).hostname != "127.0.0.1":
        parser.error("only a server on 127.0.0.1 may be load-tested")
    if not (1 <= args.clients <= MAX_CLIENTS and 1 <= args.requests <= MAX_REQUESTS):
        parser.error(f"--clients must be 1..{MAX_CLIENTS} and --requests 1..{MAX_REQUESTS}")

    sampler = MemorySampler(args.pid, cache=args.cache) if args.pid or args.cache else None
    if sampler:
        sampler.start()
    with tempfile.TemporaryDirectory(prefix="load_test_") as tmp:
        # gradio_client downloads each output through an empty folder it leaves in the temp dir:
        # make that this run's folder, removed at the end, not the system's.
        tempfile.tempdir = tmp
        images = test_images(tmp, args.clients, args.size)
        deadline = time.monotonic() + args.timeout
        latencies, errors = [], []
        lock = threading.Lock()
        warm = {"clients": 0}  # clients past their first request; then the RSS "after warm-up"

        def first_answer():
            """Count a client's first answer (or failure to connect): warm-up ends with the last."""
            with lock:
                warm["clients"] += 1
                if warm["clients"] == args.clients and sampler:
                    warm["rss"], warm["at"] = sampler.now(), time.monotonic() - sampler.start_time

        def client_run(index):
            try:
                # Downloads go to this run's temporary folder (gradio_client's default, /tmp/gradio, is kept).
                # httpx's default 5 s read timeout would fail uploads that wait for a busy server:
                # the run's own deadline bounds every request instead.
                client = Client(args.url, verbose=False, download_files=tmp, analytics_enabled=False,
                                httpx_kwargs={"timeout": args.timeout})
            except Exception as e:
                with lock:
                    errors.extend(f"client {index} request {n}: could not connect: {e}" for n in range(args.requests))
                first_answer()
                return
            for n in range(args.requests):
                start = time.perf_counter()
                try:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError("run deadline passed")
                    path, _info = client.submit(handle_file(str(images[index])), api_name=args.api_name).result(timeout=remaining)
                    with Image.open(path) as out:
                        if out.size != (args.size, args.size):
                            raise ValueError(f"output is {out.size}, expected {args.size}x{args.size}")
                    Path(path).unlink()  # keep the download folder small during long runs
                    with lock:
                        latencies.append(time.perf_counter() - start)
                except Exception as e:  # every failure is counted and reported, none stops the run
                    with lock:
                        errors.append(f"client {index} request {n}: {type(e).__name__}: {e}")
                if n == 0:
                    first_answer()

        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            for future in [pool.submit(client_run, i) for i in range(args.clients)]:
                future.result()
        wall = time.perf_counter() - started
    tempfile.tempdir = None  # back to the system's
    end_rss = sampler.now() if sampler else None
    if sampler:
        sampler.stopped.set()
        sampler.join()

    total = args.clients * args.requests
    print(f"server: {args.url} {args.api_name}   clients: {args.clients} x {args.requests} requests"
          f" of {args.size}x{args.size} px")
    rejected = sum("Queue is full" in line for line in errors)
    print(f"requests: {total}   succeeded: {len(latencies)}   failures: {len(errors)} (of which rejected, queue full: {rejected})")
    for line in errors[:10]:
        print(f"  {line}")
    if latencies:
        print(f"latency s: p50 {percentile(latencies, 50):.2f}   p95 {percentile(latencies, 95):.2f}   "
              f"max {max(latencies):.2f}   mean {statistics.fmean(latencies):.2f}")
    print(f"wall time: {wall:.1f} s   throughput: {len(latencies) / wall:.2f} requests/s")
    if sampler and sampler.samples:
        mib = [kib / 1024 for _, kib in sampler.samples]
        step = max(1, len(sampler.samples) // 20)  # about 20 points over the run
        print("server RSS MiB over time: " + "  ".join(f"{t:.0f}s:{kib / 1024:.0f}" for t, kib in sampler.samples[::step]))
        print(f"server RSS MiB: start {mib[0]:.0f}   peak {max(mib):.0f}", end="")
        if warm.get("rss") and end_rss:
            print(f"   after warm-up ({warm['at']:.0f} s) {warm['rss'] / 1024:.0f}   end {end_rss / 1024:.0f}   "
                  f"growth after warm-up {(end_rss - warm['rss']) / 1024:+.0f}")
        else:
            print()
    if sampler and sampler.files:
        step = max(1, len(sampler.files) // 20)
        print("Gradio cache files over time: " + "  ".join(f"{t:.0f}s:{n}" for t, n in sampler.files[::step])
              + f"   end: {sampler.files[-1][1]}   max: {max(n for _, n in sampler.files)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
