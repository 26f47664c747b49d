"""The model bank (load once, cache) and the handlers behind the Upload, Sketch, Examples and
Compare tabs and the ``/colorize`` endpoint.

Handlers take what the UI components give (file paths, sketch dicts, dropdown values) and
return what they show; anything a user did wrong becomes a one-line ``gr.Error``. The library
does all image work: ``colorizer.open_image`` decodes (after its header size check) and
``Colorizer.colorize`` colorizes. Training tables live in ``webapp/training.py``.
"""

import functools
import json
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

__all__ = ["ModelBank", "Handlers", "load_examples", "user_errors", "EXAMPLES_DIR"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"


def user_errors(fn):
    """Turn the library's input errors into ``gr.Error`` (shown to the user; the server goes on)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (colorizer.ImageInputError, colorizer.WeightsError, ValueError) as e:
            raise gr.Error(str(e)) from None

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


def load_examples(folder=EXAMPLES_DIR):
    """[(path, caption)] of the built-in examples, in the order of ``examples.json``."""
    index = Path(folder) / "examples.json"
    if index.is_file():
        items = json.loads(index.read_text())["examples"]
        return [(str(Path(folder) / e["file"]), e["label"]) for e in items]
    return [(str(p), p.stem) for p in sorted(Path(folder).glob("*.png"))]


def _as_rgb_array(image):
    return np.asarray(image.convert("RGB"))


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
        return {"colorized": colorized, "gray": gray, "original": original, "seconds": seconds,
                "model": model.name, "size": image.size}

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
        """Sketch tab: the Sketchpad's value (a dict with an RGBA 'composite') -> result panel values.
        Transparent canvas is white paper."""
        composite = sketch.get("composite") if isinstance(sketch, dict) else sketch
        array = None if composite is None else np.asarray(composite)
        if array is not None and array.ndim == 3 and array.shape[-1] == 4 and array.dtype == np.uint8:
            alpha = array[..., 3:].astype(np.float32) / 255.0
            array = np.rint(array[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
        if array is None or (array.ndim >= 2 and array.size and array.min() == array.max()):
            raise gr.Error("Draw something first: the canvas is empty.")
        return self._view(self.run(colorizer.open_image(array), model_name))

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
        results = [self.run(path, name) for _, name in self.bank.choices()]
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
