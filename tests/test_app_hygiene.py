"""App hygiene: serving requests leaves no files behind outside Gradio's own cache, and the HTTP
API hands out none of the server's files (sources, weights, system files), whatever the path, its
encoding or the endpoint it is passed to.

The app runs in-process from the repository (as on a Space) with ``GRADIO_TEMP_DIR`` set to a
temporary folder. It is loaded from ``app.py`` as a module object of its own: ``app`` itself is
shared (and reloaded) by test_app.py, test_hub.py and test_app_browser.py, and Gradio fixes its
cache folder when the Blocks are built, so a fresh build is needed here.
"""

import http.client
import importlib.util
import os
import re
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import httpx  # noqa: E402
from gradio_client import Client, handle_file  # noqa: E402

from tests.test_app import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "examples" / "linnaeus5_bird_88.png"
# Folders that change while the tests run for reasons of their own: git, the background
# training jobs' runs/, bytecode written by whoever imports a module.
NOISE = {".git", "runs", "__pycache__", ".pytest_cache"}
pytestmark = [  # Gradio's queue on pandas 3
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting':DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory, seed_weights):
    """The app, built with its own Gradio cache folder and served on a free port."""
    root = tmp_path_factory.mktemp("hygiene")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADIO_TEMP_DIR", str(root / "gradio_cache"))
        patch.setenv("COLORIZER_WEIGHTS", str(seed_weights.parent))
        patch.chdir(ROOT)  # a Space runs the app from the repository: the file route must not serve it
        spec = importlib.util.spec_from_file_location("app_under_hygiene_test", ROOT / "app.py")
        app = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(app)
        port = free_port()
        app.demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True, **app.LAUNCH_OPTIONS)
        try:
            yield SimpleNamespace(url=f"http://127.0.0.1:{port}/", port=port, cache=root / "gradio_cache",
                                  weights=seed_weights, outside=root / "outside")
        finally:
            app.demo.close()


@pytest.fixture(scope="module")
def client(served):
    # download_files=False: the client's own downloads would leave folders in the temp dir.
    return Client(served.url, verbose=False, download_files=False, analytics_enabled=False)


def files_under(folder, skip=()):
    """Relative paths of every file under ``folder``, not descending into folders named in ``skip``."""
    found = set()
    for parent, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in skip]
        found.update(str(Path(parent, f).relative_to(folder)) for f in files)
    return found


def colorize(client, path):
    """The /colorize endpoint's colorized output: the server-side path in the Gradio cache."""
    output, _info = client.predict(handle_file(str(path)), api_name="/colorize")
    return Path(output["path"])


def raw_get(port, path):
    """(status, body) of a GET of exactly ``path``: http.client neither decodes nor normalizes it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def raw_call(url, api, data):
    """The last (event, data) of a raw-HTTP call of an API endpoint."""
    started = httpx.post(f"{url}gradio_api/call/{api}", json={"data": data}, timeout=30)
    started.raise_for_status()
    stream = httpx.get(f"{url}gradio_api/call/{api}/{started.json()['event_id']}", timeout=60)
    return re.findall(r"^event: (\w+)\ndata: (.*)$", stream.text, re.M)[-1]


def test_requests_leave_no_files_behind_outside_the_gradio_cache(served, client, tmp_path, monkeypatch):
    # The process's temp dir becomes a folder only this test writes to: whatever the app makes
    # with tempfile shows up there, and other processes on the machine cannot disturb the count.
    system_tmp = tmp_path / "system_tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    gray = tmp_path / "inputs" / "gray.jpg"
    gray.parent.mkdir()
    Image.open(PHOTO).convert("L").resize((300, 200)).save(gray)
    noise = tmp_path / "inputs" / "noise.webp"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 96, 3), dtype=np.uint8)).save(noise)
    bad = tmp_path / "inputs" / "bad.png"
    bad.write_bytes(b"this is not an image")
    repo_before, tmp_before = files_under(ROOT, NOISE), files_under(system_tmp)

    outputs = [colorize(client, path) for path in (PHOTO, gray, noise, PHOTO)]
    with pytest.raises(Exception, match="not an image"):
        colorize(client, bad)

    assert files_under(ROOT, NOISE) - repo_before == set()
    assert files_under(system_tmp) - tmp_before == set()
    assert all(path.is_relative_to(served.cache) and path.is_file() for path in outputs)


def test_the_file_route_serves_no_server_files(served, client):
    colorized = colorize(client, PHOTO)
    status, body = raw_get(served.port, f"/gradio_api/file={colorized}")
    assert status == 200 and body.startswith(b"\x89PNG")  # the route itself works: refusals below are real
    weights = served.weights
    secrets = {Path("/etc/passwd"): b"root:", ROOT / "app.py": (ROOT / "app.py").read_bytes()[:200],
               weights / "config.json": (weights / "config.json").read_bytes()[:100],
               weights / "model.safetensors": (weights / "model.safetensors").read_bytes()[:100]}
    up = len(colorized.parts)  # enough "..": from inside the cache (or the examples) back to /
    tries = []
    for target in secrets:
        rel = str(target).lstrip("/")
        tries += [f"/gradio_api/file={target}", f"/gradio_api/file={str(target).replace('/', '%2F')}",
                  f"/gradio_api/file={colorized.parent}/{'../' * up}{rel}",
                  f"/gradio_api/file={colorized.parent}/{'..%2F' * up}{rel}",
                  f"/gradio_api/file={ROOT}/examples/{'..%2F' * up}{rel}",
                  f"/gradio_api/file={ROOT}/examples/{'..%252F' * up}{rel}",
                  f"/gradio_api/file={ROOT}/examples/{'%2e%2e/' * up}{rel}",
                  f"/file={target}", f"/static/{'..%2F' * up}{rel}", f"/assets/{'..%2F' * up}{rel}"]
    tries += ["/gradio_api/file=app.py", "/gradio_api/file=examples/../app.py", "/gradio_api/file=weights/../app.py"]
    for path in tries:
        status, body = raw_get(served.port, path)
        assert 400 <= status < 500, f"GET {path} answered {status}"
        assert not any(secret in body for secret in secrets.values()), f"GET {path} leaked a file"


def test_the_colorize_endpoint_reads_no_server_side_paths(served):
    served.outside.mkdir(exist_ok=True)
    image = served.outside / "private.png"  # a perfectly good image, just not one the user sent
    Image.open(PHOTO).save(image)
    upload = httpx.post(f"{served.url}gradio_api/upload", files={"files": (image.name, image.read_bytes(), "image/png")}, timeout=30)
    uploaded = upload.json()[0]
    event, _ = raw_call(served.url, "colorize", [{"path": uploaded, "meta": {"_type": "gradio.FileData"}}, None])
    assert event == "complete"  # the same image, uploaded, goes through: the refusals below are about the path
    for target in (image, Path("/etc/passwd"), ROOT / "app.py", served.weights / "model.safetensors",
                   Path(uploaded).parent / ".." / ".." / "outside" / image.name):  # out of the cache by ".."
        for value in ({"path": str(target), "meta": {"_type": "gradio.FileData"}}, str(target),
                      {"path": None, "url": f"file://{target}", "meta": {"_type": "gradio.FileData"}}):
            event, data = raw_call(served.url, "colorize", [value, None])
            assert event == "error", f"colorize accepted {value!r}: {data[:200]}"
