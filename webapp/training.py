"""The app's Training tab data: loss curves and the error table of each model, read from the
``history.json`` and ``config.json`` that ``train.export`` writes into every weights folder.

Errors are in the original project's scale: the sum over an epoch's batches of the per-batch
loss (MSE for the seed networks), so they grow with the number of batches.
"""

import json
import math
from pathlib import Path

import gradio as gr
import pandas as pd

from webapp.widgets import PRIVATE

__all__ = ["training_tab", "read_history", "loss_frame", "psnr_frame", "error_table"]


def read_history(folder):
    """The per-epoch records of a weights folder (a list of dicts), [] when there are none."""
    try:
        data = json.loads((Path(folder) / "history.json").read_text())
    except (OSError, ValueError):
        return []
    epochs = data.get("epochs", []) if isinstance(data, dict) else data
    return [e for e in epochs if isinstance(e, dict) and isinstance(e.get("epoch"), int)]


def _number(value):
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def loss_frame(folder):
    """Long table (epoch, error, split) of one model's training and validation error, for a LinePlot."""
    rows = []
    for record in read_history(folder):
        for key, split in (("train_loss_sum", "train"), ("val_loss_sum", "validation")):
            value = _number(record.get(key))
            if value is not None:
                rows.append({"epoch": record["epoch"], "error": value, "split": split})
    return pd.DataFrame(rows, columns=["epoch", "error", "split"])


def psnr_frame(folders):
    """Long table (epoch, PSNR, model) of every model's validation PSNR per epoch."""
    rows = []
    for name, folder in folders.items():
        for record in read_history(folder):
            value = _number(record.get("val_psnr"))
            if value is not None:
                rows.append({"epoch": record["epoch"], "val PSNR (dB)": value, "model": name})
    return pd.DataFrame(rows, columns=["epoch", "val PSNR (dB)", "model"])


def _fmt(value, digits=4, unit=""):
    value = _number(value)
    return "" if value is None else f"{value:.{digits}f}{unit}"


def _pooled(evaluation, key):
    """Image-weighted mean of ``key`` over an evaluation's sources ({source: row})."""
    rows = [r for r in (evaluation or {}).values() if isinstance(r, dict) and _number(r.get(key)) is not None]
    n = sum(r.get("images", 1) for r in rows)
    return sum(r[key] * r.get("images", 1) for r in rows) / n if n else None


def error_table(folders, configs):
    """One row per model: final train/validation error (original scale), lowest validation error,
    validation MSE and PSNR, SSIM and the gray baseline from the exported evaluation."""
    rows = []
    for name in folders:
        config = configs[name]
        metrics = config.get("metrics", {})
        history = read_history(folders[name])
        last = history[-1] if history else {}
        best = min(history, key=lambda h: h.get("val_loss_sum", math.inf)) if history else {}
        evaluation = metrics.get("evaluation")
        rows.append({
            "model": name,
            "network": config["architecture"]["name"],
            "epochs": config.get("epochs", last.get("epoch", "")),
            "loss": config.get("train_config", {}).get("loss", ""),
            "final train error": _fmt(last.get("train_loss_sum", metrics.get("train_loss_sum"))),
            "final val error": _fmt(last.get("val_loss_sum", metrics.get("val_loss_sum"))),
            "lowest val error": (f"{_fmt(best['val_loss_sum'])} (epoch {best['epoch']})" if best.get("val_loss_sum") is not None else ""),
            "val MSE": _fmt(last.get("val_mse"), 5),
            "val PSNR": _fmt(metrics.get("val_psnr", last.get("val_psnr")), 2, " dB"),
            "SSIM": _fmt(_pooled(evaluation, "ssim"), 3),
            "gray PSNR": _fmt(_pooled(evaluation, "psnr_gray"), 2, " dB"),
        })
    return pd.DataFrame(rows)


def training_tab(bank):
    with gr.Tab("Training", id="training"):
        gr.Markdown("How each shipped model trained. Errors are in the original project's scale: the sum over an "
                    "epoch's batches of the per-batch loss (MSE for the seed networks).")
        gr.Dataframe(error_table(bank.folders, bank.configs), label="Final errors", interactive=False, wrap=True)
        with gr.Row():
            curve_model = gr.Dropdown(choices=bank.choices(), value=bank.default, label="Loss curves of", scale=1)
        with gr.Row():
            loss_plot = gr.LinePlot(elem_id="training-loss", value=loss_frame(bank.folders[bank.default]), x="epoch", y="error", color="split",
                                    title="Training and validation error per epoch", height=320)
            gr.LinePlot(psnr_frame(bank.folders), x="epoch", y="val PSNR (dB)", color="model",
                        title="Validation PSNR per epoch", height=320)
        curve_model.change(lambda name: loss_frame(bank.folders[name]), [curve_model], [loss_plot], **PRIVATE)
