"""The Hints tab and the ``/colorize_hints`` endpoint: user-guided colorization.

The user paints strokes of color on the gray image in a ``gr.ImageEditor``; the painted layer
becomes an RGBA hint image of the input's size (transparent where nothing is painted) for
:meth:`colorizer.Colorizer.colorize`. The editor shows a *display copy* of the image (small
images enlarged by a whole factor, so pixels stay sharp and a brush size fits every image;
large ones shrunk, so the browser never handles megapixels); strokes are mapped back to the
image's own size, and the network sees them at its working resolution.

Hints need a network with hint inputs: the selected model if it takes them, else the bank's
best such model (validation PSNR, as :func:`colorizer.load` routes hinted calls).
"""

import math
import time
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

import colorizer
from webapp.bank import user_errors
from webapp.guard import EDITOR_MAX_PIXELS, raw_editor
from webapp.widgets import PRIVATE, image_out, quiet, raw_image
from colorizer.images import is_gray
from colorizer.metrics import psnr
from colorizer.shipped import takes_hints

__all__ = ["HintHandlers", "hints_tab", "hint_editor", "editor_value", "display_copy", "hint_image", "parse_hints_json"]

# Brush palette: colors things often have (the picker offers any other).
HINT_COLORS = ["#d62828", "#f77f00", "#fcbf49", "#2a9d3f", "#3a86ff", "#1d3f8f",
               "#8338ec", "#ff70a6", "#8d5524", "#e0ac69"]
DISPLAY_MIN, DISPLAY_MAX = 384, 768  # long side of the editor's display copy
HINT_ALPHA = 32  # painted coverage (of 255) from which a pixel is a hint: faint stroke edges are not
EXAMPLE_FILES = ("cifar10_cat_0265.png", "linnaeus5_flower_65.png", "linnaeus5_bird_88.png", "emoji_parrot.png",
                 "emoji_taxi.png")
NO_HINT_MODEL = ("**No installed model takes color hints**, so this tab can only show the automatic result. "
                 "Train one with `python -m train chroma_hints` and export it into `weights/`.")


def display_copy(image):
    """The image as the editor shows it: long side under 384 px enlarged by a whole factor
    (nearest pixel), over 768 px shrunk to 768; in between unchanged."""
    long_side = max(image.size)
    if long_side < DISPLAY_MIN:
        factor = math.ceil(DISPLAY_MIN / long_side)
        return image.resize((image.width * factor, image.height * factor), Image.Resampling.NEAREST)
    if long_side > DISPLAY_MAX:
        scale = DISPLAY_MAX / long_side
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        return image.resize(size, Image.Resampling.LANCZOS)
    return image


def _gray_and_original(source):
    """(gray, color original or None) of an opened image; color is made gray with the original's formula."""
    if is_gray(source):
        return source.convert("L"), None
    original = source.convert("RGB")
    return colorizer.to_gray(original), original


def editor_value(source):
    """The editor's value for the kept image ``source``: the gray display copy, no strokes
    (None before there is an image)."""
    if source is None:
        return None
    shown = display_copy(_gray_and_original(source)[0])
    return {"background": shown, "layers": [], "composite": shown}


def hint_editor(value):
    """The tab's ``gr.ImageEditor`` showing ``value``: a color brush (palette plus picker) and an
    eraser, no upload into it (images come in through the tab's upload box), no crop or resize;
    CSS class ``has-image`` once it shows an image."""
    return raw_editor(gr.ImageEditor(value=value, elem_id="hints-editor", elem_classes=[] if value is None else ["has-image"],
                          label="2 · Paint", type="numpy", interactive=True,
                          image_mode="RGBA", sources=(), transforms=(), layers=False, format="png", height=440,
                          brush=gr.Brush(colors=HINT_COLORS, default_color=HINT_COLORS[0], color_mode="defaults", default_size=12),
                          eraser=gr.Eraser(default_size=16)))


