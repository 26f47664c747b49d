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

__all__ = ["build_demo", "launch_options", "CACHE_AGE_S"]

INTRO = """
# 🎨 Colorizer
Black-and-white in, color out. A small convolutional network guesses the colors of a gray image;
the app keeps every detail of your picture (the output has your image's exact brightness and full
resolution) and only adds the color. Give it a **color** photo and it is first turned gray with the
original project's formula, so you can see how close the guess comes to the truth.
"""

CSS = """
.pixelated img, .pixelated canvas { image-rendering: pixelated; }
.result-image img { width: 100%; height: 100%; object-fit: contain; }
#intro { max-width: 900px; }
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
        model = gr.Dropdown(choices=bank.choices(), value=bank.default, label="Model",
                            info="Every model in weights/, with its training epochs and validation PSNR; the best is preselected.")
        with gr.Tabs():
            upload_tab(handlers, model)
            sketch_tab(handlers, model)
            hints_tab(demo, handlers, hint_handlers, model)
            examples_tab(handlers, model)
            compare_tab(handlers)
            training_tab(bank)
            about_tab()
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
