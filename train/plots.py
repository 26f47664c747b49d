"""Pictures of a run: the loss curves and example grids (rows gray / output / original)."""

import threading
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from .batches import batch_views, forward_rgb, network_input  # noqa: E402

__all__ = ["save_loss_curve", "save_grid", "grid_image", "grid_pictures", "grid_path", "grids_up_to"]

# Matplotlib is not thread-safe (its text layout caches are shared) and runs may train in
# threads of one process (train.seed_runs): one figure at a time.
_FIGURE_LOCK = threading.Lock()


def save_loss_curve(history, path, title="", gray_psnr=None, loss="mse_rgb", colorfulness_weight=0.0):
    """Two panels: train and validation loss per epoch in the original's scale (sum over
    batches), and validation PSNR (with the gray baseline as a line when given); a third for the
    native-size validation (train.native_val) when the history has it. ``loss`` and
    ``colorfulness_weight``: the run's, to label what the sums are sums of."""
    with _FIGURE_LOCK:
        _draw_loss_curve(history, path, title, gray_psnr, loss, colorfulness_weight)


def _draw_loss_curve(history, path, title, gray_psnr, loss, colorfulness_weight):
    epochs = [h["epoch"] for h in history]
    native = [h for h in history if "native" in h]
    fig, axes = plt.subplots(1, 3 if native else 2, figsize=(16.5 if native else 11, 4), dpi=100)
    ax_loss, ax_psnr = axes[:2]
    ax_loss.plot(epochs, [h["train_loss_sum"] for h in history], label="train")
    ax_loss.plot(epochs, [h["val_loss_sum"] for h in history], label="validation")
    ax_loss.set_xlabel("epoch")
    name = "MSE" if loss == "mse_rgb" else loss + (" + colorfulness term" if colorfulness_weight else "")
    ax_loss.set_ylabel(f"error (sum of per-batch\n{name})")
    if all(h["train_loss_sum"] > 0 and h["val_loss_sum"] > 0 for h in history):
        ax_loss.set_yscale("log")  # MSE sums span decades; a -PSNR loss is negative and stays linear
    ax_loss.legend()
    ax_loss.grid(alpha=0.3)
    ax_psnr.plot(epochs, [h["val_psnr"] for h in history], label="validation PSNR (raw network output)", color="tab:green")
    if gray_psnr is not None:
        ax_psnr.axhline(gray_psnr, color="gray", linestyle="--", label=f"gray baseline {gray_psnr:.2f} dB")
    ax_psnr.set_xlabel("epoch")
    ax_psnr.set_ylabel("dB")
    ax_psnr.legend()
    ax_psnr.grid(alpha=0.3)
    if native:
        _draw_native(axes[2], native)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _draw_native(ax_gain, native):
    """PSNR over gray (solid) and colorfulness ratio (dashed, right axis) per row of the native
    validation (train.native_val), one color per row."""
    ax_ratio = ax_gain.twinx()
    rows = list(dict.fromkeys(row for h in native for row in h["native"]))
    for color, row in zip(plt.rcParams["axes.prop_cycle"].by_key()["color"], rows):
        points = [(h["epoch"], h["native"][row]) for h in native if row in h["native"]]
        epochs = [e for e, _ in points]
        ax_gain.plot(epochs, [m["psnr"] - m["psnr_gray"] for _, m in points], color=color, label=row)
        ax_ratio.plot(epochs, [m["colorfulness_ratio"] for _, m in points], color=color, linestyle="--")
    ax_gain.axhline(0.0, color="gray", linewidth=0.8)
    ax_gain.set_xlabel("epoch")
    ax_gain.set_ylabel("native size: PSNR - gray PSNR (dB, solid)")
    ax_ratio.set_ylabel("colorfulness ratio (dashed)")
    ax_gain.legend(fontsize="small")
    ax_gain.grid(alpha=0.3)


def grid_image(rows, scale=4, gap=2):
    """Rows of equal-size uint8 H x W x 3 images -> one PIL image (each tile upscaled
    ``scale`` times with nearest neighbour so 32x32 pixels stay visible)."""
    tile_h, tile_w = rows[0][0].shape[:2]
    th, tw = tile_h * scale, tile_w * scale
    width = len(rows[0]) * (tw + gap) - gap
    height = len(rows) * (th + gap) - gap
    canvas = Image.new("RGB", (width, height), "white")
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            image = Image.fromarray(tile).resize((tw, th), Image.Resampling.NEAREST)
            canvas.paste(image, (c * (tw + gap), r * (th + gap)))
    return canvas


def grid_pictures(val_uint8):
    """The ten validation pictures a run's example grids show, evenly spread over ``val_uint8``
    (N x H x W x 3 uint8, a tensor or an array; a view of it is returned)."""
    return val_uint8[:: max(1, len(val_uint8) // 10)][:10]


@torch.no_grad()
def save_grid(model, rgb_uint8, gray_mean, gray_std, path, epoch=None):
    """Example grid of the network's raw output: rows gray (a line-art network: the drawing) / output / original."""
    was_training = model.training
    model.eval()
    rgb, y, _ = batch_views(model, rgb_uint8)
    out = forward_rgb(model, model(network_input(model, y, gray_mean, gray_std)).float(), y)
    model.train(was_training)
    to_uint8 = lambda t: (t.permute(0, 2, 3, 1).cpu().numpy() * 255).round().clip(0, 255).astype(np.uint8)  # noqa: E731
    gray = np.repeat(to_uint8(y), 3, axis=-1)
    grid_image([list(gray), list(to_uint8(out)), list(rgb_uint8.cpu().numpy())]).save(path)


def grid_path(folder, epoch):
    """``folder/examples_epoch_NNNN.png``: where a run (and its export) keeps the grid of an epoch."""
    return Path(folder) / f"examples_epoch_{epoch:04d}.png"


def grids_up_to(folder, epoch):
    """The example grids in ``folder`` of epochs up to ``epoch``, in epoch order (a run's later
    grids are not the export's of an earlier epoch)."""
    return sorted(p for p in Path(folder).glob("examples_epoch_*.png") if int(p.stem.rsplit("_", 1)[1]) <= epoch)
