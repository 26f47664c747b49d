"""The model bank (load once, cache) and the handlers behind the Upload, Sketch, Examples and
Compare tabs and the ``/colorize`` endpoint.

Handlers take what the UI components give (file paths, sketch dicts, dropdown values) and
return what they show; anything a user did wrong becomes a one-line ``gr.Error``. The library
does all image work: ``colorizer.open_image`` decodes (after its header size check) and
``Colorizer.colorize`` colorizes. Training tables live in ``webapp/training.py``.
"""

import functools
import json
import logging
import threading
import time
from pathlib import Path

import gradio as gr
import numpy as np

import colorizer
from colorizer.hub import hub_repo, model_folders
from colorizer.images import is_gray
from colorizer.metrics import colorfulness, psnr, ssim
from colorizer.panel import make_panel
from colorizer.sketch import split_drawing
from webapp.guard import EDITOR_MAX_PIXELS, user_error

__all__ = ["ModelBank", "Handlers", "load_examples", "user_errors", "fast_png", "EXAMPLES_DIR"]

log = logging.getLogger("webapp")
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"


def user_errors(fn):
    """Turn the library's input errors into ``gr.Error`` (shown to the user; the server goes on),
    each logged as one line (:func:`webapp.guard.user_error`); other exceptions are bugs and
    keep their traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error as e:
            if not e.print_exception:  # made by user_error: logged already
                raise
            raise user_error(e.message) from None
        except (colorizer.ImageInputError, colorizer.WeightsError, ValueError) as e:
            raise user_error(e) from None

    return wrapper


class ModelBank:
    """Every available model (bundled ``weights/`` plus an optional Hub repo), loaded on first use
    and then kept. ``folders``: {name: weights folder}, default :func:`colorizer.hub.model_folders`."""

    def __init__(self, folders=None):
        self.folders = dict(model_folders() if folders is None else folders)
        if not self.folders:
            raise colorizer.WeightsError(f"no weights found in {colorizer.weights_dir()} (nor on the Hub)")
        self.configs = {name: colorizer.read_config(folder) for name, folder in self.folders.items()}
        only_bundled = folders is None and not hub_repo() and set(self.folders) == set(colorizer.shipped_models())
        self.default = colorizer.default_model_name() if only_bundled else colorizer.best_model_name(self.configs)
        self._cache, self._lock = {}, threading.Lock()
        while True:  # a default whose tensors do not load is dropped (with a warning), not fatal
            try:
                self.get()
                break
            except colorizer.WeightsError as e:
                log.warning("skipping model %s: %s", self.default, e)
                del self.folders[self.default], self.configs[self.default]
                if not self.folders:
                    raise
                self.default = colorizer.best_model_name(self.configs)

    def warm_up(self):
        """Load the default model and run it once, so the first request is as fast as the rest."""
        self.get().colorize(np.full((64, 64), 128, np.uint8))

    def label(self, name):
        """'seed_cnn · 2000 epochs · val PSNR 23.10 dB' from the model's config."""
        config = self.configs[name]
        parts = [name]
        if isinstance(config.get("epochs"), int):
            parts.append(f"{config['epochs']} epochs")
        val_psnr = config.get("metrics", {}).get("val_psnr")
        if isinstance(val_psnr, (int, float)):
            parts.append(f"val PSNR {val_psnr:.2f} dB")
        return " · ".join(parts)

    def choices(self):
        """Dropdown choices (label, name), best model first."""
        names = [self.default] + [n for n in sorted(self.folders) if n != self.default]
        return [(self.label(n), n) for n in names]

    def get(self, name=None):
        """The cached :class:`colorizer.Colorizer` for ``name`` (default: the best model)."""
        name = name or self.default
        if name not in self.folders:
            raise colorizer.WeightsError(f"no model named {name!r}; available: {', '.join(sorted(self.folders))}")
        with self._lock:
            if name not in self._cache:
                model = colorizer.load(self.folders[name])
                model.name = name
                self._cache[name] = model
            return self._cache[name]


def fast_png(image):
    """``image`` (or None) marked for PNG compression level 1 when Gradio saves it: on a 512 x 512
    photo 5x faster than the default level 6 (the largest part of a request's server time after
    the network, scripts/load_test.py --profile) for a file 20% larger. Pillow merges an image's
    ``encoderinfo`` into the options of ``save``; tests/test_app_hardening.py checks the
    served file's zlib level, so a Pillow that stops doing so is noticed."""
    if image is not None:
        image.encoderinfo = {**getattr(image, "encoderinfo", {}), "compress_level": 1}
    return image


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


def _fmt(value, pattern):
    return "–" if value is None else pattern.format(value)


