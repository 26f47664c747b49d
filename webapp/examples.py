"""The Examples tab: click a test image or an emoji, see it colorized against its true colors."""

import gradio as gr

from webapp.widgets import PRIVATE, result_panel


def examples_tab(handlers, model):
    with gr.Tab("Examples", id="examples"):
        gr.Markdown("Validation images the models never trained on (CIFAR-10, Linnaeus 5 test sets) and cartoon "
                    "characters from Noto Color Emoji. **Click one** to colorize it and compare with its true colors.")
        with gr.Row():
            with gr.Column(scale=2):
                gallery = gr.Gallery(elem_id="example-gallery", value=handlers.examples, label="Examples", columns=4, height=620,
                                     allow_preview=False, object_fit="cover", format="png", elem_classes="pixelated")
            with gr.Column(scale=3):
                example_out = result_panel("example")
        gallery.select(handlers.colorize_example, [model], example_out, **PRIVATE)
