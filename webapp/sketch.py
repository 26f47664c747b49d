"""The Sketch tab: draw in gray, see it colorized."""

import gradio as gr

from webapp.widgets import PRIVATE, result_panel

GRAYS = ["#000000", "#333333", "#666666", "#999999", "#cccccc", "#ffffff"]


def sketch_tab(handlers, model):
    with gr.Tab("Sketch", id="sketch"):
        with gr.Row():
            with gr.Column(scale=2):
                sketch = gr.Sketchpad(elem_id="sketch-input", label="Draw in gray on white", type="numpy", image_mode="RGBA",
                                      canvas_size=(384, 384), layers=False, transforms=(), format="png",
                                      brush=gr.Brush(colors=GRAYS, default_color="#333333", color_mode="fixed", default_size=8))
                sketch_btn = gr.Button("Colorize my drawing", variant="primary", elem_id="sketch-button")
            with gr.Column(scale=3):
                sketch_out = result_panel("sketch")
        sketch_btn.click(handlers.colorize_sketch, [sketch, model], sketch_out, **PRIVATE)
