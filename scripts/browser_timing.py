"""What a person feels in the browser: app start, upload-to-result and Compare, in real Chromium.

    python scripts/browser_timing.py [--runs 10] [--size 512] [--screens DIR]

Starts ``python app.py`` on a free port (offline, the shipped weights or ``$COLORIZER_WEIGHTS``)
and drives Debian's Chromium with Playwright at 1400x1000:
- start: process launch to the first HTTP 200;
- upload: a photo-like ``size`` x ``size`` color image (a Linnaeus 5 example, resized) set into
  the Upload tab's file input, to the ``load`` event of the colorized image that replaces the
  previous one (the clock runs in the page: ``performance.now()``);
- compare: a click on "Run every model" to the load of the last gallery image.
Prints medians; with ``--screens DIR`` also saves a full-page screenshot of every tab at 1400 px
and 390 px wide (after a result is shown) into DIR.
"""

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_app import ROOT, serve_app, test_image  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TABS = ["Upload", "Sketch", "Hints", "Examples", "Compare models", "Training", "API & about"]

# Records, in the page, when an <img> inside the element with id `key` loads (load does not
# bubble, so listen in the capture phase on the document).
LISTEN = """key => {
  window.__loads = window.__loads || {};
  if (window.__listening) return;
  window.__listening = true;
  document.addEventListener('load', e => {
    const t = e.target;
    if (t.tagName !== 'IMG') return;
    for (const id of ['upload-colorized', 'compare-gallery']) {
      if (t.closest('#' + id)) window.__loads[id] = {at: performance.now(), src: t.src};
    }
  }, true);
}"""


def wait_for_load(page, key, since):
    page.wait_for_function(f"() => window.__loads['{key}'] && window.__loads['{key}'].at > {since}", timeout=120_000)
    return page.evaluate(f"() => window.__loads['{key}'].at") - since


def time_uploads(page, images, runs):
    page.evaluate(LISTEN, "")
    times = []
    for i in range(runs + 1):  # the first is a warm-up
        remove = page.locator("#upload-input button[aria-label='Remove Image']")
        if remove.count():
            remove.first.click()
        start = page.evaluate("performance.now()")
        page.locator("#upload-input input[type=file]").set_input_files(str(images[i % len(images)]))
        elapsed = wait_for_load(page, "upload-colorized", start)
        if i:
            times.append(elapsed / 1000)
    return times


def time_compare(page, images, runs):
    """Seconds from a click on "Run every model" to the load of the gallery's last image; the
    input alternates between ``images`` (the same result twice would reuse the cached files)."""
    open_tab(page, "Compare models")
    times = []
    for i in range(runs + 1):
        remove = page.locator("#compare-input button[aria-label='Remove Image']")
        if remove.count():
            remove.first.click()
        page.locator("#compare-input input[type=file]").set_input_files(str(images[i % len(images)]))
        page.locator("#compare-input img").first.wait_for()  # uploaded
        start = page.evaluate("performance.now()")
        page.locator("#compare-button").click()
        page.wait_for_function(f"() => window.__loads['compare-gallery'] && window.__loads['compare-gallery'].at > {start}",
                               timeout=120_000)
        time.sleep(1.0)  # the other gallery images load within this; take the last load
        if i:
            times.append((page.evaluate("() => window.__loads['compare-gallery'].at") - start) / 1000)
    return times


def open_tab(page, name):
    """Click the tab ``name``, through the "More tabs" menu when a narrow page folds it away."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
    else:
        page.get_by_role("button", name="More tabs").click()
        page.locator(".overflow-dropdown button", has_text=name).first.click()


def draw_sun(page):
    """A sun near the top of the sketch paper and a line of ground near its bottom."""
    page.locator("#sketch-input button[aria-label='Brush']").click()
    box = page.locator("#sketch-input canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    side = min(box["width"], box["height"]) * 0.6  # about the paper's side
    for radius in (6, 12, 18):
        page.mouse.move(cx + radius, cy - side * 0.4)
        page.mouse.down()
        for step in range(1, 13):
            angle = step * 3.14159 / 6
            page.mouse.move(cx + radius * math.cos(angle), cy - side * 0.4 + radius * math.sin(angle), steps=2)
        page.mouse.up()
    page.mouse.move(cx - side * 0.4, cy + side * 0.35)
    page.mouse.down()
    page.mouse.move(cx + side * 0.4, cy + side * 0.3, steps=10)
    page.mouse.up()


def screens(browser, url, folder, image):
    folder.mkdir(parents=True, exist_ok=True)
    for width in (1400, 390):
        context = browser.new_context(viewport={"width": width, "height": 1000})
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#upload-input")
        for tab in TABS:
            open_tab(page, tab)
            time.sleep(0.5)
            if tab == "Upload":
                page.locator("#upload-input input[type=file]").set_input_files(str(image))
                page.locator("#upload-colorized img").first.wait_for()
                for accordion in ("#model-numbers", "#upload-numbers"):  # the details, opened once
                    page.locator(accordion).get_by_text("Numbers").first.click()
                page.locator("#upload-metrics table").wait_for()
                time.sleep(1.0)
                page.screenshot(path=str(folder / f"upload_numbers_{width}.png"), full_page=True)
                for accordion in ("#model-numbers", "#upload-numbers"):
                    page.locator(accordion).get_by_text("Numbers").first.click()
            elif tab == "Examples":
                page.locator("#example-gallery .thumbnail-item").nth(21).click()
                page.locator("#example-colorized img").first.wait_for()
            elif tab == "Compare models":
                page.locator("#compare-input input[type=file]").set_input_files(str(image))
                page.locator("#compare-button").click()
                page.wait_for_function("() => document.querySelector('#compare-table').innerText.includes('SSIM ↑')",
                                       timeout=120_000)
            elif tab == "Sketch":
                draw_sun(page)
                page.locator("#sketch-button").click()
                page.locator("#sketch-colorized img").first.wait_for()
            elif tab == "Hints":
                time.sleep(1.0)
                page.screenshot(path=str(folder / f"hints_empty_{width}.png"), full_page=True)
                page.locator("#hints-input input[type=file]").set_input_files(str(image))
                page.locator("#hints-auto img").first.wait_for()
            time.sleep(1.0)
            name = tab.split()[0].lower()
            page.screenshot(path=str(folder / f"{name}_{width}.png"), full_page=True)
        context.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--screens", type=Path, default=None, help="folder for screenshots of every tab")
    args = parser.parse_args(argv)

    with serve_app() as (url, started):
        print(f"app start (process launch to first HTTP 200): {started:.2f} s")
        examples = sorted((ROOT / "examples").glob("linnaeus5_*.png"))
        images = [test_image(path, args.size) for path in examples[:2]]

        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector("#upload-input")
            uploads = time_uploads(page, images, args.runs)
            print(f"upload {args.size}x{args.size} to colorized image loaded, {args.runs} runs: median "
                  f"{statistics.median(uploads):.3f} s (min {min(uploads):.3f}, max {max(uploads):.3f})")
            compares = time_compare(page, images, max(3, args.runs // 3))
            print(f"compare (every model) click to last gallery image loaded, {len(compares)} runs: median "
                  f"{statistics.median(compares):.3f} s (min {min(compares):.3f}, max {max(compares):.3f})")
            if args.screens:
                screens(browser, url, args.screens, images[0])
                print(f"screenshots in {args.screens}")
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
