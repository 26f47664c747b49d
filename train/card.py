"""The model card (README.md) of an exported weights folder, from measured numbers only."""

from pathlib import Path

from colorizer.models import create_model
from colorizer.shipped import task_of

__all__ = ["model_card", "read_blurb", "ORIGINAL_RESULTS"]

# The original project's reported final errors (sum over batches of per-batch MSE), by run.
ORIGINAL_RESULTS = {
    "seed_cnn": [("final architecture, 2000 epochs (write-up)", 2.3465, 1.4805), ("same, notebook output at epoch 1999", 0.9208, 1.2817)],
    "seed_cnn_half": [("half-width initial architecture", 0.8541, 1.3706)],
    "seed_cnn_plateau": [("ReduceLROnPlateau, lr 1e-3", 2.8273, 1.3493)],
    "seed_unet": [("modified U-Net", 28.655, 6.707)],
}


BLURB_KEYS = ("title", "summary")  # plain-language name and one line, kept across re-exports


def read_blurb(folder):
    """{"title", "summary"} from the front matter of ``folder``'s README.md (the app shows them);
    keys the card lacks are absent."""
    try:
        text = (Path(folder) / "README.md").read_text(encoding="utf-8")
    except OSError:
        return {}
    head, sep, _ = text.removeprefix("---\n").partition("\n---\n")
    if not text.startswith("---\n") or not sep:
        return {}
    pairs = (line.partition(": ") for line in head.splitlines())
    return {key: value.strip() for key, _, value in pairs if key in BLURB_KEYS and value.strip()}


