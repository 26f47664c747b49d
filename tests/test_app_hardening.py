"""The app against hostile requests (issue 19's table, rows 1-5, 7 and 12), served in-process on
127.0.0.1 with its own Gradio cache folder (as in test_app_hygiene.py): images are decoded only
by the guarded loader, limits are checked before any work, user errors are one log line, the
cache is emptied at shutdown, and the server keeps serving. Row 6 is scripts/load_test.py."""

import asyncio
import http.client
import importlib.util
import json
import logging
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402
import httpx  # noqa: E402
from gradio.components.image_editor import AcceptBlobs, EditorData  # noqa: E402
from gradio.data_classes import FileData  # noqa: E402

import colorizer  # noqa: E402
from tests.test_app import free_port  # noqa: E402
from tests.test_app_hygiene import files_under, raw_call  # noqa: E402
from tests.test_bad_inputs import write_png_bomb  # noqa: E402
from webapp import guard  # noqa: E402
from webapp.bank import ModelBank  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "examples" / "linnaeus5_bird_88.png"
CONFIG = {"normalization": {"gray_mean": 120.0, "gray_std": 60.0, "scheme": "standard"},
          "inference": {"working_size": 64}, "epochs": 1}
pytestmark = [  # Gradio's queue on pandas 3
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting':DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
]


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """seed_cnn (the default) and a hint network, both random."""
    root = tmp_path_factory.mktemp("hardening_weights")
    torch.manual_seed(0)
    colorizer.save_weights(root / "seed_cnn", colorizer.create_model("seed_cnn"),
                           {**CONFIG, "architecture": {"name": "seed_cnn", "kwargs": {}}, "metrics": {"val_psnr": 22.0}})
    colorizer.save_weights(root / "hints", colorizer.create_model("chroma_unet_hints"),
                           {**CONFIG, "architecture": {"name": "chroma_unet_hints", "kwargs": {}}, "metrics": {"val_psnr": 21.0}})
    return root


