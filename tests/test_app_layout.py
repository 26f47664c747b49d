"""The app's layout in a real browser (Debian's Chromium via Playwright), at a desktop width
(1400 px) and a phone width (390 px): result images fill their boxes at the picture's aspect,
nothing is cut or hidden behind a label, no page is wider than the screen, a failed action
leaves no red "Error" badges and the next one works, the API sample names the served address,
and the Training tab's history reaches the epoch count of the model's label, its chart's legend whole.
Runs on the fake weights of test_app.py (and the hint model of test_app_hints.py)."""

import importlib
import re
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

try:  # tests/ as a package or as a plain folder on sys.path
    from .test_app import COLOR_EXAMPLE, app, fake_weights, served  # noqa: F401  (fixtures)
    from .test_app_browser import ARGS, CHROMIUM, TIMEOUT_MS, browser, shot, shown_image  # noqa: F401
    from .test_app_hints import hint_app, hint_url, hint_weights, paint, EDITOR_READY, RED  # noqa: F401
except ImportError:
    from test_app import COLOR_EXAMPLE, app, fake_weights, served  # noqa: F401
    from test_app_browser import ARGS, CHROMIUM, TIMEOUT_MS, browser, shot, shown_image  # noqa: F401
    from test_app_hints import hint_app, hint_url, hint_weights, paint, EDITOR_READY, RED  # noqa: F401

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed (apt-get install chromium)"),
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting':DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
]
SCRIPTS = str(Path(__file__).resolve().parents[1] / "scripts")
sys.path.insert(0, SCRIPTS)
try:  # the timing script drives the same tabs: one way of opening them, one list of them
    browser_timing = importlib.import_module("browser_timing")
finally:
    sys.path.remove(SCRIPTS)
TABS = browser_timing.TABS


def open_page(browser, url, width):
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.wait_for_selector("#upload-input")
    return context, page


def open_tab(page, name):
    """Click a tab, through the "More tabs" menu where a phone-width page folds it away
    (``scripts/browser_timing.open_tab``), and let it lay out."""
    browser_timing.open_tab(page, name)
    time.sleep(0.3)


def box(page, selector):
    return page.locator(selector).first.bounding_box()


def cut_texts(page):
    """Visible labels, captions and table cells whose text overflows its box (cut or ellipsized)."""
    return page.evaluate("""() => [...document.querySelectorAll(
        'label[data-testid=block-label] span, .caption-label, .prose th, .tab-container button[role=tab]')]
        .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.trim())""")


@pytest.mark.parametrize("width", [1400, 390])
def test_results_fill_their_boxes_at_the_input_aspect(browser, served, tmp_path, width):
    wide = tmp_path / "wide.png"
    Image.open(COLOR_EXAMPLE).convert("RGB").resize((240, 120)).save(wide)  # 2:1
    context, page = open_page(browser, served, width)
    page.locator("#upload-input input[type=file]").set_input_files(str(wide))  # colorizes on upload
    shown_image(page, "#upload-colorized")
    page.locator("#upload-slider img").first.wait_for()
    time.sleep(0.5)
    for element in ("#upload-colorized", "#upload-original", "#upload-slider"):
        frame, image = box(page, element), box(page, f"{element} img")
        label = box(page, f"{element} label[data-testid=block-label]")
        assert image["width"] >= 0.95 * (frame["width"] - 4), (element, image, frame)  # fills the box's width
        assert abs(image["width"] / image["height"] - 2.0) < 0.1, (element, image)  # at the picture's aspect
        assert image["y"] >= label["y"] + label["height"] - 1, element  # below its label, not behind it
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, tmp_path, f"upload_{width}")
    context.close()


@pytest.mark.parametrize("width", [1400, 390])
def test_no_tab_is_cut_or_wider_than_the_screen(browser, served, tmp_path, width):
    context, page = open_page(browser, served, width)
    for name in TABS:
        open_tab(page, name)
        if name == "Examples":
            page.locator("#example-gallery .thumbnail-item").first.wait_for()
        if name == "Compare models":
            page.locator("#compare-input input[type=file]").set_input_files(str(COLOR_EXAMPLE))
            page.locator("#compare-input img").first.wait_for()
            page.locator("#compare-button").click()
            page.locator("#compare-gallery .thumbnail-item img").first.wait_for()
            page.wait_for_function("() => document.querySelector('#compare-table').innerText.includes('SSIM ↑')")
            # every picture (gray input, each model, original) is inside the visible gallery
            gallery = box(page, "#compare-gallery")
            thumbs = page.locator("#compare-gallery .thumbnail-item")
            assert thumbs.count() == 4
            for i in range(thumbs.count()):
                thumb = thumbs.nth(i).bounding_box()
                assert thumb["y"] + thumb["height"] <= gallery["y"] + gallery["height"] + 1, i
            label = box(page, "#compare-gallery label[data-testid=block-label]")
            assert box(page, "#compare-gallery .thumbnail-item")["y"] >= label["y"] + label["height"] - 1
        time.sleep(0.5)
        assert cut_texts(page) == [], name
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
        shot(page, tmp_path, f"{name.split()[0].lower()}_{width}")
    context.close()


def test_example_captions_are_whole(browser, served):
    context, page = open_page(browser, served, 390)
    open_tab(page, "Examples")
    captions = page.locator("#example-gallery .caption-label")
    captions.first.wait_for()
    cut = page.evaluate("""() => [...document.querySelectorAll('#example-gallery .caption-label')]
        .filter(e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1).map(e => e.textContent)""")
    assert cut == [] and captions.count() >= 24
    context.close()


