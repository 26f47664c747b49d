"""The Sketch tab in sketch mode: gray pen lines and color dabs on one canvas, each closed shape
filled with the color dabbed inside it. The handler directly, then a real browser (Debian's
Chromium via Playwright) drawing a box, dabbing red inside it and colorizing."""

import numpy as np
import pytest

try:  # tests/ as a package or as a plain folder on sys.path
    from .test_app import app, fake_weights, served  # noqa: F401  (fixtures)
    from .test_app_browser import browser, page, shot, shown_image  # noqa: F401  (fixtures)
except ImportError:
    from test_app import app, fake_weights, served  # noqa: F401  (fixtures)
    from test_app_browser import browser, page, shot, shown_image  # noqa: F401  (fixtures)

RED = (214, 40, 40)  # palette color #d62828

pytestmark = [  # Gradio's queue on pandas 3
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting':DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
]


def test_a_dabbed_box_is_filled_and_the_page_stays_white(app):
    canvas = np.zeros((120, 160, 4), np.uint8)  # transparent = paper
    canvas[20:100, 40:120] = (51, 51, 51, 255)  # a gray box, 6 px outline
    canvas[26:94, 46:114] = 0
    canvas[55:62, 75:82] = (*RED, 255)  # a red dab inside
    colorized, _, (gray, _), _, _ = app.handlers.colorize_sketch({"background": None, "layers": [], "composite": canvas}, None)
    out = np.asarray(colorized)
    assert np.abs(out[30:90, 50:110].astype(int) - RED).max() <= 2  # filled, dab's pixels included
    assert (out[:15] == 255).all() and (out[:, :35] == 255).all()  # the page outside: white
    assert (out[22, 80] == 51).all()  # the line as drawn
    assert np.asarray(gray)[58, 78] == 255  # the dab is not a line


def dab_box_and_colorize(page):
    """Draw a closed box with the default gray pen, dab red inside, colorize: the result image."""
    page.get_by_role("tab", name="Sketch").click()
    page.locator("#sketch-input button[aria-label='Brush']").click()
    box = page.locator("#sketch-input canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    corners = [(cx - 70, cy - 70), (cx + 70, cy - 70), (cx + 70, cy + 70), (cx - 70, cy + 70), (cx - 70, cy - 70)]
    page.mouse.move(*corners[0])
    page.mouse.down()
    for corner in corners[1:]:
        page.mouse.move(*corner, steps=6)
    page.mouse.up()
    page.locator("#sketch-input button[aria-label='Color']").click()
    page.locator(f"#sketch-input menu.swatch button.color[style*='rgb{RED}']").click()
    page.keyboard.press("Escape")  # close the palette
    page.mouse.move(cx + 20, cy + 20)
    page.mouse.down()
    page.mouse.move(cx + 40, cy + 30, steps=3)
    page.mouse.up()
    page.locator("#sketch-button").click()
    result, _ = shown_image(page, "#sketch-colorized")
    return np.asarray(result.convert("RGB")).astype(int)


def test_draw_a_box_dab_red_inside_and_it_fills(page, tmp_path):
    out = dab_box_and_colorize(page)
    shot(page, tmp_path, "tab_sketch_fill")
    h, w = out.shape[:2]
    inside = out[h // 2 - 20 : h // 2 + 20, w // 2 - 40 : w // 2 - 15].reshape(-1, 3)  # away from the dab itself
    assert (np.abs(inside - RED).max(axis=1) <= 8).mean() > 0.95  # the box has the dab's color
    assert (out[:20] == 255).all() and (out[-20:] == 255).all()  # outside: still white paper
    assert np.abs(out - out.mean(axis=-1, keepdims=True)).max(axis=-1)[out.max(axis=-1) < 80].max() <= 2  # lines stay gray
