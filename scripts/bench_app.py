"""Benchmark the web app: its start time and the API round trip of a 512x512 upload.

    python scripts/bench_app.py [--runs 20] [--size 512] [--model NAME] [--image PATH]

Starts ``python app.py`` on a free port (offline, the shipped weights or ``$COLORIZER_WEIGHTS``),
measures the seconds until it answers HTTP, then times ``gradio_client`` calls of the
``/colorize`` endpoint (upload, colorize, download of the PNG) and prints the median.
The test image is a photo-like example (a Linnaeus 5 test image) resized to the size asked.
"""

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url, process, timeout=60.0):
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"app did not answer within {timeout} s")


@contextlib.contextmanager
def serve_app():
    """Start ``python app.py`` on a free loopback port (offline unless ``$HF_HUB_OFFLINE`` says
    otherwise); yields (url, seconds from launch to the first HTTP 200); stops it on the way out."""
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    url = f"http://127.0.0.1:{port}/"
    start = time.perf_counter()
    # Its output goes nowhere: a pipe nobody reads could fill up and stall the server.
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(url, process)
        yield url, time.perf_counter() - start
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_image(path, size):
    from PIL import Image

    if path is None:
        examples = sorted((ROOT / "examples").glob("linnaeus5_*.png")) or sorted((ROOT / "examples").glob("*.png"))
        path = examples[0]
    out = Path(tempfile.mkdtemp(prefix="bench_app_")) / f"bench_{size}.png"
    Image.open(path).convert("RGB").resize((size, size), Image.BICUBIC).save(out)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--model", default=None, help="model name (default: the app's default)")
    parser.add_argument("--image", default=None, help="image to resize and upload (default: an example)")
    args = parser.parse_args(argv)

    with serve_app() as (url, started):
        print(f"app start (process launch to first HTTP 200): {started:.2f} s")

        os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
        from gradio_client import Client, handle_file

        client = Client(url, verbose=False)
        image = test_image(args.image, args.size)
        kwargs = {"model_name": args.model} if args.model else {}
        _, info = client.predict(handle_file(str(image)), api_name="/colorize", **kwargs)  # warm-up
        times, inside = [], []
        for _ in range(args.runs):
            tick = time.perf_counter()
            output, info = client.predict(handle_file(str(image)), api_name="/colorize", **kwargs)
            times.append(time.perf_counter() - tick)
            inside.append(info["seconds"])
        median = statistics.median(times)
        print(f"model {info['model']}, {args.size}x{args.size} upload, {args.runs} runs:")
        print(f"  API round trip median {median * 1000:.0f} ms (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})"
              f"{'  [target < 300 ms: met]' if median < 0.3 else '  [target < 300 ms: MISSED]'}")
        print(f"  of which colorizing (server side) median {statistics.median(inside) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
