"""The Training tab: how each shipped model learned, across all its fine-tunes, in plain terms.

Each weights folder holds ``history.json`` (the per-epoch records of its last fine-tune, written by
``train.export``) and, for the shipped models, ``history_all.json`` (its whole history, rebuilt
from git by ``scripts/combine_history.py``). Epochs are counted from the very first one, so a
model's curve ends at the epoch count of its label. The original project's error table stands
beside the reproduction of its network (``seed_cnn``).
"""

import html
import json
import math
from pathlib import Path

import gradio as gr
import pandas as pd

from train.card import ORIGINAL_RESULTS
from webapp.widgets import PRIVATE

__all__ = ["training_tab", "read_history", "full_history", "psnr_frame", "line_colors", "legend_html", "model_frame",
           "stages_markdown", "original_markdown"]

LOSSES = {  # what each training loss asks of the network, for a person
    "mse_rgb": "true RGB colors (squared error), as the original",
    "mse_cbcr": "true colors (squared error)",
    "psnr_rgb": "highest PSNR",
    "ce_bins": "the likeliest of 180 shades per spot (cross-entropy)",
}
DATA_SETS = {"cifar10": "CIFAR-10", "linnaeus5": "Linnaeus 5"}  # test-set names as people write them
# Line colors of the all-models chart, in the bank's order: the first (the default) in the theme's orange.
PALETTE = ["#ea580c", "#2563eb", "#16a34a", "#9333ea", "#0891b2", "#db2777", "#64748b", "#ca8a04"]


def _read(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def read_history(folder):
    """The per-epoch records of a weights folder's last run (a list of dicts), [] when there are none."""
    data = _read(Path(folder) / "history.json")
    epochs = data.get("epochs", []) if isinstance(data, dict) else data or []
    return [e for e in epochs if isinstance(e, dict) and isinstance(e.get("epoch"), int)]


def _number(value):
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def full_history(folder, config):
    """(stages, records) of a model's whole training, epochs counted from its first.

    ``history_all.json`` when it reaches the config's epoch count; when the model was fine-tuned
    again since, its last run is added after the stages the file holds; without the file, the
    last run alone, after one stage whose records are not at hand."""
    epochs = config.get("epochs") if isinstance(config.get("epochs"), int) else None
    data = _read(Path(folder) / "history_all.json")
    stages, records = ([], []) if not isinstance(data, dict) else (list(data.get("stages", [])), list(data.get("records", [])))
    done = stages[-1]["last_epoch"] if stages else 0
    if epochs is not None and done == epochs:
        return stages, records
    last = read_history(folder)
    start = (epochs - len(last)) if epochs is not None else done
    if start < done:  # the file and the folder disagree: trust the folder's last run
        stages, records, done = [], [], 0
    if start > done:
        # Epochs before the last run that are another shipped model's (the bin network started from
        # weights/chroma_unet_hints): that model's tab holds them, under its own name.
        base = config.get("fine_tuned_from") or {}
        shipped_base = str(base.get("path", "")).startswith("weights/") and base.get("epochs") == start
        stages.append({"first_epoch": done + 1, "last_epoch": start, "loss": base.get("loss") if shipped_base else None,
                       "recorded": False, "shipped_base": shipped_base, "metrics": {}})
    train_config = config.get("train_config", {})
    if last:
        stages.append({"first_epoch": start + 1, "last_epoch": start + len(last), "loss": train_config.get("loss"),
                       "colorfulness_weight": train_config.get("colorfulness_weight", 0.0), "recorded": True,
                       "metrics": {"val_psnr": config.get("metrics", {}).get("val_psnr"),
                                   "test": {Path(k).name.split(".")[0]: v for k, v in (config.get("metrics", {}).get("evaluation") or {}).items()}}})
        records += [{**r, "epoch": start + r["epoch"]} for r in last]
    return stages, records


def psnr_frame(bank):
    """Long table (epoch, validation PSNR, model) of every model's whole history, for one LinePlot."""
    rows = []
    for name in bank.ordered():
        for record in full_history(bank.folders[name], bank.configs[name])[1]:
            value = _number(record.get("val_psnr"))
            if value is not None:
                rows.append({"epoch": record["epoch"], "validation PSNR (dB)": value, "model": bank.label(name)})
    return pd.DataFrame(rows, columns=["epoch", "validation PSNR (dB)", "model"])


def line_colors(frame):
    """{model label: color} for the models in a :func:`psnr_frame`, in its order."""
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(dict.fromkeys(frame["model"]))}


def legend_html(colors):
    """The all-models chart's legend as HTML that wraps on a narrow screen (the chart's own legend
    is one row, cut off at a phone's width): a colored line and the label per model."""
    items = "".join(f'<span class="legend-item"><span class="legend-line" style="background: {color}"></span>'
                    f"{html.escape(label)}</span>" for label, color in colors.items())
    return f'<div class="plot-legend">{items}</div>'


def model_frame(folder, config):
    """Table (epoch, validation PSNR (dB), error per image) of one model's whole history; the error
    is the mean squared error of a validation image's RGB in 0..1."""
    rows = [{"epoch": r["epoch"], "validation PSNR (dB)": _number(r.get("val_psnr")), "error per image": _number(r.get("val_mse"))}
            for r in full_history(folder, config)[1]]
    return pd.DataFrame(rows, columns=["epoch", "validation PSNR (dB)", "error per image"])


def _aim(stage):
    aim = LOSSES.get(stage.get("loss"), f"loss `{stage.get('loss')}`" if stage.get("loss") else "not recorded")
    if stage.get("colorfulness_weight"):
        aim += " + vivid colors"
    return aim


