"""The handlers behind the Upload, Sketch, Examples and Compare tabs and the ``/colorize`` endpoint.

Handlers take what the UI components give (file paths, sketch dicts, dropdown values) and
return what they show; anything a user did wrong becomes a one-line ``gr.Error``. The library
does all image work: ``colorizer.open_image`` decodes (after its header size check) and
``Colorizer.colorize`` colorizes.
"""

import json
import time
from pathlib import Path

import gradio as gr
import numpy as np

import colorizer
from colorizer.images import is_gray
from colorizer.metrics import colorfulness, psnr, ssim
from colorizer.panel import make_panel
from colorizer.sketch import split_drawing
from webapp.bank import _fmt, user_errors
from webapp.guard import EDITOR_MAX_PIXELS

__all__ = ["Handlers", "load_examples", "metrics_markdown", "EXAMPLES_DIR"]
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"


def load_examples(folder=EXAMPLES_DIR):
    """[(path, caption)] of the built-in examples, in the order of ``examples.json``."""
    index = Path(folder) / "examples.json"
    if index.is_file():
        items = json.loads(index.read_text())["examples"]
        return [(str(Path(folder) / e["file"]), e["label"]) for e in items]
    return [(str(p), p.stem) for p in sorted(Path(folder).glob("*.png"))]


def _as_rgb_array(image):
    return np.asarray(image.convert("RGB"))


# The Compare tab keeps every model's result and makes one panel of them all: at 2896 x 2896
# that peaked at +1.3 GB over idle, so it takes a quarter of the app's pixel limit (1024 x 1024:
# +568 MiB, four models).
COMPARE_MAX_PIXELS = 1024 * 1024
# Column header; the soft hyphen lets it break on a phone, where the table's last column was cut.
COLORFULNESS = "colorful\u00adness"
SSIM_MAX_SIDE = 1024  # SSIM costs ~2 s per megapixel: larger images are scored on a central crop


