"""Components every tab uses: the raw upload box, the result image and the result panel."""

import io
import types
from pathlib import Path

import gradio as gr
from gradio.processing_utils import hash_bytes
from PIL import Image

from webapp.guard import raw_source

__all__ = ["raw_image", "image_out", "result_panel", "fast_png", "png_file", "wire", "quiet", "PRIVATE"]

PRIVATE = {"api_visibility": "undocumented"}  # UI events: not part of the documented API


def quiet(state):
    """Event options that put the event's status on ``state`` (a ``gr.State``, never drawn)
    instead of its outputs: Gradio turns every output of a failed event into a red "Error" badge
    that stays (``show_progress="hidden"`` does not stop it); the toast already says what went
    wrong, and results take well under a second."""
    return {**PRIVATE, "show_progress": "hidden", "show_progress_on": [state]}


def _raw_preprocess(self, payload):
    """Preprocess of :func:`raw_image`: the uploaded file's path, or the bytes of base64 data."""
    return raw_source(payload)


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


# zlib level 1 instead of PIL's default 6: a 512x512 result encodes in 16 ms instead of 67 ms
# (measured on the 2-core CPU) for 20% more bytes; each response carries three to six images.
PNG_LEVEL = 1


def png_file(image, cache_dir):
    """The PIL image as a PNG in Gradio's cache folder ``cache_dir`` (laid out as Gradio lays it
    out, so it is served and cleaned up like its own files); returns the path. An image shown
    twice in one response (result box and slider) is encoded once."""
    if getattr(image, "_png_file", None):
        return image._png_file
    data = io.BytesIO()
    image.save(data, "png", compress_level=PNG_LEVEL)
    folder = Path(cache_dir) / hash_bytes(data.getvalue())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "image.png"
    if not path.exists():
        path.write_bytes(data.getvalue())
    image._png_file = str(path)
    return image._png_file


def _as_files(value, cache_dir):
    """``value`` with every PIL image in it (alone, or in tuples and lists) replaced by its PNG file."""
    if isinstance(value, Image.Image):
        return png_file(value, cache_dir)
    if isinstance(value, (tuple, list)):
        return type(value)(_as_files(v, cache_dir) for v in value)
    return value


def fast_png(component):
    """``component`` (an Image, ImageSlider or Gallery) writing its PIL images with :func:`png_file`.
    (An instance override, as in :func:`raw_image`.)"""
    postprocess = component.postprocess
    component.postprocess = lambda value: postprocess(_as_files(value, component.GRADIO_CACHE))
    return component


def image_out(label, elem_id, height=300, **kwargs):
    """A result image: PNG (fast level), download and full-screen buttons."""
    return fast_png(gr.Image(label=label, format="png", type="pil", interactive=False, height=height, elem_id=elem_id,
                             buttons=["download", "fullscreen"], elem_classes=["pixelated", "result-image"], **kwargs))


def result_panel(tab):
    """The outputs every colorize action fills: (colorized, original, slider, summary, kept
    result), then (numbers, kept result) filled by a second step (see ``Handlers.numbers``);
    element ids ``<tab>-colorized`` etc. (the browser tests find them by these)."""
    with gr.Row(equal_height=True, elem_classes="result-row"):
        colorized = image_out("Colorized", f"{tab}-colorized", height=None)
        original = image_out("True colors", f"{tab}-original", height=None, visible=False)
    summary = gr.Markdown(elem_id=f"{tab}-summary")
    slider = fast_png(gr.ImageSlider(label="Before / after: drag the bar", format="png", type="pil", interactive=False,
                                     max_height=520, elem_classes=["pixelated", "result-slider"], elem_id=f"{tab}-slider"))
    with gr.Accordion("Numbers", open=False, elem_id=f"{tab}-numbers"):
        metrics = gr.Markdown(elem_id=f"{tab}-metrics")
    kept = gr.State()
    return [colorized, original, slider, summary, kept], [metrics, kept]


def wire(event, fn, inputs, panel, handlers):
    """Run ``fn`` on ``event`` (a listener such as ``button.click``) into a :func:`result_panel`,
    then fill its numbers."""
    shown, numbers = panel
    return event(fn, inputs, shown, **quiet(shown[-1])).success(handlers.numbers, [shown[-1]], numbers, **quiet(shown[-1]))
