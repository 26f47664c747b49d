"""The model bank: every available model, loaded on first use and kept, with the names and
numbers the app shows for it; and ``user_errors``, which turns the library's input errors into
one-line ``gr.Error`` messages. The handlers behind the tabs are in ``webapp/handlers.py``,
training tables in ``webapp/training.py``.
"""

import functools
import logging
import threading
from pathlib import Path

import gradio as gr
import numpy as np

import colorizer
from colorizer.hub import model_folders
from colorizer.weights import default_vividness
from train.card import read_blurb
from webapp.guard import user_error

__all__ = ["ModelBank", "user_errors"]

log = logging.getLogger("webapp")


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
        # What colorizer.default_model_name() picks for the bundled models, without reading every config again.
        self.default = colorizer.best_model_name(self.configs)
        self.blurbs = {name: read_blurb(folder) for name, folder in self.folders.items()}
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

    def title(self, name):
        """The model's plain-language name: its card's ``title``, else its id."""
        return self.blurbs[name].get("title", name)

    def label(self, name):
        """What a person picks: 'Best (default), 188 epochs', 'Original network, 15 epochs'."""
        epochs = self.configs[name].get("epochs")
        return (self.title(name) + (" (default)" if name == self.default else "")
                + (f", {epochs} epoch{'s' * (epochs != 1)}" if isinstance(epochs, int) else ""))

    def summary(self, name):
        """One line on the model: its card's ``summary``, else its network's name."""
        return self.blurbs[name].get("summary") or f"Network `{self.configs[name]['architecture']['name']}`."

    def vividness(self, name):
        """The model's default vividness (0 faithful .. 1 most vivid), or None for a model without
        the setting (``colorizer.weights.default_vividness``: bin networks, and regression networks
        given a ``vividness_gain``)."""
        return default_vividness(self.configs[name])

    def numbers(self):
        """Markdown table of every model's measured numbers (ids, epochs, validation and test PSNR
        against the gray baseline, colorfulness against the originals')."""
        rows = ["| model | id | epochs | validation PSNR | test PSNR (gray) | colorfulness (originals) |",
                "| --- | --- | ---: | ---: | --- | --- |"]
        for name in self.ordered():
            metrics = self.configs[name].get("metrics", {})
            tests = [(Path(source).name.split(".")[0].split("-")[0], row) for source, row in (metrics.get("evaluation") or {}).items()
                     if isinstance(row, dict)]
            test_psnr = "; ".join(f"{s} {_fmt(r.get('psnr'), '{:.2f}')} ({_fmt(r.get('psnr_gray'), '{:.2f}')})" for s, r in tests)
            colorful = "; ".join(f"{s} {_fmt(r.get('colorfulness'), '{:.1f}')} ({_fmt(r.get('colorfulness_original'), '{:.1f}')})"
                                 for s, r in tests)
            rows.append(f"| {self.title(name)} | `{name}` | {self.configs[name].get('epochs', '–')} | "
                        f"{_fmt(metrics.get('val_psnr'), '{:.2f} dB')} | {test_psnr or '–'} | {colorful or '–'} |")
        return "\n".join(rows)

    def ordered(self):
        """Model ids, the default first."""
        return [self.default] + [n for n in sorted(self.folders) if n != self.default]

    def choices(self):
        """Dropdown choices (label, name), the default first."""
        return [(self.label(n), n) for n in self.ordered()]

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


def _fmt(value, pattern):
    return "–" if value is None else pattern.format(value)
