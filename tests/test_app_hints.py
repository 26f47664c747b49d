"""The Hints tab and the ``/colorize_hints`` endpoint: handlers called directly, the endpoint
through gradio_client, and a real browser (Debian's Chromium via Playwright) painting strokes,
clearing them and painting again.

The hint model is a ``chroma_unet_hints`` whose weights make its chroma output the hint chroma,
spread a little (see :func:`passthrough_hint_net`): an untrained network whose answer is known,
so the effect of a stroke is testable. The selected (default) model is a gray-only ``seed_cnn``,
so every hinted call also checks the routing to the hint model. Served from a second, fresh
import of ``app.py`` (the shared ``app`` of test_app.py has no hint model and stays as it is).
"""

import importlib.util
import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import gradio as gr

import colorizer
from webapp.hints import editor_value, hint_image

try:  # tests/ as a package or as a plain folder on sys.path
    from .test_app import COLOR_EXAMPLE, ROOT, app, fake_weights, free_port, make_weights  # noqa: F401  (fixtures)
    from .test_app_browser import CHROMIUM, TIMEOUT_MS, browser, shot, shown_image  # noqa: F401  (fixtures)
except ImportError:
    from test_app import COLOR_EXAMPLE, ROOT, app, fake_weights, free_port, make_weights  # noqa: F401  (fixtures)
    from test_app_browser import CHROMIUM, TIMEOUT_MS, browser, shot, shown_image  # noqa: F401  (fixtures)

RED, BLUE = (214, 40, 40), (58, 134, 255)  # palette colors #d62828 and #3a86ff
# The editor shows an image: its zoom differs from that of the empty editor (strokes made before
# the image is in are lost).
EDITOR_READY = """([empty_zoom]) => {
    const zoom = document.querySelector('#hints-editor.has-image .zoom-number');
    return zoom !== null && zoom.innerText !== empty_zoom;
}"""

pytestmark = [  # Gradio's queue on pandas 3
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting':DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
]