def metrics_markdown(model, seconds, size, output, gray, original=None):
    """The numbers shown beside the pictures: PSNR and SSIM of the output and of the gray
    baseline against the original (when there is one), and colorfulness."""
    head = f"**{model}** · {size[0]}×{size[1]} px · {seconds * 1000:.0f} ms"
    out, gray3 = _as_rgb_array(output), _as_rgb_array(gray)
    if original is None:
        return f"{head}\n\nNo color original to compare with. Colorfulness of the output: {colorfulness(out):.1f}."
    orig = _as_rgb_array(original)
    crop = " (central crop)" if max(size) > SSIM_MAX_SIDE else ""
    rows = [
        f"| against the original | PSNR ↑ | SSIM{crop} ↑ | colorfulness |",
        "| --- | ---: | ---: | ---: |",
        f"| **colorized** | **{psnr(out, orig):.2f} dB** | **{_fmt(_ssim(out, orig), '{:.3f}')}** | {colorfulness(out):.1f} |",
        f"| gray baseline | {psnr(gray3, orig):.2f} dB | {_fmt(_ssim(gray3, orig), '{:.3f}')} | {colorfulness(gray3):.1f} |",
        f"| original | | | {colorfulness(orig):.1f} |",
    ]
    return head + "\n\n" + "\n".join(rows)


class Handlers:
    """The functions behind the UI; each returns the values of its output components."""

    def __init__(self, bank, examples=None):
        self.bank = bank
        self.examples = load_examples() if examples is None else examples

    def run(self, source, model_name=None, mode="full"):
        """Colorize one input -> dict(colorized, gray, original or None, seconds, model, size).

        source: a file path, PIL image or array; color input is made gray with the original's
        formula and kept as the reference."""
        if source is None:
            raise gr.Error("Upload an image, draw a sketch or pick an example first.")
        model = self.bank.get(model_name)
        image = colorizer.open_image(source)
        original = None if is_gray(image) else image.convert("RGB")
        gray = image.convert("L") if original is None else colorizer.to_gray(original)
        start = time.perf_counter()
        colorized = model.colorize(gray if original is None else original, mode=mode or "full")
        seconds = time.perf_counter() - start
        return {"colorized": fast_png(colorized), "gray": fast_png(gray), "original": fast_png(original), "seconds": seconds,
                "model": model.name, "size": image.size}

    def run_sketch(self, image, model_name=None):
        """A drawing (gray pen lines and color dabs on one canvas, PIL) -> the ``run`` dict, its
        regions filled with their dabs' colors (sketch mode); "gray" is the drawing's lines."""
        model = self.bank.get(model_name)
        drawing, dabs = split_drawing(np.asarray(image.convert("RGB")))
        start = time.perf_counter()
        colorized = model.colorize(drawing, mode="sketch", hints=dabs)
        return {"colorized": fast_png(colorized), "gray": fast_png(drawing), "original": None, "seconds": time.perf_counter() - start,
                "model": f"{model.name} (sketch mode)", "size": image.size}

    def _view(self, result):
        """(colorized, gray, original, slider, metrics) for a result panel."""
        original = result["original"]
        text = metrics_markdown(result["model"], result["seconds"], result["size"], result["colorized"],
                                result["gray"], original)
        return (result["colorized"], result["gray"], gr.update(value=original, visible=original is not None),
                (result["gray"], result["colorized"]), text)

    @user_errors
    def colorize_upload(self, path, model_name, mode="full"):
        """Upload tab: a file path -> result panel values."""
        return self._view(self.run(path, model_name, mode))

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
        """Compare tab: one input through every model -> (gallery items, metrics table markdown,
        one side-by-side panel image of them all)."""
        if path is None:
            raise gr.Error("Upload an image or pick an example first.")
        image = colorizer.open_image(path, limit=COMPARE_MAX_PIXELS)
        results = [self.run(image, name) for _, name in self.bank.choices()]
        first = results[0]
        items = [(first["gray"], "gray input")]
        rows = ["| model | PSNR ↑ | SSIM ↑ | colorfulness | time |", "| --- | ---: | ---: | ---: | ---: |"]
        for r in results:
            out = _as_rgb_array(r["colorized"])
            if first["original"] is not None:
                orig = _as_rgb_array(first["original"])
                p, s = psnr(out, orig), _fmt(_ssim(out, orig), "{:.3f}")
                items.append((r["colorized"], f"{r['model']} · {p:.2f} dB"))
                rows.append(f"| {self.bank.label(r['model'])} | {p:.2f} dB | {s} | {colorfulness(out):.1f} | {r['seconds'] * 1000:.0f} ms |")
            else:
                items.append((r["colorized"], r["model"]))
                rows.append(f"| {self.bank.label(r['model'])} | | | {colorfulness(out):.1f} | {r['seconds'] * 1000:.0f} ms |")
        if first["original"] is not None:
            orig = _as_rgb_array(first["original"])
            gray3 = _as_rgb_array(first["gray"])
            rows.append(f"| gray baseline | {psnr(gray3, orig):.2f} dB | {_fmt(_ssim(gray3, orig), '{:.3f}')} | {colorfulness(gray3):.1f} | |")
            items.append((first["original"], "original"))
        return items, "\n".join(rows), make_panel([image for image, _ in items])
