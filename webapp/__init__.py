"""The Colorizer web app, one module per tab: ``build_demo`` assembles them around a model bank.

``app.py`` (the entry point Spaces runs) makes the bank and handlers and calls ``build_demo``;
the tabs only lay out components and wire them to handlers.
"""

import os

import gradio as gr
from starlette.middleware import Middleware

from webapp.guard import MAX_BODY_BYTES, MAX_UPLOAD_BYTES, BodyLimit, empty_cache_at_shutdown

from webapp.about import about_tab, api_endpoints
from webapp.compare import compare_tab
from webapp.examples import examples_tab
from webapp.hints import hints_tab
from webapp.sketch import sketch_tab
from webapp.training import training_tab
from webapp.upload import upload_tab
from webapp.widgets import PRIVATE

__all__ = ["build_demo", "launch_options", "CACHE_AGE_S"]

INTRO = """
# 🎨 Colorizer
Black-and-white in, color out: upload a photo, draw a sketch or pick an example, and a small
neural network paints in the colors. Your picture keeps every detail; only color is added.
"""

HOW_IT_WORKS = """
The network has looked at some 55,000 small color photos (animals, vehicles, flowers, berries) and
thousands of free clip-art pictures and photographs, each turned gray, and learned to guess the
colors back from the shapes and shades it sees: sky is often blue, leaves green, skin warm. Given
your picture, it works on a small copy and guesses the color of every spot; the app then lays
those colors over your own full-size gray image, following its edges, so brightness and detail
stay exactly yours. When the picture is unclear (is that car red or blue?), it picks a safe
middle, which is why colors often come out softer than in life; the Vividness slider (Upload tab)
turns them up, wrong guesses included.
If you upload a color photo, it is first made gray the same way the original project did it, so
you can compare the guess with the true colors. In the Hints tab you can tell it a few colors
yourself and watch it spread them.
"""

CSS = """
.pixelated img, .pixelated canvas { image-rendering: pixelated; }
#intro, #how-it-works { max-width: 900px; }
/* Result images as wide as their box, at the picture's own aspect (no gaps around them)... */
.result-image .image-frame { width: 100%; }
.result-image img, .result-slider img { width: 100%; height: auto !important; max-height: 75vh; object-fit: contain; }
.result-slider .image-container, .result-slider .slider-wrap, .result-slider .wrap, .result-slider .content { height: auto !important; }
/* ...under their label and buttons, never behind them (a sketch's top was hidden there). */
.result-image .image-container, .result-slider .image-container, .labelled .image-container { padding-top: 2.4rem; }
#example-gallery label[data-testid=block-label] { display: none; }
#compare-gallery .grid-wrap { height: auto !important; max-height: none !important; overflow: visible !important; }
/* Gallery captions wrap instead of being cut ("automo…"). */
.gallery-captions .caption-label { max-width: calc(100% - 8px); white-space: normal; overflow-wrap: anywhere; font-size: var(--text-xs); }
#compare-gallery .grid-wrap { padding-top: 2.6rem; }
/* The Training chart's legend: HTML under the chart, so that it wraps on a phone. */
#training-legend .plot-legend { display: flex; flex-wrap: wrap; justify-content: center; gap: 4px 18px; padding: 0 12px; font-size: var(--text-sm); }
#training-legend .legend-item { display: inline-flex; align-items: center; gap: 6px; }
#training-legend .legend-line { display: inline-block; flex: none; width: 18px; height: 3px; border-radius: 2px; }
.prose table td, .prose table th { overflow-wrap: normal; word-break: normal; min-width: 5em; }  /* no "epoc hs" */
/* Wide tables scroll sideways on a phone instead of being cut at the edge; code wraps. */
.prose table { display: block; max-width: 100%; overflow-x: auto; }
@media (max-width: 640px) {
  .prose pre, .prose pre code { white-space: pre-wrap; overflow-wrap: anywhere; }
  /* Narrow cells on a phone, so that more of a table shows before it scrolls (words still never break). */
  .prose table td, .prose table th { min-width: 0; padding: 6px; }
}
"""

THEME = gr.themes.Soft(primary_hue="orange", secondary_hue="violet", neutral_hue="slate")
# Gradio's cache (uploads and every image shown) is cleared of files older than CACHE_AGE_S every
# CACHE_CHECK_S seconds, and emptied when the server stops: it holds about the last ten minutes'
# requests (2 files, ~0.7 MB per request of the UI), long enough to download what one just saw.
# $COLORIZER_CACHE_AGE_S changes the age (a load test sees the cache level off sooner).
CACHE_AGE_S = int(os.environ.get("COLORIZER_CACHE_AGE_S") or 600)
CACHE_CHECK_S = min(60, CACHE_AGE_S)


def launch_options():
    """Keyword arguments for ``demo.launch``, a fresh dict for each launch (Gradio writes into
    ``app_kwargs``). state_session_capacity: gradio keeps ~170 KB per session (measured),
    10,000 sessions by default."""
    return {"theme": THEME, "css": CSS, "max_file_size": MAX_UPLOAD_BYTES, "state_session_capacity": 1000,
            "app_kwargs": {"middleware": [Middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)],
                           "lifespan": empty_cache_at_shutdown}}


def build_demo(bank, handlers, hint_handlers):
    """The app's ``gr.Blocks``, queued, on ``bank`` (a :class:`webapp.bank.ModelBank`) and the
    handlers made on it."""
    with gr.Blocks(title="Colorizer: gray to color", delete_cache=(CACHE_CHECK_S, CACHE_AGE_S)) as demo:
        gr.Markdown(INTRO, elem_id="intro")
        with gr.Accordion("How it works", open=False):
            gr.Markdown(HOW_IT_WORKS, elem_id="how-it-works")
        model = gr.Dropdown(choices=bank.choices(), value=bank.default, label="Model", elem_id="model")
        model_summary = gr.Markdown(bank.summary(bank.default), elem_id="model-summary")
        with gr.Accordion("Numbers", open=False, elem_id="model-numbers"):
            gr.Markdown("Measured on the test images of each data set, which no model trained on. PSNR: how close the "
                        "colors are to the true ones, in dB, higher is better; in brackets, the score of just returning "
                        "the gray image. Colorfulness: how vivid; in brackets, the true images'.\n\n" + bank.numbers())
        model.change(bank.summary, [model], [model_summary], **PRIVATE)
        with gr.Tabs():
            upload_tab(handlers, model)
            sketch_tab(handlers, model)
            hints_tab(demo, handlers, hint_handlers, model)
            examples_tab(handlers, model)
            compare_tab(handlers)
            training_tab(bank)
            about_tab(demo)
        api_endpoints(handlers, hint_handlers, model)

    # A 2-vCPU Space: two requests at once keep both cores busy (part of each request is single-
    # threaded PNG and metric work); more only multiplies peak memory (each request stays under
    # 1 GB). Measured with scripts/load_test.py: 5.95 req/s at 2 vs 4.72 at 1. A waiting request
    # costs little (its upload is on disk), so the queue takes a burst of 128 and answers "full"
    # beyond that rather than making people wait minutes (128 requests: ~20 s at 5.95 req/s).
    # 50 clients x 10 requests of 512 x 512 at once: 0 of 500 refused (at 32, 40-49% were), server
    # RSS +42 MiB from warm-up to the end, on a 2-core machine shared with a dozen other jobs.
    demo.queue(default_concurrency_limit=2, max_size=128)
    return demo