def passthrough_hint_net():
    """A ``chroma_unet_hints`` that outputs its hint Cb, Cr, spread over 3 x 3 (filling the
    blocks that ``colorizer.hints`` thins strokes to) and then 3 x 3 box-filtered.

    All weights zero (so every BatchNorm path gives 0) except: the stem splits hint Cb and Cr
    into positive and negative parts (ReLU keeps each), the last decoder conv passes those four
    on, and the head recombines them into Cb and Cr."""
    net = colorizer.create_model("chroma_unet_hints")
    stem, dec0, head = net.stem[0], net.dec0[0], net.head
    skip = dec0.in_channels - stem.out_channels  # dec0 reads [upsampled decoder, stem output]
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.zero_()
        for i, (channel, sign) in enumerate([(1, 1.0), (1, -1.0), (2, 1.0), (2, -1.0)]):  # hint Cb, Cr
            stem.weight[i, channel] = sign
            dec0.weight[i, skip + i] = 1 / 9
            head.weight[i // 2, i, 0, 0] = 1.0 if sign > 0 else -1.0
    return net


SEED_TITLE, HINT_TITLE = "The original project's network", "Paints where you point"  # long: the legend must wrap


@pytest.fixture(scope="module")
def hint_weights(tmp_path_factory):
    """Weights folder: ``seed_cnn`` (gray only, the best, so the default) and ``chroma_hints``, each
    with a card title (what people see instead of the id) and a training history."""
    root = tmp_path_factory.mktemp("hint_weights")
    make_weights(root / "seed_cnn", "seed_cnn", psnr=22.0)
    colorizer.save_weights(root / "chroma_hints", passthrough_hint_net(), {
        "architecture": {"name": "chroma_unet_hints", "kwargs": {}},
        "normalization": {"gray_mean": 120.0, "gray_std": 60.0, "scheme": "standard"},
        "inference": {"working_size": 64}, "epochs": 1, "metrics": {"val_psnr": 21.0}})
    (root / "chroma_hints" / "history.json").write_text(json.dumps({"epochs": [{"epoch": 1, "val_psnr": 21.0}]}))
    for name, title in (("seed_cnn", SEED_TITLE), ("chroma_hints", HINT_TITLE)):
        (root / name / "README.md").write_text(f"---\nlicense: mit\ntitle: {title}\n---\n\n# {name}\n")
    return root


@pytest.fixture(scope="module")
def hint_app(hint_weights):
    """A fresh module from app.py on the hint weights (not ``sys.modules["app"]``)."""
    spec = importlib.util.spec_from_file_location("app_with_hint_model", ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLORIZER_WEIGHTS", str(hint_weights))
        patch.delenv("COLORIZER_HUB_REPO", raising=False)
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def hint_url(hint_app):
    port = free_port()
    hint_app.demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                         **hint_app.LAUNCH_OPTIONS)
    yield f"http://127.0.0.1:{port}/"
    hint_app.demo.close()


def red_minus_green(image, columns):
    rgb = np.asarray(image.convert("RGB"), dtype=np.float64)[:, columns]
    return (rgb[..., 0] - rgb[..., 1]).mean()


def test_red_stroke_on_the_left_half_turns_it_red_and_keeps_the_luminance(hint_app):
    handlers = hint_app.hint_handlers
    source = Image.open(COLOR_EXAMPLE).convert("RGB")  # 128 x 128
    kept, gray, automatic, hinted, original, notes = handlers.load_image(str(COLOR_EXAMPLE), None)
    editor = editor_value(kept)
    assert editor["background"].size == (384, 384) and editor["layers"] == []  # shown 3x, sharp
    assert np.array_equal(np.asarray(editor["background"])[::3, ::3], np.asarray(colorizer.to_gray(source)))
    assert kept.size == gray.size == automatic.size == (128, 128) and hinted is None
    assert original["visible"] and f"**{HINT_TITLE}**" in notes and f"{SEED_TITLE} takes no hints" in notes
    assert "chroma_hints" not in notes and "seed_cnn" not in notes  # plain names, not ids

    stroke = np.zeros((384, 384, 4), np.uint8)
    stroke[60:320, 30:150] = (*RED, 255)  # left half only (display pixels)
    gray, automatic, hinted, original, notes = handlers.colorize_with_hints({**editor, "layers": [stroke]}, kept, None)
    assert hinted.size == (128, 128) and "hinted pixels" in notes and "with hints" in notes  # PSNR table
    assert notes.startswith(f"**{HINT_TITLE}**")
    left, right = slice(0, 64), slice(64, 128)
    assert red_minus_green(hinted, left) > red_minus_green(automatic, left) + 20
    assert abs(red_minus_green(hinted, right) - red_minus_green(automatic, right)) < 3
    assert np.abs(np.asarray(colorizer.to_gray(hinted), int) - np.asarray(gray, int)).max() <= 1


def test_strokes_map_onto_the_image_at_any_resolution(hint_app):
    small = np.zeros((384, 384, 4), np.uint8)  # a 32 x 32 image is shown 12x
    small[:12, 12:24] = (0, 0, 255, 255)  # exactly source pixel (row 0, column 1)
    small[100:200, 100:200] = (255, 0, 0, 20)  # too faint to be a hint
    hints = np.asarray(hint_image({"layers": [small]}, (32, 32)))
    assert hints.shape == (32, 32, 4) and np.argwhere(hints[..., 3]).tolist() == [[0, 1]]
    assert tuple(hints[0, 1]) == (0, 0, 255, 255)
    assert hint_image({"layers": [np.zeros((384, 384, 4), np.uint8)]}, (32, 32)) is None

    big = Image.new("L", (1500, 1000), 128)  # shown at 768 x 512; hinted at full size
    kept = hint_app.hint_handlers.load_image(big, None)[0]
    editor = editor_value(kept)
    assert editor["background"].size == (768, 512)
    stroke = np.zeros((512, 768, 4), np.uint8)
    stroke[200:300, 100:300] = (*RED, 255)
    gray, automatic, hinted, _, _ = hint_app.hint_handlers.colorize_with_hints({**editor, "layers": [stroke]}, kept, "chroma_hints")
    assert hinted.size == (1500, 1000) and red_minus_green(hinted, slice(200, 580)) > 20


def test_hints_tab_errors_are_clear(hint_app, app):
    handlers = hint_app.hint_handlers
    with pytest.raises(gr.Error, match="Upload an image"):
        handlers.colorize_with_hints({"background": None, "layers": [], "composite": None}, None, None)
    assert handlers.load_image(None, None) == (gr.skip(),) * 6 and editor_value(None) is None
    kept = handlers.load_image(str(COLOR_EXAMPLE), None)[0]
    editor = editor_value(kept)
    with pytest.raises(gr.Error, match="Paint some color"):
        handlers.colorize_with_hints(editor, kept, None)
    # the shared app has no hint model: the tab says so, automatic results still show, hints are refused
    assert "No installed model takes color hints" in app.hint_handlers.notice()
    kept, gray, automatic, *_, notes = app.hint_handlers.load_image(str(COLOR_EXAMPLE), None)
    editor = editor_value(kept)
    assert automatic.size == gray.size and "No installed model takes color hints" in notes
    stroke = np.full((384, 384, 4), 255, np.uint8)
    with pytest.raises(gr.Error, match="No installed model takes color hints"):
        app.hint_handlers.colorize_with_hints({**editor, "layers": [stroke]}, kept, None)


def test_api_colorize_hints(hint_url):
    from gradio_client import Client, handle_file

    client = Client(hint_url, verbose=False)
    red_points = json.dumps([[x, y, list(RED)] for x in range(2, 60, 4) for y in range(2, 126, 4)])
    hinted = Image.open(client.predict(handle_file(str(COLOR_EXAMPLE)), red_points, api_name="/colorize_hints"))
    plain = Image.open(client.predict(handle_file(str(COLOR_EXAMPLE)), "[]", api_name="/colorize_hints"))
    assert hinted.format == "PNG" and hinted.size == plain.size == (128, 128)
    assert red_minus_green(hinted, slice(0, 64)) > red_minus_green(plain, slice(0, 64)) + 20
    for bad, message in [("[[1, 2", "hints must be JSON"), ("[[500, 2, [1, 2, 3]]]", "outside")]:
        with pytest.raises(Exception, match=message):
            client.predict(handle_file(str(COLOR_EXAMPLE)), bad, api_name="/colorize_hints")
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/colorize_hints"]["parameters"]
    assert [p["parameter_name"] for p in params] == ["image", "hints_json", "model_name"]


def blue_minus_red(image, columns):
    rgb = np.asarray(image.convert("RGB"), dtype=np.float64)[:, columns]
    return (rgb[..., 2] - rgb[..., 0]).mean()


def canvas_pixels(page, color):
    """How many pixels of the editor's canvas, as shown, have ``color`` (within a few levels)."""
    shown = Image.open(io.BytesIO(page.locator("#hints-editor canvas").first.screenshot())).convert("RGB")
    return int((np.abs(np.asarray(shown, int) - color).sum(axis=-1) < 30).sum())


def paint(page, color, left_fraction):
    """Pick a palette ``color`` and paint a zigzag down the part of the (square, fitted and
    centred) image that starts at ``left_fraction`` of its width; few mouse events, as each one
    repaints the canvas."""
    page.locator("#hints-editor button[aria-label='Color']").click()
    page.locator(f"#hints-editor menu.swatch button.color[style*='rgb{color}']").click()
    box = page.locator("#hints-editor canvas").first.bounding_box()
    side = min(box["width"], box["height"]) * 0.8
    left, top = box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2
    page.mouse.move(left + side * left_fraction, top + side * 0.2)
    page.mouse.down()
    for i in range(1, 5):
        page.mouse.move(left + side * (left_fraction + 0.2 * (i % 2)), top + side * (0.2 + 0.15 * i), steps=2)
    page.mouse.up()
    assert canvas_pixels(page, color) > 500  # the stroke is on the canvas


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed (apt-get install chromium)")
def test_paint_strokes_in_the_browser(browser, hint_url, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(hint_url)
    page.get_by_role("tab", name="Hints").click()
    empty_zoom = page.locator("#hints-editor .zoom-number").inner_text()
    page.locator("#hints-input input[type=file]").set_input_files(str(COLOR_EXAMPLE))
    automatic, _ = shown_image(page, "#hints-auto")
    page.wait_for_function(EDITOR_READY, arg=[empty_zoom])
    paint(page, BLUE, 0.15)  # left half
    page.locator("#hints-button").click()
    blue, src = shown_image(page, "#hints-colorized")
    page.locator("#hints-metrics table").wait_for()  # PSNR of both against the original
    assert shot(page, tmp_path, "tab_hints").stat().st_size > 10_000
    assert blue.size == automatic.size == (128, 128)
    left, right = slice(0, 64), slice(64, 128)
    assert blue_minus_red(blue, left) > blue_minus_red(automatic, left) + 5

    page.locator("#hints-clear").click()  # a fresh editor, same image, no strokes
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while canvas_pixels(page, BLUE) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert canvas_pixels(page, BLUE) == 0
    paint(page, RED, 0.6)  # right half only
    page.locator("#hints-button").click()
    red, _ = shown_image(page, "#hints-colorized", previous=src)
    context.close()
    assert red_minus_green(red, right) > red_minus_green(automatic, right) + 5
    assert abs(blue_minus_red(red, left) - blue_minus_red(automatic, left)) < 2  # the blue stroke is gone
