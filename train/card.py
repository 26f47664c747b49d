"""The model card (README.md) of an exported weights folder, from measured numbers only."""

from pathlib import Path

from colorizer.models import create_model

__all__ = ["model_card", "ORIGINAL_RESULTS"]

# The original project's reported final errors (sum over batches of per-batch MSE), by run.
ORIGINAL_RESULTS = {
    "seed_cnn": [("final architecture, 2000 epochs (write-up)", 2.3465, 1.4805), ("same, notebook output at epoch 1999", 0.9208, 1.2817)],
    "seed_cnn_half": [("half-width initial architecture", 0.8541, 1.3706)],
    "seed_cnn_plateau": [("ReduceLROnPlateau, lr 1e-3", 2.8273, 1.3493)],
    "seed_unet": [("modified U-Net", 28.655, 6.707)],
}


def _original_key(config):
    name = config["architecture"]["name"]
    if name == "seed_cnn" and config.get("train_config", {}).get("scheduler") == "plateau":
        return "seed_cnn_plateau"
    return name


def model_card(name, config, evaluation, history, grids, examples=None):
    """Markdown for ``weights/<name>/README.md``.

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
        + (" Inference averages the network's output with its output for the mirrored input, mirrored back."
           if config.get("inference", {}).get("flip_average") else "")
        + (f" Without hints, it also averages the outputs at {', '.join(f'{s:g}x' for s in config['inference']['scales'][1:])}"
           " the working size." if len(config.get("inference", {}).get("scales", [1.0])) > 1 else ""),
        "",
    ]
    inference = config.get("inference", {})
    if "vividness" in inference:  # a bin network (colorizer.bins)
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
    lines += [
        "```python",
        "import colorizer",
        f'model = colorizer.load("{name}")  # or a path to this folder',
        'model.colorize("photo.jpg").save("colored.png")',
        "```",
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
        lines += ["## Examples", "", "Validation images; rows: gray input / network output / original.", ""]
        lines += [f"![epoch {g.split('_')[-1].removesuffix('.png').lstrip('0')}]({g})" + "\n" for g in grids]
    return "\n".join(lines).rstrip() + "\n"