def serve(root, weights, name):
    """A fresh app module from app.py, its cache under ``root``, served on a free port."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADIO_TEMP_DIR", str(root / "gradio_cache"))
        patch.setenv("COLORIZER_WEIGHTS", str(weights))
        patch.delenv("COLORIZER_HUB_REPO", raising=False)
        spec = importlib.util.spec_from_file_location(name, ROOT / "app.py")
        app = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(app)
    port = free_port()
    app.demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True, **app.LAUNCH_OPTIONS)
    return SimpleNamespace(app=app, url=f"http://127.0.0.1:{port}/", port=port, cache=root / "gradio_cache")


@pytest.fixture(scope="module")
def served(tmp_path_factory, weights):
    server = serve(tmp_path_factory.mktemp("hardening"), weights, "app_under_hardening_test")
    try:
        yield server
    finally:
        server.app.demo.close()


def upload(served, path):
    """The server-side path of ``path`` uploaded to the Gradio cache."""
    with open(path, "rb") as f:
        response = httpx.post(f"{served.url}gradio_api/upload", files={"files": (Path(path).name, f, "image/png")}, timeout=60)
    response.raise_for_status()
    return response.json()[0]


def file_data(path):
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


def served_ok(served):
    """The server still colorizes a good image."""
    event, _ = raw_call(served.url, "colorize", [file_data(upload(served, PHOTO)), None])
    return event == "complete"


@pytest.fixture
def no_decoding(monkeypatch):
    """Any PIL decode in this process (the server runs in it) fails the request loudly."""

    def refuse(self):
        raise AssertionError("decoded an image the size check should have refused")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


# --- row 1: every image through the guarded loader ---


def test_sketch_bomb_is_refused_from_its_header(served, tmp_path, no_decoding):
    bomb = tmp_path / "bomb.png"
    write_png_bomb(bomb, 13000, 13000)
    path = upload(served, bomb)
    sketch = {"background": None, "layers": [file_data(path)], "composite": file_data(path), "id": None}
    event, data = raw_call(served.url, "colorize_sketch", [sketch, None])
    assert event == "error" and "too large" in data and "13000x13000" in data


def test_sketch_larger_than_a_canvas_is_refused(served, tmp_path):
    big = tmp_path / "big.png"
    Image.new("L", (2000, 2000), 90).save(big)  # a fine photo, but no canvas of this app is so big
    sketch = {"background": None, "layers": [], "composite": file_data(upload(served, big)), "id": None}
    event, data = raw_call(served.url, "colorize_sketch", [sketch, None])
    assert event == "error" and f"the limit is {guard.EDITOR_MAX_PIXELS:,}" in data
    assert served_ok(served)


def test_sketch_through_the_api_still_works(served, tmp_path):
    drawing = tmp_path / "drawing.png"
    canvas = np.zeros((96, 96, 4), np.uint8)
    canvas[30:60, 20:70] = (60, 60, 60, 255)
    Image.fromarray(canvas, "RGBA").save(drawing)
    sketch = {"background": None, "layers": [], "composite": file_data(upload(served, drawing)), "id": None}
    event, _ = raw_call(served.url, "colorize_sketch", [sketch, None])
    assert event == "complete"


def test_editor_preprocess_hands_over_raw_files_and_blobs():
    editor = guard.raw_editor(gr.ImageEditor(type="numpy", image_mode="RGBA"))
    payload = EditorData(background=FileData(path="/cache/a/bg.png"), layers=[FileData(path="/cache/b/l.png")],
                         composite=FileData(path="/cache/c/c.png"))
    assert editor.preprocess(payload) == {"background": "/cache/a/bg.png", "layers": ["/cache/b/l.png"],
                                          "composite": "/cache/c/c.png"}
    editor.accept_blobs(AcceptBlobs(data={"id": "x", "type": "layer", "index": "1", "file": b"png"}, files=[("layer_1.png", b"png")]))
    assert editor.preprocess(EditorData(id="x")) == {"background": None, "layers": [b"png"], "composite": None}
    assert editor.blob_storage == {}  # collected
    with pytest.raises(gr.Error, match="layer index"):  # Gradio's own would grow a list of 10**9 entries
        editor.accept_blobs(AcceptBlobs(data={"id": "y", "type": "layer", "index": str(10**9), "file": b"png"}, files=[("l.png", b"png")]))
    with pytest.raises(gr.Error, match="too many layers"):
        editor.preprocess(EditorData(layers=[FileData(path="/l.png")] * (guard.MAX_EDITOR_LAYERS + 1)))


def test_hint_editor_layers_go_through_the_loader(served, tmp_path, no_decoding):
    bomb = tmp_path / "bomb.png"
    write_png_bomb(bomb, 13000, 13000)
    source = Image.new("L", (32, 32), 128)
    with pytest.raises(gr.Error, match="too large"):
        served.app.hint_handlers.colorize_with_hints({"layers": [str(bomb)]}, source, None)


# --- rows 2, 3, 4: hints and sizes through the API ---


@pytest.mark.parametrize("hints, expected", [
    ("[[10, 10, [NaN, 0, 0]]]", "NaN"),
    ("[[NaN, NaN, [255, 0, 0]]]", "NaN"),
    ("[[1, 1, [1, 2, 3, 4, 5, 6]]]", "[x, y, [r, g, b]]"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    (json.dumps([[1, 1, [255, 0, 0]]] * (colorizer.MAX_HINTS + 1)), "too many hints"),
    ("[" + ", ".join(["[1, 1, [255, 0, 0]]"] * 100_000) + "]", "too long"),
], ids=["nan_color", "nan_position", "six_values", "deep", "too_many", "too_long"])
def test_bad_hints_get_one_clear_error(served, hints, expected):
    event, data = raw_call(served.url, "colorize_hints", [file_data(upload(served, PHOTO)), hints, None])
    assert event == "error" and expected in data, data[:300]


def test_oversized_body_is_refused_unread(served):
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    try:
        connection.putrequest("POST", "/gradio_api/call/colorize")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(80 * 2**20))  # an 80 MB body, never sent
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413 and b"too large" in response.read()
    finally:
        connection.close()
    assert served_ok(served)


def test_chunked_body_is_counted():
    """A body without Content-Length is counted as it arrives and refused at the limit."""
    sent, read = [], []

    async def app(scope, receive, send):
        while (message := await receive())["more_body"]:
            read.append(message)
        raise AssertionError("read past the limit")

    async def receive():
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    async def send(message):
        sent.append(message)

    asyncio.run(guard.BodyLimit(app, max_bytes=10_000)({"type": "http", "headers": []}, receive, send))
    assert sent[0]["status"] == 413 and len(read) == 10  # 10 x 1000 bytes fit, the 11th chunk is refused


def test_data_url_over_the_upload_limit_is_not_decoded(monkeypatch):
    decoded = []
    monkeypatch.setattr(guard.base64, "b64decode", lambda *a, **k: decoded.append(1))
    big = SimpleNamespace(url="data:image/png;base64," + "A" * ((guard.MAX_UPLOAD_BYTES + 2) // 3 * 4 + 4), path=None)
    with pytest.raises(gr.Error, match="too large"):
        guard.raw_source(big)
    assert decoded == []


# --- row 12: one log line per user error, tracebacks for real ones ---


def test_user_errors_are_one_log_line(served, tmp_path, caplog, capfd):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"this is not an image")
    capfd.readouterr()
    with caplog.at_level(logging.WARNING, logger="webapp"):
        event, data = raw_call(served.url, "colorize", [file_data(upload(served, bad)), None])
    assert event == "error" and "not an image" in data
    lines = [r.getMessage() for r in caplog.records if r.name == "webapp"]
    assert len(lines) == 1 and lines[0].startswith("user error: bad.png: not an image file")
    assert "Traceback" not in capfd.readouterr().err


def test_real_exceptions_keep_their_traceback(served, capfd, monkeypatch):
    def broken(name=None):
        raise RuntimeError("a bug")

    monkeypatch.setattr(served.app.bank, "get", broken)
    capfd.readouterr()
    event, _ = raw_call(served.url, "colorize", [file_data(upload(served, PHOTO)), None])
    assert event == "error"
    err = capfd.readouterr().err
    assert "Traceback" in err and "RuntimeError: a bug" in err


# --- row 7: a default model that does not load ---


def test_model_bank_skips_a_default_that_does_not_load(weights, tmp_path, caplog):
    shutil.copytree(weights / "seed_cnn", tmp_path / "broken")
    config = json.loads((tmp_path / "broken" / "config.json").read_text())
    (tmp_path / "broken" / "config.json").write_text(json.dumps({**config, "default": True}))
    (tmp_path / "broken" / "model.safetensors").write_bytes(b"\0" * 64)
    with caplog.at_level(logging.WARNING, logger="webapp"):
        bank = ModelBank({"broken": tmp_path / "broken", "seed_cnn": weights / "seed_cnn"})
    assert bank.default == "seed_cnn" and list(bank.folders) == ["seed_cnn"]
    assert "skipping model broken" in caplog.text


# --- row 5: the cache ---


def test_cache_is_bounded_and_emptied_at_shutdown(tmp_path, weights):
    server = serve(tmp_path, weights, "app_under_cache_test")
    try:
        assert server.app.demo.delete_cache == (60, 600)  # files older than 10 min go, every minute
        for seed in range(3):  # distinct requests: each leaves its upload and its output
            path = tmp_path / f"noise{seed}.png"
            Image.fromarray(np.random.default_rng(seed).integers(0, 256, (40, 60), dtype=np.uint8)).save(path)
            event, _ = raw_call(server.url, "colorize", [file_data(upload(server, path)), None])
            assert event == "complete"
        assert len(files_under(server.cache)) >= 6
    finally:
        server.app.demo.close()
    assert files_under(server.cache) == set()


def test_outputs_are_saved_at_png_level_1(served):
    """Row 6's server time: the images Gradio writes use zlib level 1 (webapp.widgets.fast_png)."""
    event, data = raw_call(served.url, "colorize", [file_data(upload(served, PHOTO)), None])
    assert event == "complete"
    png = Path(json.loads(data)[0]["path"]).read_bytes()
    zlib_header = png[png.index(b"IDAT") + 4:][:2]
    assert zlib_header[0] == 0x78 and zlib_header[1] >> 6 == 0  # FLEVEL 0: the fastest levels


def test_memory_limits_are_set(served):
    """Peak memory under 1 GB per request (measured in the report of issue 19): the app's pixel
    limit, and a quarter of it for Compare, which holds every model's result."""
    assert os.environ["COLORIZER_MAX_PIXELS"] == str(2048 * 2048)
    with pytest.raises(gr.Error, match="too large"):
        served.app.handlers.compare_models(np.zeros((1025, 1024), np.uint8))
