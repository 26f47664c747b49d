"""The Compare tab: one image through every model, side by side with the numbers."""

import gradio as gr

from webapp.widgets import PRIVATE, fast_png, quiet, raw_image


def compare_tab(handlers):
    with gr.Tab("Compare models", id="compare"):
        gallery = fast_png(gr.Gallery(label="Gray input · each model · original", elem_id="compare-gallery", columns=3,
                                      height="auto", render=False, object_fit="contain", format="png",
                                      allow_preview=True, elem_classes=["pixelated", "gallery-captions"]))
        table = gr.Markdown(render=False, elem_id="compare-table")
        panel = fast_png(gr.Image(label="All in one picture (gray · models · original), to download", format="png",
                                  type="pil", interactive=False, render=False, elem_classes="pixelated", elem_id="compare-panel",
                                  buttons=["download", "fullscreen"]))
        kept = gr.State()
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                compare_in = raw_image(elem_id="compare-input", label="One image for every model", sources=["upload", "clipboard"],
                                       height=260, elem_classes="labelled")
                compare_btn = gr.Button("Run every model", variant="primary", elem_id="compare-button")
                examples = gr.Examples([[path] for path, _ in handlers.examples[::5]], [compare_in], label="or take an example",
                                       **PRIVATE)
            with gr.Column(scale=3):
                gallery.render()
                table.render()
                with gr.Accordion("All in one picture", open=False):
                    panel.render()
        for event in (compare_btn.click, examples.load_input_event.success):
            event(handlers.compare_models, [compare_in], [gallery, table, kept], **quiet(kept)).success(
                handlers.compare_numbers, [kept], [table, panel, kept], **quiet(kept))