def hint_image(editor, size):
    """The editor's painted layers as an RGBA hint image of ``size`` (width, height), opaque where
    painted and transparent elsewhere; None when nothing is painted.

    Layers are composited in order and resized with area averaging (premultiplied, so a hint
    pixel carries the mean color painted over it); pixels painted less than ``HINT_ALPHA`` of
    255 are dropped, since a faint edge's exported color is too rounded to trust."""
    # File paths or bytes (webapp.guard.raw_editor), or arrays: opened with the editors' limit.
    layers = [colorizer.open_image(layer, limit=EDITOR_MAX_PIXELS, alpha=True)
              for layer in (editor or {}).get("layers") or [] if layer is not None]
    if not layers:
        return None
    width, height = layers[0].size
    painted = Image.new("RGBA", (width, height))
    for layer in layers:
        painted.alpha_composite(layer.resize((width, height)))
    hints = np.array(painted.resize(tuple(size), Image.Resampling.BOX))
    hints[..., 3] = np.where(hints[..., 3] >= HINT_ALPHA, 255, 0)
    return Image.fromarray(hints, "RGBA") if hints[..., 3].any() else None


def parse_hints_json(text):
    """``'[[x, y, [r, g, b]], ...]'`` -> the list (empty text: no hints). The library refuses
    text over its size limit unparsed, and checks the items (count, shape, range, NaN)."""
    if not (text or "").strip():
        return []
    value = colorizer.hints_from_json(text)
    if not isinstance(value, list):
        raise gr.Error("hints must be JSON like [[x, y, [r, g, b]], ...] (pixel column, row, 8-bit color)")
    return value


class HintHandlers:
    """The Hints tab's handlers and its API endpoint, on a :class:`webapp.bank.ModelBank`."""

    def __init__(self, bank):
        self.bank = bank
        self.hint_names = [name for name, config in bank.configs.items() if takes_hints(config)]

    def notice(self):
        """Markdown for the top of the tab: how to use it, or why it cannot run."""
        if not self.hint_names:
            return NO_HINT_MODEL
        return ("Upload an image or pick an example, **paint a few strokes of color** where you know it "
                "(the palette button beside the canvas picks the color), then **Colorize with hints**. A stroke or two per region is enough: "
                "the network spreads each color over the region it belongs to, and the brightness stays your image's. "
                "Six or more strokes that agree on how the whole result is off (too pale, too warm) re-grade all of it.")

    def model_name_for(self, selected):
        """The model hints go to: ``selected`` if it takes them, else the best that does."""
        if selected in self.hint_names:
            return selected
        if not self.hint_names:
            raise gr.Error("No installed model takes color hints: train one with `python -m train chroma_hints`.")
        return colorizer.best_model_name({name: self.bank.configs[name] for name in self.hint_names})

    def _model_line(self, name, selected):
        """A line saying so when hints go to another model than the selected one (plain names)."""
        selected = selected or self.bank.default
        return "" if name == selected else (f"\n\n*{self.bank.title(selected)} takes no hints: using "
                                            f"**{self.bank.title(name)}**, the best model that does.*")

    @user_errors
    def load_image(self, image, model_name):
        """A new image (upload or example: a file path, or anything :func:`colorizer.open_image`
        takes) -> (kept source image, gray, automatic colorization, cleared hinted output,
        original (shown if color), notes)."""
        if image is None:  # the upload was cleared
            return (gr.skip(),) * 6
        source = colorizer.open_image(image)
        gray, original = _gray_and_original(source)
        name = self.model_name_for(model_name) if self.hint_names else (model_name or self.bank.default)
        automatic = self.bank.get(name).colorize(gray)
        notes = self.notice() if not self.hint_names else (
            f"**{self.bank.title(name)}** · {gray.width}×{gray.height} px · automatic result shown; now paint some color."
            + self._model_line(name, model_name))
        return source, gray, automatic, None, gr.update(value=original, visible=original is not None), notes

    @user_errors
    def colorize_with_hints(self, editor, source, model_name):
        """'Colorize with hints' -> (gray, automatic, with hints, original, notes with PSNRs
        against the original when the input was in color)."""
        if source is None:
            raise gr.Error("Upload an image or pick an example first.")
        gray, original = _gray_and_original(source)
        hints = hint_image(editor, gray.size)
        if hints is None:
            raise gr.Error("Paint some color on the image first: pick a color with the palette button and draw a stroke.")
        name = self.model_name_for(model_name)
        model = self.bank.get(name)
        automatic = model.colorize(gray)
        start = time.perf_counter()
        hinted = model.colorize(gray, hints=hints)
        seconds = time.perf_counter() - start
        count = int((np.asarray(hints)[..., 3] > 0).sum())
        notes = (f"**{self.bank.title(name)}** · {gray.width}×{gray.height} px · {count} hinted pixels · {seconds * 1000:.0f} ms"
                 + self._model_line(name, model_name))
        if original is not None:
            truth = np.asarray(original)
            notes += ("\n\n| against the original | PSNR ↑ |\n| --- | ---: |\n"
                      f"| automatic | {psnr(np.asarray(automatic), truth):.2f} dB |\n"
                      f"| **with hints** | **{psnr(np.asarray(hinted), truth):.2f} dB** |")
        return gray, automatic, hinted, gr.update(value=original, visible=original is not None), notes

    @user_errors
    def colorize_api(self, image, hints_json, model_name=None):
        """The ``/colorize_hints`` endpoint: (image, hints as JSON ``[[x, y, [r, g, b]], ...]`` in
        input pixels) -> the colorized image, the input's size."""
        if image is None:
            raise gr.Error("Give an image to colorize.")
        hints = parse_hints_json(hints_json)
        return self.bank.get(self.model_name_for(model_name)).colorize(image, hints=hints or None)


