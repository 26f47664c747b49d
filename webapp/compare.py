"""The Compare tab: one image through every model, side by side with the numbers."""

import gradio as gr

from webapp.widgets import PRIVATE, raw_image


def compare_tab(handlers):
    with gr.Tab("Compare models", id="compare"):
        compare_gallery = gr.Gallery(label="Gray input · each model · original", columns=4, height=320, render=False,
                                     object_fit="contain", format="png", elem_classes="pixelated")
        compare_table = gr.Markdown(render=False, elem_id="compare-table")
        compare_panel = gr.Image(label="All in one picture (gray · models · original), to download", format="png",
                                 type="pil", interactive=False, render=False, height=220, elem_classes="pixelated",
                                 buttons=["download", "fullscreen"])
        with gr.Row():
            with gr.Column(scale=1):
                compare_in = raw_image(elem_id="compare-input", label="One image for every model", sources=["upload", "clipboard"], height=260)
                compare_btn = gr.Button("Run every model", variant="primary")
                gr.Examples([[path] for path, _ in handlers.examples[::5]], [compare_in], label="or take an example",
                            fn=handlers.compare_models, outputs=[compare_gallery, compare_table, compare_panel], run_on_click=True, cache_examples=False,
                            **PRIVATE)
            with gr.Column(scale=3):
                compare_gallery.render()
                compare_table.render()
                compare_panel.render()
        compare_btn.click(handlers.compare_models, [compare_in], [compare_gallery, compare_table, compare_panel], **PRIVATE)