def _data_set(source):
    """'cifar10-images' -> 'CIFAR-10' (the archive's name before its first dash, as people write it)."""
    name = source.split("-")[0]
    return DATA_SETS.get(name, name)


def stages_markdown(folder, config):
    """One row per training stage: its epochs, what it aimed at, the validation PSNR and the test
    colorfulness measured when it was exported, and its mean training loss per image."""
    stages, records = full_history(folder, config)
    by_epoch = {r["epoch"]: r for r in records}
    rows = ["| epochs | aimed at | validation PSNR at the end (app) | colorfulness, test images (true ones) | mean training loss per image at the end |",
            "| --- | --- | ---: | --- | ---: |"]
    for stage in stages:
        span = f"{stage['first_epoch']}–{stage['last_epoch']}"
        if not stage.get("recorded"):
            note = "(the model it was fine-tuned from: pick that one above)" if stage.get("shipped_base") else "(an unshipped run: records not kept)"
            rows.append(f"| {span} | {_aim(stage)} | – | – | {note} |")
            continue
        metrics = stage.get("metrics") or {}
        psnr = _number(metrics.get("val_psnr"))
        tests = metrics.get("test") or {}
        colorful = "; ".join(f"{_data_set(name)} {row['colorfulness']:.1f} ({row['colorfulness_original']:.1f})"
                             for name, row in tests.items() if _number(row.get("colorfulness")) is not None
                             and _number(row.get("colorfulness_original")) is not None)
        last = by_epoch.get(stage["last_epoch"], {})
        loss = _number(last.get("train_loss"))
        if loss is None:
            loss_text = "–"
        elif stage.get("loss") == "psnr_rgb":  # the loss is minus PSNR (plus the vividness term): say it as a score
            loss_text = f"score {-loss:.2f} dB" + (" (PSNR less a dullness penalty)" if stage.get("colorfulness_weight") else " (PSNR)")
        else:
            loss_text = f"{loss:.5f}"
        rows.append(f"| {span} | {_aim(stage)} | {'–' if psnr is None else f'{psnr:.2f} dB'} | {colorful or '–'} | {loss_text} |")
    return "\n".join(rows)


def original_markdown(bank):
    """The original project's reported errors beside this project's reproductions of its network
    (errors in the original's scale: the sum over an epoch's batches of the per-batch MSE)."""
    rows = ["| run | epochs | train error | validation error |", "| --- | ---: | ---: | ---: |"]
    for name in bank.ordered():
        config = bank.configs[name]
        arch = config["architecture"]["name"]
        if arch not in ORIGINAL_RESULTS or not config.get("train_config", {}).get("loss", "mse_rgb").startswith("mse"):
            continue
        last = (read_history(bank.folders[name]) or [{}])[-1]
        train, val = _number(last.get("train_loss_sum")), _number(last.get("val_loss_sum"))
        if train is None or val is None:
            continue
        rows.append(f"| **{bank.title(name)}**, here | {config.get('epochs', '–')} | {train:.4f} | {val:.4f} |")
        rows += [f"| original project: {label} | | {tr} | {va} |" for label, tr, va in ORIGINAL_RESULTS[arch]]
    return "\n".join(rows) if len(rows) > 2 else ""


def training_tab(bank):
    with gr.Tab("Training", id="training"):
        gr.Markdown("How each model learned. An **epoch** is one pass over the 54,800 training pictures (the later "
                    "fine-tunes draw a fresh part of them, and crops of larger pictures, each epoch). After each, the "
                    "model colored pictures it never trains on (11,600; 1,000 of them in the later fine-tunes, so a "
                    "curve can step where one begins): **validation PSNR** says how close its "
                    "colors came (higher is better) and the **error per image** how far off they were (lower is "
                    "better). Curves span every fine-tune, from the first epoch. (During training PSNR is measured on the "
                    "network's own small output; the app then keeps your picture's full-size brightness, which scores "
                    "higher: the tables give those end results.)")
        every_model = psnr_frame(bank)
        colors = line_colors(every_model)
        gr.LinePlot(every_model, x="epoch", y="validation PSNR (dB)", color="model", color_map=colors, colors_in_legend=[],
                    elem_id="training-psnr", title="Validation PSNR, every model", height=340)
        gr.HTML(legend_html(colors), elem_id="training-legend", js_on_load=None)
        curve_model = gr.Dropdown(choices=bank.choices(), value=bank.default, label="One model in detail", elem_id="training-model")
        default = bank.default
        frame = model_frame(bank.folders[default], bank.configs[default])
        with gr.Row():
            psnr_plot = gr.LinePlot(frame, x="epoch", y="validation PSNR (dB)", elem_id="training-model-psnr",
                                    title="PSNR, dB (higher is better)", height=300, min_width=300)
            loss_plot = gr.LinePlot(frame, x="epoch", y="error per image", elem_id="training-loss",
                                    title="Error per image (lower is better)", height=300, min_width=300)
        stages = gr.Markdown(stages_markdown(bank.folders[default], bank.configs[default]), elem_id="training-stages")
        original = original_markdown(bank)
        if original:
            gr.Markdown("### The original project\nIts reported errors (the sum over an epoch's batches of the per-batch "
                        "squared error, so they grow with the number of batches: here 548 and 116, there 560 and 120) "
                        "beside the reproduction of its network, trained here on this CPU for far fewer epochs.\n\n"
                        + original, elem_id="training-original")

        def show(name):
            frame = model_frame(bank.folders[name], bank.configs[name])
            return frame, frame, stages_markdown(bank.folders[name], bank.configs[name])

        curve_model.change(show, [curve_model], [psnr_plot, loss_plot, stages], **PRIVATE)
