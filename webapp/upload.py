"""The Upload tab: one image in, its colorization beside it."""

import functools

import gradio as gr

from webapp.widgets import raw_image, result_panel, wire


def upload_tab(handlers, model):
    with gr.Tab("Upload", id="upload"):
        with gr.Row():
            with gr.Column(scale=2):
                upload = raw_image(elem_id="upload-input", label="Your image", sources=["upload", "clipboard"], height=320,
                                   elem_classes="labelled")
                gr.Markdown("Any format, color or gray. A color photo is first made gray, so you can compare the "
                            "guess with its true colors.", elem_id="upload-help")
                with gr.Accordion("Options", open=False):
                    mode = gr.Radio([("Full resolution (keeps every detail)", "full"),
                                     ("Raw network output, resized (as the original project showed it)", "seed")],
                                    value="full", label="Output")
                upload_btn = gr.Button("Colorize", variant="primary", elem_id="upload-button")
            with gr.Column(scale=3):
                upload_out = result_panel("upload")
        wire(functools.partial(gr.on, [upload.upload, upload_btn.click]), handlers.colorize_upload, [upload, model, mode],
             upload_out, handlers)