def test_a_drawing_near_the_top_is_not_hidden(browser, served, tmp_path):
    context, page = open_page(browser, served, 1400)
    open_tab(page, "Sketch")
    page.locator("#sketch-input button[aria-label='Brush']").click()
    canvas = box(page, "#sketch-input canvas")
    cx, cy = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2
    side = min(canvas["width"], canvas["height"]) * 0.6
    page.mouse.move(cx - 40, cy - side * 0.4)  # a stroke near the paper's top edge
    page.mouse.down()
    page.mouse.move(cx + 40, cy - side * 0.4, steps=10)
    page.mouse.up()
    page.locator("#sketch-button").click()
    result, _ = shown_image(page, "#sketch-colorized")
    top_rows = Image.Image.getextrema(result.convert("L").crop((0, 0, result.width, result.height // 4)))
    assert top_rows[0] < 128  # the stroke is in the picture's top quarter...
    image, label = box(page, "#sketch-colorized img"), box(page, "#sketch-colorized label[data-testid=block-label]")
    buttons = box(page, "#sketch-colorized .icon-button-wrapper")
    assert image["y"] >= max(label["y"] + label["height"], buttons["y"] + buttons["height"]) - 1  # ...and shown
    shot(page, tmp_path, "sketch_top")
    context.close()


def test_an_error_leaves_no_badges_and_the_next_try_works(browser, served, tmp_path):
    context, page = open_page(browser, served, 1400)
    page.locator("#upload-button").click()  # nothing uploaded yet
    page.locator(".toast-body", has_text="Upload an image").first.wait_for()
    time.sleep(0.5)
    assert page.locator("#upload-colorized .error, #upload-slider .error, #upload-original .error").count() == 0
    assert not page.locator("[data-testid=status-tracker] .error:visible").count()
    shot(page, tmp_path, "upload_error")
    page.locator("#upload-input input[type=file]").set_input_files(str(COLOR_EXAMPLE))
    result, _ = shown_image(page, "#upload-colorized")
    assert result.size == Image.open(COLOR_EXAMPLE).size
    context.close()


def test_clear_hints_then_colorize_leaves_no_badges(browser, hint_url, tmp_path):
    context, page = open_page(browser, hint_url, 1400)
    open_tab(page, "Hints")
    empty_zoom = page.locator("#hints-editor .zoom-number").inner_text()
    page.locator("#hints-input input[type=file]").set_input_files(str(COLOR_EXAMPLE))
    shown_image(page, "#hints-auto")
    page.wait_for_function(EDITOR_READY, arg=[empty_zoom])
    page.locator("#hints-clear").click()
    time.sleep(1.0)
    page.locator("#hints-button").click()  # no strokes: a toast says so
    page.locator(".toast-body", has_text="Paint some color").first.wait_for()
    time.sleep(0.5)
    assert page.locator("[data-testid=status-tracker] .error:visible").count() == 0
    shot(page, tmp_path, "hints_error")
    page.wait_for_function(EDITOR_READY, arg=[empty_zoom])  # the fresh editor shows the image
    paint(page, RED, 0.6)
    page.locator("#hints-button").click()
    shown_image(page, "#hints-colorized")
    context.close()


def test_api_sample_names_the_served_address(browser, served):
    context, page = open_page(browser, served, 1400)
    open_tab(page, "API & about")
    page.wait_for_function(f"() => document.querySelector('#api-doc').innerText.includes('{served}')")
    assert "127.0.0.1:7860" not in page.locator("#api-doc").inner_text() or served.endswith(":7860/")
    context.close()


@pytest.mark.parametrize("width", [1400, 390])
def test_training_chart_legend_is_whole(browser, hint_url, hint_app, tmp_path, width):
    """The all-models chart on models with long names: nothing drawn outside the chart (its own
    one-row legend was cut off at a phone's width) and a legend entry per model, inside the screen."""
    context, page = open_page(browser, hint_url, width)
    open_tab(page, "Training")
    page.locator("#training-psnr svg text").first.wait_for()
    time.sleep(0.5)
    chart = box(page, "#training-psnr")
    texts = page.evaluate("""() => [...document.querySelectorAll('#training-psnr svg text')]
        .filter(t => t.textContent.trim()).map(t => [t.textContent, t.getBoundingClientRect().toJSON()])""")
    outside = [text for text, r in texts if r["left"] < chart["x"] - 1 or r["right"] > chart["x"] + chart["width"] + 1]
    assert outside == [], outside
    labels = list(hint_app.bank.label(name) for name in hint_app.bank.ordered())
    items = page.locator("#training-legend .legend-item")
    assert [items.nth(i).inner_text().strip() for i in range(items.count())] == labels
    for i in range(items.count()):
        item = items.nth(i).bounding_box()
        assert item["x"] >= 0 and item["x"] + item["width"] <= width, labels[i]
    cut = page.evaluate("""() => [...document.querySelectorAll('#training-legend .legend-item')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)""")
    assert cut == [] and page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, tmp_path, f"training_legend_{width}")
    context.close()


def test_training_history_reaches_the_label_s_epoch_count(browser, served, app):
    context, page = open_page(browser, served, 1400)
    open_tab(page, "Training")
    page.locator("#training-stages table").wait_for()
    label = page.locator("#training-model input").input_value()
    epochs = int(re.search(r"(\d+) epochs", label).group(1))
    last_row = page.locator("#training-stages tbody tr").last.inner_text()
    assert re.match(rf"\s*\d+–{epochs}\b", last_row), (label, last_row)
    assert not re.search(r"(?<![\w–])-\d", page.locator("#training-stages").inner_text())  # no negative errors
    page.locator("#training-original table").wait_for()  # the original's table beside the seed network
    assert "2.3465" in page.locator("#training-original").inner_text()
    context.close()
