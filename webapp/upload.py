"""The Upload tab: one image in, its colorization beside it."""

import functools

import gradio as gr

from webapp.widgets import PRIVATE, raw_image, result_panel, wire


def vividness_slider(bank, name):
    """The Vividness slider for model ``name``: shown at the model's default when it has the
    setting (:meth:`webapp.bank.ModelBank.vividness`), hidden otherwise."""
    default = bank.vividness(name)
    return gr.update(visible=False) if default is None else gr.update(value=default, visible=True)


def upload_tab(handlers, model):
    with gr.Tab("Upload", id="upload"):
        with gr.Row():
            with gr.Column(scale=2):
                upload = raw_image(elem_id="upload-input", label="Your image", sources=["upload", "clipboard"], height=320,
                                   elem_classes="labelled")
                gr.Markdown("Any format, color or gray. A color photo is first made gray, so you can compare the "
                            "guess with its true colors.", elem_id="upload-help")
                default = handlers.bank.vividness(handlers.bank.default)
                vividness = gr.Slider(0, 1, value=0.5 if default is None else default, step=0.01, label="Vividness",
                                      info="How bold the colors are: 0 keeps the safest colors, 1 the boldest.",
                                      visible=default is not None, elem_id="upload-vividness")
                with gr.Accordion("Options", open=False):
                    mode = gr.Radio([("Full resolution (keeps every detail)", "full"),
                                     ("Raw network output, resized (as the original project showed it)", "seed")],
                                    value="full", label="Output")
                upload_btn = gr.Button("Colorize", variant="primary", elem_id="upload-button")
            with gr.Column(scale=3):
                upload_out = result_panel("upload")
        model.change(functools.partial(vividness_slider, handlers.bank), [model], [vividness], **PRIVATE)
        wire(functools.partial(gr.on, [upload.upload, upload_btn.click]), handlers.colorize_upload,
             [upload, model, mode, vividness], upload_out, handlers)