def _ssim(output, target):
    """SSIM (central ``SSIM_MAX_SIDE`` crop of big images), or None for images under 11 x 11."""
    h, w = target.shape[:2]
    top, left = max(0, (h - SSIM_MAX_SIDE) // 2), max(0, (w - SSIM_MAX_SIDE) // 2)
    crop = (slice(top, top + SSIM_MAX_SIDE), slice(left, left + SSIM_MAX_SIDE))
    try:
        return ssim(output[crop], target[crop])
    except ValueError:
        return None


def metrics_markdown(model, seconds, size, output, gray, original=None):
    """The Numbers section of a result: the model's id and time, PSNR and SSIM of the output and
    of the gray baseline against the original (when there is one), and colorfulness."""
    head = f"Model `{model}` · {size[0]}×{size[1]} px · {seconds * 1000:.0f} ms in the network and pipeline"
    out, gray3 = _as_rgb_array(output), _as_rgb_array(gray)
    if original is None:
        return f"{head}\n\nNo color original to compare with. Colorfulness of the output: {colorfulness(out):.1f}."
    orig = _as_rgb_array(original)
    crop = " (central crop)" if max(size) > SSIM_MAX_SIDE else ""
    rows = [
        f"| against the original | PSNR ↑ | SSIM{crop} ↑ | {COLORFULNESS} |",
        "| --- | ---: | ---: | ---: |",
        f"| **colorized** | **{psnr(out, orig):.2f} dB** | **{_fmt(_ssim(out, orig), '{:.3f}')}** | {colorfulness(out):.1f} |",
        f"| gray baseline | {psnr(gray3, orig):.2f} dB | {_fmt(_ssim(gray3, orig), '{:.3f}')} | {colorfulness(gray3):.1f} |",
        f"| original | | | {colorfulness(orig):.1f} |",
    ]
    return head + "\n\n" + "\n".join(rows) + "\n\nPSNR: how close the colors are to the original's (higher is closer); SSIM: how alike the structure is (1 is identical); colorfulness: how vivid (Hasler-Süsstrunk)."


class Handlers:
    """The functions behind the UI; each returns the values of its output components."""

    def __init__(self, bank, examples=None):
        self.bank = bank
        self.examples = load_examples() if examples is None else examples

    def run(self, source, model_name=None, mode="full", vividness=None):
        """Colorize one input -> dict(colorized, gray, original or None, seconds, model, size).

        source: a file path, PIL image or array; color input is made gray with the original's
        formula and kept as the reference. vividness: 0..1 or None for the model's default; models
        without the setting (:meth:`ModelBank.vividness`) get None (a hidden slider still sends one)."""
        if source is None:
            raise gr.Error("Upload an image, draw a sketch or pick an example first.")
        model = self.bank.get(model_name)
        image = colorizer.open_image(source)
        original = None if is_gray(image) else image.convert("RGB")
        gray = image.convert("L") if original is None else colorizer.to_gray(original)
        if self.bank.vividness(model.name) is None:
            vividness = None
        start = time.perf_counter()
        colorized = model.colorize(gray if original is None else original, mode=mode or "full", vividness=vividness)
        seconds = time.perf_counter() - start
        return {"colorized": colorized, "gray": gray, "original": original, "seconds": seconds,
                "model": model.name, "size": image.size}

    def run_sketch(self, image, model_name=None):
        """A drawing (gray pen lines and color dabs on one canvas, PIL) -> the ``run`` dict, its
        regions filled with their dabs' colors (sketch mode); "gray" is the drawing's lines."""
        model = self.bank.get(model_name)
        drawing, dabs = split_drawing(np.asarray(image.convert("RGB")))
        start = time.perf_counter()
        colorized = model.colorize(drawing, mode="sketch", hints=dabs)
        return {"colorized": colorized, "gray": drawing, "original": None, "seconds": time.perf_counter() - start,
                "model": model.name, "size": image.size}

    def _view(self, result):
        """(colorized, original, before/after pair, summary, result) for a result panel; the
        result goes to a ``gr.State`` that :meth:`numbers` reads after the pictures are shown (the
        numbers, SSIM above all, cost more than the colorization)."""
        original = result["original"]
        width, height = result["size"]
        summary = (f"**{self.bank.title(result['model'])}** colorized this {width}×{height} image in "
                   f"{result['seconds'] * 1000:.0f} ms. Drag the bar on the picture to compare with the gray input"
                   + ("; the true colors are beside it." if original is not None else "."))
        return (result["colorized"], gr.update(value=original, visible=original is not None),
                (result["gray"], result["colorized"]), summary, result)

    def numbers(self, result):
        """The Numbers section for a kept result -> (markdown, cleared state)."""
        if not result:
            return gr.skip(), None
        return metrics_markdown(result["model"], result["seconds"], result["size"], result["colorized"],
                                result["gray"], result["original"]), None

    @user_errors
    def colorize_upload(self, path, model_name, mode="full", vividness=None):
        """Upload tab: a file path (and the Vividness slider's value) -> result panel values."""
        return self._view(self.run(path, model_name, mode, vividness))

    @user_errors
    def colorize_api(self, image, model_name=None):
        """The public API endpoint: image -> (colorized image, info; PSNR of output and gray if color input)."""
        result = self.run(image, model_name)
        info = {"model": result["model"], "width": result["size"][0], "height": result["size"][1],
                "seconds": round(result["seconds"], 4)}
        if result["original"] is not None:
            out, orig = _as_rgb_array(result["colorized"]), _as_rgb_array(result["original"])
            gray3 = _as_rgb_array(result["gray"])
            info.update(psnr=psnr(out, orig), psnr_gray=psnr(gray3, orig))
        return result["colorized"], info

    @user_errors
    def colorize_sketch(self, sketch, model_name):
        """Sketch tab: the Sketchpad's value (a dict whose 'composite' is a file path, bytes or an
        RGBA array) -> result panel values. Transparent canvas is white paper."""
        composite = sketch.get("composite") if isinstance(sketch, dict) else sketch
        # A file path or bytes (webapp.guard.raw_editor), or an array: opened with the editors' limit.
        image = None if composite is None else colorizer.open_image(composite, limit=EDITOR_MAX_PIXELS)
        if image is None or np.ptp(np.asarray(image)) == 0:
            raise gr.Error("Draw something first: the canvas is empty.")
        return self._view(self.run_sketch(image, model_name))

    @user_errors
    def colorize_example(self, model_name, evt: gr.SelectData):
        """Examples tab: a click on the gallery -> result panel values."""
        return self.example(evt.index, model_name)

    @user_errors
    def example(self, index, model_name=None):
        if not 0 <= index < len(self.examples):
            raise gr.Error(f"no example number {index}")
        return self._view(self.run(self.examples[index][0], model_name))

    @user_errors
    def compare_models(self, path):
        """Compare tab, first step: one input through every model -> (gallery items (image,
        caption), table of PSNR, colorfulness and time, the results kept for
        :meth:`compare_numbers`)."""
        if path is None:
            raise gr.Error("Upload an image or pick an example first.")
        image = colorizer.open_image(path, limit=COMPARE_MAX_PIXELS)
        results = [self.run(image, name) for name in self.bank.ordered()]
        first = results[0]
        items = [(first["gray"], "gray input")]
        items += [(r["colorized"], self.bank.title(r["model"])) for r in results]
        if first["original"] is not None:
            items.append((first["original"], "original"))
        return items, self._compare_table(results), results

    def compare_numbers(self, results):
        """Compare tab, second step: (the table with SSIM added, one side-by-side picture of gray,
        every model and the original, cleared state)."""
        if not results:
            return gr.skip(), gr.skip(), None
        first = results[0]
        images = [first["gray"]] + [r["colorized"] for r in results] + [first["original"]] * (first["original"] is not None)
        return self._compare_table(results, with_ssim=True), make_panel(images), None

    def _compare_table(self, results, with_ssim=False):
        original = results[0]["original"]
        orig = None if original is None else _as_rgb_array(original)
        ssim_head = (" SSIM ↑ |", " ---: |") if with_ssim else ("", "")
        rows = [f"| model | PSNR ↑ |{ssim_head[0]} {COLORFULNESS} | time |", f"| --- | ---: |{ssim_head[1]} ---: | ---: |"]

        def row(label, image, ms="", scored=True):
            arr = _as_rgb_array(image)
            cells = ["", ""] if orig is None or not scored else [f"{psnr(arr, orig):.2f} dB", _fmt(_ssim(arr, orig), "{:.3f}") if with_ssim else ""]
            return f"| {label} | {cells[0]} |{f' {cells[1]} |' if with_ssim else ''} {colorfulness(arr):.1f} | {ms} |"

        rows += [row(self.bank.label(r["model"]), r["colorized"], f"{r['seconds'] * 1000:.0f} ms") for r in results]
        if orig is not None:
            rows.append(row("gray baseline", results[0]["gray"]))
            rows.append(row("original", original, scored=False))
        note = "" if with_ssim else "\n\n*SSIM follows in a moment.*"
        return "\n".join(rows) + note