def _native_lines(history, limit):
    """The last epoch's native-size validation (train.native_val) as a table, with each row's best epoch."""
    native = [h for h in history if "native" in h]
    last = native[-1]
    lines = [
        "At the size people bring (the run's native-size validation: test pictures at their own size,"
        f" {f'at most {limit} a row' if limit else 'all of them'}, colorized through the pipeline at this model's"
        f" inference settings), epoch {last['epoch']}; the third panel above has every epoch:",
        "",
        "| row | PSNR dB | gray PSNR dB | colorfulness ratio | below gray | hue accuracy | highest PSNR (epoch) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row, m in last["native"].items():
        best = max((h for h in native if row in h["native"]), key=lambda h: h["native"][row]["psnr"])
        lines.append(f"| {row} | {m['psnr']:.2f} | {m['psnr_gray']:.2f} | {m['colorfulness_ratio']:.2f} | {m['below_gray']:.0%} |"
                     f" {m['hue_accuracy']:.1%} | {best['native'][row]['psnr']:.2f} ({best['epoch']}) |")
    return lines + [""]


def _original_key(config):
    name = config["architecture"]["name"]
    if name == "seed_cnn" and config.get("train_config", {}).get("scheduler") == "plateau":
        return "seed_cnn_plateau"
    return name


def _speed_lines(speed, history, config):
    """The run's measured wall time and rate, its precision check and the bench figures
    (``training_speed`` as train.seed_runs records it)."""
    tc = config.get("train_config", {})
    seconds = sum(h["seconds"] for h in history)
    steps = len(history) * -(-config["data"]["train_images"] // tc.get("batch_size", 100))
    planned = speed.get("planned_epochs", len(history))
    why = f"stopped early to leave the GPU to {speed['stopped_for']}" if speed.get("stopped_for") else "stopped at the time limit"
    stopped = f" of the planned {planned} ({why})" if planned > len(history) else ""
    beside = (f", at the same time as {' and '.join(speed['beside'])} (threads of one process, one CUDA stream each)"
              if speed.get("beside") else "")
    lines = [
        "### Wall time",
        "",
        f"Trained on {speed['device']} (torch {speed['torch']}), "
        + ("the loop's CUDA-graph path (train/cuda_graph.py)" if speed.get("cuda_graph") else "the eager loop")
        + f", {'TF32' if speed.get('tf32') else 'float32'} arithmetic{beside}: {len(history)} epochs{stopped} in"
        f" {seconds / 60:.1f} min (the epochs' own time, validation included), {steps / seconds:,.0f} steps/s,"
        f" {steps / seconds * tc.get('batch_size', 100):,.0f} training images/s.",
        "",
    ]
    check = speed.get("check") or {}
    if check.get("results"):
        found = ", ".join(f"{label} {r['val_loss_sum']:.4f}" for label, r in check["results"].items())
        lines += [f"Precision check, `seed_cnn` for {check['epochs']} epochs, validation error: {found}. TF32 is used only"
                  f" where it moves this error no more than another seed does ({check['seed_spread']:.4f}): it"
                  f" {'passed and was used' if check['tf32'] else 'was not used'}.", ""]
    if speed.get("float16_check"):
        f16 = speed["float16_check"]
        lines += [f"The weights came back from the training machine in float16: validation error {f16['float16']:.4f}, against"
                  f" {f16['float32']:.4f} with the float32 weights the run ended with.", ""]
    rows = [(speed["device"], label, b) for label, b in (speed.get("bench_gpu") or {}).items()]
    if speed.get("bench_cpu"):
        rows.append((f"CPU, {speed['bench_cpu']['threads']} threads (the export's machine)", "eager", speed["bench_cpu"]))
    if rows:
        lines += ["`python -m train.bench` (batch 100 of random 32x32 images; the GPU rows for `seed_cnn`, the CPU row"
                  " for this network), images per second:", "", "| device | path | training | validation |",
                  "| --- | --- | ---: | ---: |"]
        lines += [f"| {device} | {label}{' (TF32)' if b.get('tf32') else ''} | {b['train_images_per_s']:,.0f} |"
                  f" {b['val_images_per_s']:,.0f} |" for device, label, b in rows]
        lines.append("")
    return lines


def model_card(name, config, evaluation, history, grids, examples=None, blurb=None):
    """Markdown for ``weights/<name>/README.md``.

    blurb: {"title", "summary"} for the front matter (a person writes them once; export keeps
    those of the card it replaces, see :func:`read_blurb`).

    evaluation: {source file: {set: metrics row}} from ``train.evaluate.evaluate``;
    examples: {group: metrics row} for the app's example images, or None;
    history: the per-epoch records; grids: example-grid file names in the folder.
    """
    arch = config["architecture"]["name"]
    kwargs = config["architecture"].get("kwargs", {})
    parameters = sum(p.numel() for p in create_model(arch, **kwargs).parameters())
    tc = config.get("train_config", {})
    metrics = config.get("metrics", {})
    lines = [
        "---",
        "license: mit",
        "library_name: pytorch",
        "tags: [image-colorization, grayscale, safetensors]",
        *(f"{key}: {blurb[key]}" for key in BLURB_KEYS if (blurb or {}).get(key)),
        "---",
        "",
        f"# {name}",
        "",
        f"Network `{arch}`"
        + "".join(f" ({key} {value})" for key, value in kwargs.items())
        + f", {parameters:,} parameters, from the `colorizer` package, trained for **{config['epochs']} epochs**"
        f" on {', '.join(config['data']['sources'])} ({config['data'].get('train_images', '?')} training and"
        f" {config['data'].get('val_images', '?')} validation images, {tc.get('image_size', 32)} px)"
        + (f", plus random crops shown at {tc.get('extra_size') or tc.get('image_size', 32)} px from"
           f" {', '.join(Path(p).name for p in tc['extra_train_data'])}" if tc.get("extra_train_data") else "")
        + (f"; each epoch draws {tc['epoch_images']:,} of the training images afresh" if tc.get("epoch_images") else "")
        + ".",
        "",
        f"Training: Adam, lr {tc.get('lr')}, batch {tc.get('batch_size')}, loss `{tc.get('loss')}`"
        + (f" plus {tc['colorfulness_weight']} x the per-image colorfulness deficit" if tc.get("colorfulness_weight") else "")
        + ", scheduler"
        f" `{tc.get('scheduler')}`, shuffle `{tc.get('shuffle')}`, augmentation {tc.get('augment')}, seed {tc.get('seed')}."
        f" Gray input standardized with mean {config['normalization']['gray_mean']:.3f} and std"
        f" {config['normalization']['gray_std']:.3f} (scheme `{config['normalization']['scheme']}`)."
        f" Stored as {config.get('dtype', 'float32')}"
        + (f" (float16 changed validation PSNR by {metrics['float16_psnr_change']:+.4f} dB)." if "float16_psnr_change" in metrics else ".")
        + (f" BatchNorm statistics: the plain mean over {tc['precise_bn']} training batches of"
           f" {(tc.get('extra_train_data') and tc.get('extra_size')) or tc.get('image_size', 32)} px"
           " pictures (`train.precise_bn`), not the running averages (the validation of epochs recorded without it used those)."
           if tc.get("precise_bn") else "")
        + (" Inference averages the network's output with its output for the mirrored input, mirrored back."
           if config.get("inference", {}).get("flip_average") else "")
        + (f" Without hints, it also averages the outputs at {', '.join(f'{s:g}x' for s in config['inference']['scales'][1:])}"
           " the working size." if len(config.get("inference", {}).get("scales", [1.0])) > 1 else ""),
        "",
    ]
    if "planned_epochs" in metrics:  # train.export: a run stopped before its end
        lines += [f"**Unfinished**: {history[-1]['epoch'] if history else 0} of the run's {metrics['planned_epochs']} planned"
                  " epochs. `python -m train ... --resume` with the run's settings continues it (from this folder when the"
                  " run's checkpoint is gone).", ""]
    inference = config.get("inference", {})
    if "vividness_gain" in inference:  # a regression network given the setting (colorizer.pipeline)
        lines += [
            "`colorize(..., vividness=...)` takes 0 (the network's own colors) to 1 (its chroma times"
            f" {1 + inference['vividness_gain']:g}: the hue kept, the luminance exact), default {inference['vividness']}.",
            "",
        ]
    elif "vividness" in inference:  # a bin network (colorizer.bins)
        lines += [
            f"It predicts, per pixel at a working size of {inference.get('working_size')} px (long side), a distribution over"
            " quantized chroma bins, decoded with the annealed mean (temperature"
            f" {inference['temperature']}) after the training set's bin prior (mixed with {inference.get('prior_mix', 0)} of"
            f" the uniform distribution) is divided out to the power vividness x {inference['vividness_beta']};"
            " `colorize(..., vividness=...)` takes 0 (the network's own"
            f" distribution) to 1, default {inference['vividness']}.",
            "",
        ]
    if "fine_tuned_from" in config:
        base = config["fine_tuned_from"]
        lines += [
            f"Fine-tuned: the last {config['epochs'] - base['epochs']} epochs (the curves below) started from"
            f" `{base['path']}`, {base['epochs']} epochs trained with loss `{base['loss']}`.",
            "",
        ]
    sketch = task_of(config) == "sketch"
    lines += [
        "```python",
        "import colorizer",
        f'model = colorizer.load("{name}")  # or a path to this folder',
        'model.colorize("drawing.png", mode="sketch").save("colored.png")' if sketch else 'model.colorize("photo.jpg").save("colored.png")',
        "```",
        "",
    ]
    if sketch:
        lines += [
            "A line-art network: it fills the regions of a drawing that have no color dab in sketch mode"
            " (`colorizer.sketch`; any model's `colorize(..., mode=\"sketch\")` uses the shipped one). It sees the"
            " drawing's closed lines at a working size of"
            f" {config.get('inference', {}).get('working_size')} px (long side) and predicts RGB, luminance included;"
            " each undabbed region gets the mean of its pixels' colors. Trained on line drawings made from"
            " colored clip-art (`train.lineart`: outlines where the color changes, on white; the target is the"
            " picture with its page made white).",
            "",
        ]
    if history:
        last = history[-1]
        if tc.get("loss", "mse_rgb") == "mse_rgb":
            scale = ("Errors in the original project's scale: the sum over batches of the per-batch mean MSE"
                     " (so they grow with the number of batches; ours has"
                     f" {config['data'].get('train_images', 0) // 100} training and {config['data'].get('val_images', 0) // 100}"
                     " validation batches, the original 560 and 120, with Linnaeus 5's fifth class).")
        else:  # the original's error scale is a sum of MSEs: other losses are not comparable to it
            scale = (f"Sums over batches of the per-batch loss `{tc.get('loss')}` (for `psnr_rgb` the negative"
                     " mean PSNR in dB, so lower is better; not comparable with the original's MSE sums)"
                     + (", colorfulness term included." if tc.get("colorfulness_weight") else "."))
        lines += [
            "## Training",
            "",
            "![loss curves](loss_curve.png)",
            "",
            scale,
            "",
            "| run | train error | validation error |",
            "| --- | ---: | ---: |",
            f"| this model, epoch {last['epoch']} | {last['train_loss_sum']:.4f} | {last['val_loss_sum']:.4f} |",
        ]
        lines += [f"| original: {label} | {tr} | {va} |" for label, tr, va in ORIGINAL_RESULTS.get(_original_key(config), [])]
        lines += [
            "",
            f"Lowest validation error: {metrics.get('best_val_loss_sum', float('nan')):.4f} at epoch"
            f" {metrics.get('best_epoch')} (the original saw its validation loss rise from about epoch 250).",
            "",
        ]
        if "native" in last:
            lines += _native_lines(history, tc.get("val_native_limit"))
        if "training_speed" in metrics:
            lines += _speed_lines(metrics["training_speed"], history, config)
    if evaluation:
        lines += [
            "## Test-set numbers",
            "",
            "Through the library's pipeline (`full` mode: predicted chroma on the input's own luminance),"
            " with the gray baseline (returning the gray image) from the same run. PSNR is per image on"
            " 8-bit RGB, capped at 50 dB, averaged; colorfulness is Hasler-Suesstrunk."
            + (f" Each test set is thinned to at most {metrics['eval_limit']} images, evenly spread over it."
               if metrics.get("eval_limit") else ""),
            "",
        ]
        from .evaluate import format_table

        # One row per test set (each set's pooled row is that set's own row).
        lines += [format_table({source: table["pooled"] for source, table in evaluation.items()}), ""]
        if examples:
            lines += ["Out of the data sets: the app's example images (`examples/`, grouped by file-name prefix):", "",
                      format_table(examples), ""]
        if "evaluation_seed_mode" in metrics:
            lines += ["Raw network output (`seed` mode, as the original showed it), pooled per test set:", "",
                      "| test set | PSNR dB | SSIM | colorfulness |", "| --- | ---: | ---: | ---: |"]
            lines += [f"| {s} | {r['psnr']:.2f} | {r['ssim']:.4f} | {r['colorfulness']:.1f} |" for s, r in metrics["evaluation_seed_mode"].items()]
            lines.append("")
    if "sketch" in metrics:
        n = metrics["sketch"]
        hue = f"{100 * n['undabbed_hue_accuracy']:.1f}%" if "undabbed_hue_accuracy" in n else "–"  # measured since December 2026
        lines += [
            "## Sketch mode",
            "",
            f"`python -m train.sketch_eval --corpus --size 128`: the corpus's {n['pictures']} clip-art test pictures"
            " (`train.corpus`) turned into line drawings. PSNR against the colored pictures (their pages as they"
            " are: half of them a random plain color), colorfulness Hasler-Suesstrunk.",
            "",
            "| drawing filled with | PSNR dB | drawing's PSNR dB | below the drawing | colorfulness (originals') | hue accuracy |"
            " worst region within Delta E 10 |",
            "| --- | ---: | ---: | ---: | --- | ---: | --- |",
            f"| one true-color dab per region | {n['psnr']:.2f} | {n['psnr_drawing']:.2f} | – | – | – |"
            f" min {100 * n['worst_region_share_min']:.1f}%, mean {100 * n['worst_region_share_mean']:.1f}% |",
            f"| no dab: this network alone | {n['undabbed_psnr']:.2f} | {n['psnr_drawing']:.2f} |"
            f" {100 * n['undabbed_below_drawing']:.0f}% | {n['undabbed_colorfulness']:.1f} ({n['colorfulness_original']:.1f}) |"
            f" {hue} | – |",
            "",
            *([f"The most any fill that keeps the lines as drawn can reach (the colored picture itself off the lines):"
               f" {n['psnr_perfect_fill']:.2f} dB, so a gain of {n['psnr_perfect_fill'] - n['psnr_drawing']:+.2f} dB over the"
               f" drawing is the ceiling here: the lines, black in the drawing and colored in the original, cover"
               f" {100 * n['line_share']:.0f}% of these pictures' pixels.", ""] if "psnr_perfect_fill" in n else []),
            "16 of them, evenly spread: drawing | this network alone (no dab) | original.",
            "",
            "![drawing | network alone | original](panels.png)",
            "",
        ]
    if "hint_curve" in metrics:
        from .hint_curve import format_curve

        curve = metrics["hint_curve"]
        counts = [int(k) for k in curve if k.isdigit()]
        lines += [
            "## User hints",
            "",
            f"PSNR on {curve['test_set']} (test split) with k hints at random pixels carrying their true color:",
            "",
            format_curve({**{int(k): v for k, v in curve.items() if k.isdigit()}, "gray": curve["gray"]}, counts),
            "",
        ]
    if grids:
        rows = "line drawing" if sketch else "gray input"
        lines += ["## Examples", "", f"Validation images; rows: {rows} / network output / original.", ""]
        lines += [f"![epoch {g.split('_')[-1].removesuffix('.png').lstrip('0')}]({g})" + "\n" for g in grids]
    return "\n".join(lines).rstrip() + "\n"