def hints_tab(demo, handlers, hint_handlers, model):
    with gr.Tab("Hints", id="hints"):
        gr.Markdown(hint_handlers.notice(), elem_id="hints-notice")
        hint_source = gr.State()  # the image being worked on (PIL, full size)
        hint_btn = gr.Button("Colorize with hints", variant="primary", elem_id="hints-button", scale=2, render=False)
        hint_clear = gr.Button("Clear hints", elem_id="hints-clear", scale=1, render=False)
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                hint_input = raw_image(elem_id="hints-input", label="1 · Your image", sources=["upload", "clipboard"], height=240,
                                       elem_classes="labelled")
                gr.Examples([[path] for path, _ in handlers.examples if Path(path).name in EXAMPLE_FILES],
                            [hint_input], label="or an example", **PRIVATE)
            with gr.Column(scale=2, min_width=300):
                # A fresh editor for each image and for "Clear hints": Gradio's editor misbehaves when
                # an event sets the value of one that was painted on (strokes land in the wrong place).
                @gr.render(inputs=[hint_source], triggers=[demo.load, hint_source.change, hint_clear.click])
                def hint_canvas(source):
                    editor = hint_editor(editor_value(source))
                    hint_btn.click(hint_handlers.colorize_with_hints, [editor, hint_source, model], hint_panel, **quiet(hint_source))

                with gr.Row():
                    hint_btn.render()
                    hint_clear.render()
        with gr.Row(equal_height=True, elem_classes="result-row"):
            hint_gray = image_out("Gray", "hints-gray", height=None, min_width=160)
            hint_auto = image_out("No hints", "hints-auto", height=None, min_width=160)
            hint_out = image_out("With hints", "hints-colorized", height=None, min_width=160)
            hint_original = image_out("True colors", "hints-original", height=None, visible=False, min_width=160)
        hint_notes = gr.Markdown(elem_id="hints-metrics")
        hint_panel = [hint_gray, hint_auto, hint_out, hint_original, hint_notes]
        hint_input.change(hint_handlers.load_image, [hint_input, model], [hint_source, *hint_panel], **PRIVATE)
