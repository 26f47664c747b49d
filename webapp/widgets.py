"""Components every tab uses: the raw upload box, the result image and the result panel."""

import base64
import binascii
import types

import gradio as gr

__all__ = ["raw_image", "image_out", "result_panel", "PRIVATE"]

PRIVATE = {"api_visibility": "undocumented"}  # UI events: not part of the documented API


def _raw_preprocess(self, payload):
    """Preprocess of :func:`raw_image`: the uploaded file's path, or the bytes of base64 data."""
    if payload is None:
        return None
    if (payload.url or "").startswith("data:"):  # base64 from an API call
        try:
            return base64.b64decode(payload.url.partition(",")[2], validate=True)
        except binascii.Error:
            raise gr.Error("the image is not valid base64 data") from None
    return None if payload.path is None else str(payload.path)


def raw_image(**kwargs):
    """A ``gr.Image`` upload that hands over the file's path untouched.

    Plain ``gr.Image`` opens every upload with PIL first, so a decompression bomb or a corrupt
    file fails inside Gradio with a generic error; here ``colorizer.open_image`` sees the file
    first, checks the header size and reports a clear message. (An instance override, not a
    subclass: Gradio writes a ``.pyi`` stub next to any module that subclasses a component.)
    """
    image = gr.Image(type="filepath", **kwargs)
    image.preprocess = types.MethodType(_raw_preprocess, image)
    return image


def image_out(label, elem_id, height=300, **kwargs):
    return gr.Image(label=label, format="png", type="pil", interactive=False, height=height, elem_id=elem_id,
                    buttons=["download", "fullscreen"], elem_classes=["pixelated", "result-image"], **kwargs)


def result_panel(tab):
    """The outputs every colorize action fills: (colorized, gray, original, slider, metrics);
    element ids ``<tab>-colorized`` etc. (the browser tests find them by these)."""
    with gr.Row(equal_height=True):
        gray = image_out("Gray input", f"{tab}-gray")
        colorized = image_out("Colorized", f"{tab}-colorized")
        original = image_out("Original", f"{tab}-original", visible=False)
    slider = gr.ImageSlider(label="Before / after (drag)", format="png", type="pil", interactive=False,
                            max_height=420, elem_classes="pixelated", elem_id=f"{tab}-slider")
    metrics = gr.Markdown(elem_id=f"{tab}-metrics")
    return [colorized, gray, original, slider, metrics]
