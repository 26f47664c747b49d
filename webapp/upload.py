"""The Upload tab: one image in, its colorization beside it."""

import gradio as gr

from webapp.widgets import PRIVATE, raw_image, result_panel


def upload_tab(handlers, model):
    with gr.Tab("Upload", id="upload"):
        with gr.Row():
            with gr.Column(scale=2):
                upload = raw_image(elem_id="upload-input", label="Your image: any format, color or gray",
                                   sources=["upload", "clipboard"], height=320)
                with gr.Accordion("Options", open=False):
                    mode = gr.Radio([("Full resolution (keeps every detail)", "full"),
                                     ("Raw network output, resized (as the original project showed it)", "seed")],
                                    value="full", label="Output")
                upload_btn = gr.Button("Colorize", variant="primary", elem_id="upload-button")
            with gr.Column(scale=3):
                upload_out = result_panel("upload")
        gr.on([upload.upload, upload_btn.click], handlers.colorize_upload, [upload, model, mode], upload_out, **PRIVATE)
