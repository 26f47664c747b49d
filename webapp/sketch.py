"""The Sketch tab: draw lines in gray, dab colors inside the shapes, see them filled
(``colorize(..., mode="sketch")``; the canvas is split into lines and dabs by
``colorizer.sketch.split_drawing``)."""

import gradio as gr

import colorizer

from webapp.guard import raw_editor
from webapp.hints import HINT_COLORS
from webapp.widgets import result_panel, wire

GRAYS = ["#000000", "#333333", "#666666", "#999999", "#cccccc", "#ffffff"]


def sketch_tab(handlers, model):
    with gr.Tab("Sketch", id="sketch"):
        with gr.Row():
            with gr.Column(scale=2):
                guess = ("a line-art network guesses the colors of shapes without a dab" if colorizer.shipped_models("sketch")
                         else "shapes without a dab stay white")
                gr.Markdown("Draw shapes with a gray pen, dab a color inside each: every closed shape is filled with the "
                            f"color dabbed in it; {guess}, and the page stays white.", elem_id="sketch-how")
                sketch = raw_editor(gr.Sketchpad(elem_id="sketch-input", label="Draw here", type="numpy", image_mode="RGBA",
                                      canvas_size=(384, 384), layers=False, transforms=(), format="png",
                                      brush=gr.Brush(colors=GRAYS + HINT_COLORS, default_color="#333333", color_mode="fixed", default_size=8)))
                sketch_btn = gr.Button("Colorize my drawing", variant="primary", elem_id="sketch-button")
            with gr.Column(scale=3):
                sketch_out = result_panel("sketch")
        wire(sketch_btn.click, handlers.colorize_sketch, [sketch, model], sketch_out, handlers)
