"""The Colorizer web app, one module per tab: ``build_demo`` assembles them around a model bank.

``app.py`` (the entry point Spaces runs) makes the bank and handlers and calls ``build_demo``;
the tabs only lay out components and wire them to handlers.
"""

import gradio as gr

from webapp.about import about_tab, api_endpoints
from webapp.compare import compare_tab
from webapp.examples import examples_tab
from webapp.hints import hints_tab
from webapp.sketch import sketch_tab
from webapp.training import training_tab
from webapp.upload import upload_tab

__all__ = ["build_demo", "LAUNCH_OPTIONS"]

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
# state_session_capacity: gradio keeps ~170 KB per session (measured), 10,000 sessions by default.
LAUNCH_OPTIONS = {"theme": THEME, "css": CSS, "max_file_size": "40mb", "state_session_capacity": 1000}


def build_demo(bank, handlers, hint_handlers):
    """The app's ``gr.Blocks``, queued, on ``bank`` (a :class:`webapp.bank.ModelBank`) and the
    handlers made on it."""
    with gr.Blocks(title="Colorizer: gray to color") as demo:
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

    # A 2-core Space: two requests at once keep both cores busy (part of each request is single-
    # threaded PNG and metric work); more only multiplies peak memory. Measured with
    # scripts/load_test.py: 5.95 req/s at 2 vs 4.72 at 1. A short queue answers "full" at once
    # instead of making people wait minutes.
    demo.queue(default_concurrency_limit=2, max_size=32)
    return demo
