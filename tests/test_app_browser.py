"""The web app in a real browser: Debian's Chromium driven by Playwright (never `playwright install`).

Uploads an example and colorizes it, draws a sketch and colorizes it, clicks a gallery example,
and screenshots every tab (into pytest's tmp_path; set ``APP_SCREENSHOTS=folder`` to keep them).
Skipped, with the reason, when /usr/bin/chromium is not installed.
"""

import io
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

try:  # tests/ as a package or as a plain folder on sys.path
    from .test_app import COLOR_EXAMPLE, app, fake_weights, is_colored, served  # noqa: F401  (fixtures)
except ImportError:
    from test_app import COLOR_EXAMPLE, app, fake_weights, is_colored, served  # noqa: F401  (fixtures)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 30_000

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed (apt-get install chromium)"),
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting':DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, served):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(served)
    page.wait_for_selector("#upload-input")
    yield page
    context.close()


def shot(page, tmp_path, name):
    """Full-page screenshot into tmp_path (and $APP_SCREENSHOTS when set); returns the path."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("APP_SCREENSHOTS"):
        Path(os.environ["APP_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(os.environ["APP_SCREENSHOTS"]) / f"{name}.png"), full_page=True)
    return path


def shown_image(page, selector, previous=None):
    """The full-resolution image an output component shows (fetched from its src), waiting
    until it has one (different from ``previous``, a src)."""
    img = page.locator(f"{selector} img").first
    img.wait_for(state="visible")
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while (src := img.get_attribute("src")) in (None, "", previous) and time.monotonic() < deadline:
        time.sleep(0.1)
    response = page.request.get(src)
    assert response.ok, src
    return Image.open(io.BytesIO(response.body())), src


def test_upload_an_example_and_colorize_it(page, tmp_path):
    page.locator("#upload-input input[type=file]").set_input_files(str(COLOR_EXAMPLE))
    page.locator("#upload-button").click()
    result, _ = shown_image(page, "#upload-colorized")
    source = Image.open(COLOR_EXAMPLE)
    assert result.format == "PNG" and result.size == source.size
    assert is_colored(result)
    gray, _ = shown_image(page, "#upload-slider")  # the slider's first picture: the gray input
    assert gray.size == source.size and not is_colored(gray)
    original, _ = shown_image(page, "#upload-original")
    assert np.array_equal(np.asarray(original.convert("RGB")), np.asarray(source.convert("RGB")))
    page.locator("#upload-numbers").get_by_text("Numbers").click()  # collapsed until asked for
    page.wait_for_selector("#upload-metrics table")
    assert "gray baseline" in page.locator("#upload-metrics").inner_text()
    assert shot(page, tmp_path, "tab_upload").stat().st_size > 10_000


def test_bad_upload_shows_an_error_and_the_app_goes_on(page, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(COLOR_EXAMPLE.read_bytes()[:300])
    page.locator("#upload-input input[type=file]").set_input_files(str(bad))
    page.locator("#upload-button").click()
    page.locator(".toast-body", has_text="truncated").first.wait_for()
    shot(page, tmp_path, "upload_error")
    page.locator("#upload-input button[aria-label='Remove Image']").first.click()
    page.locator("#upload-input input[type=file]").set_input_files(str(COLOR_EXAMPLE))
    page.locator("#upload-button").click()
    result, _ = shown_image(page, "#upload-colorized")
    assert result.size == Image.open(COLOR_EXAMPLE).size


def test_sketch_round_trip(page, tmp_path):
    page.get_by_role("tab", name="Sketch").click()
    page.locator("#sketch-input button[aria-label='Brush']").click()
    canvas = page.locator("#sketch-input canvas").first
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx - 80, cy - 50)
    page.mouse.down()
    for i in range(24):
        page.mouse.move(cx - 80 + 7 * i, cy - 50 + 10 * (i % 6), steps=2)
    page.mouse.up()
    page.mouse.move(cx - 70, cy + 60)
    page.mouse.down()
    page.mouse.move(cx + 80, cy + 70, steps=12)
    page.mouse.up()
    page.locator("#sketch-button").click()
    result, _ = shown_image(page, "#sketch-colorized")
    gray, _ = shown_image(page, "#sketch-slider")
    assert result.size == gray.size == (384, 384)  # the canvas
    levels = np.asarray(gray.convert("L"))
    assert levels.max() == 255 and levels.min() < 128  # dark strokes on white paper
    shot(page, tmp_path, "tab_sketch")


def test_gallery_example_click_runs_it(page, tmp_path):
    page.get_by_role("tab", name="Examples").click()
    thumbnails = page.locator("#example-gallery .thumbnail-item")
    thumbnails.first.wait_for()  # count() does not wait for the tab to render
    assert thumbnails.count() >= 24
    thumbnails.nth(21).click()  # a Linnaeus 5 image
    result, src = shown_image(page, "#example-colorized")
    original, _ = shown_image(page, "#example-original")
    assert result.size == original.size and is_colored(original)
    shot(page, tmp_path, "tab_examples")
    thumbnails.last.click()  # an emoji: another result replaces the first
    result, _ = shown_image(page, "#example-colorized", previous=src)
    assert result.size == (128, 128)


def test_other_tabs_render(page, tmp_path):
    page.get_by_role("tab", name="Compare models").click()
    page.locator("#compare-input input[type=file]").set_input_files(str(COLOR_EXAMPLE))
    page.get_by_role("button", name="Run every model").click()
    page.wait_for_selector("#compare-table table")
    shot(page, tmp_path, "tab_compare")
    page.get_by_role("tab", name="Training").click()
    page.locator("#training-stages table").wait_for()
    page.locator("#training-loss canvas, #training-loss svg").first.wait_for()
    shot(page, tmp_path, "tab_training")
    page.get_by_role("tab", name="API & about").click()
    page.get_by_text('api_name="/colorize"').first.wait_for()
    shot(page, tmp_path, "tab_about")
