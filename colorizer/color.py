"""Color math, in one place: the seed's gray formula and the BT.601 YCbCr frame around it.

The original project made its network input with ``gray = 0.299 R + 0.587 G + 0.114 B``:
that is exactly the luma Y of ITU-R BT.601 (full range, as in JPEG). So the natural frame
for colorization is YCbCr: the input *is* Y, a network only has to supply the chroma
(Cb, Cr), and the output keeps the input's luminance by construction.

Conventions used everywhere in the project:

- Float RGB and Y live in [0, 1]; chroma ``cbcr`` is centred, in [-0.5, 0.5]
  (the 8-bit JPEG offset of 128 is not used inside the library).
- numpy functions put channels last (``... x 3``); torch functions put channels first
  (``N x 3 x H x W`` or ``3 x H x W``), as networks expect.
"""

import functools

import numpy as np
import torch
from PIL import Image

__all__ = [
    "GRAY_WEIGHTS",
    "to_gray",
    "rgb_to_ycbcr",
    "ycbcr_to_rgb",
    "chroma_polar",
    "rgb_to_ycbcr_torch",
    "ycbcr_to_rgb_torch",
    "fit_chroma_torch",
    "ycbcr_to_rgb_in_gamut",
    "rgb_to_lab",
    "delta_e",
]

GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma = the original project's gray

# Rows: Y, Cb, Cr from R, G, B (BT.601 full range, chroma centred at 0).
_RGB_TO_YCBCR = np.array(
    [
        [0.299, 0.587, 0.114],
        [-0.168735892, -0.331264108, 0.5],
        [0.5, -0.418687589, -0.081312411],
    ]
)
_YCBCR_TO_RGB = np.linalg.inv(_RGB_TO_YCBCR)


def to_gray(rgb):
    """The original's gray: ``0.299 R + 0.587 G + 0.114 B``.

    - uint8 (or float) array H x W x 3 in -> float32 array H x W, same scale (0..255 for uint8),
      unrounded so it is exactly the formula.
    - PIL image in (any mode; converted to RGB first) -> PIL "L" image of the same size,
      rounded to the nearest level.
    """
    if isinstance(rgb, Image.Image):
        gray = to_gray(np.asarray(rgb.convert("RGB")))
        return Image.fromarray(np.clip(np.rint(gray), 0, 255).astype(np.uint8), mode="L")
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"to_gray expects an H x W x 3 array, got shape {rgb.shape}")
    weights = np.asarray(GRAY_WEIGHTS, dtype=np.float64)
    gray = np.empty(rgb.shape[:2], dtype=np.float32)
    for start in range(0, rgb.shape[0], 512):  # row blocks: float64 copies of big images stay small
        gray[start : start + 512] = rgb[start : start + 512].astype(np.float64) @ weights
    return gray


def rgb_to_ycbcr(rgb):
    """float array ... x 3 RGB in [0, 1] -> ... x 3 (Y in [0, 1], Cb and Cr in [-0.5, 0.5])."""
    return np.asarray(rgb, dtype=np.float64) @ _RGB_TO_YCBCR.T


def ycbcr_to_rgb(ycbcr):
    """Inverse of :func:`rgb_to_ycbcr`; not clipped (out-of-gamut values stay visible)."""
    return np.asarray(ycbcr, dtype=np.float64) @ _YCBCR_TO_RGB.T


def chroma_polar(rgb):
    """Chroma magnitude and hue of RGB: the polar form of the BT.601 (Cb, Cr) vector.

    float array ... x 3 RGB in [0, 1] -> (magnitude ..., in [0, ~0.6]; hue ..., degrees in
    [-180, 180], 0 along +Cb (blue), 90 along +Cr (red)). The hue of a gray pixel is 0 and means
    nothing: callers decide below which magnitude a hue counts.
    """
    ycbcr = rgb_to_ycbcr(rgb)
    cb, cr = ycbcr[..., 1], ycbcr[..., 2]
    return np.hypot(cb, cr), np.degrees(np.arctan2(cr, cb))


@functools.lru_cache(maxsize=None)
def _torch_matrix(inverse, dtype, device):
    # One copy per device and dtype: a copy from the host at every call would stall a GPU's queue
    # each batch, and a CUDA graph (train/cuda_graph.py) cannot record one. Made outside inference
    # mode, or training could not save it for backward once the pipeline had made it first.
    with torch.inference_mode(False):
        return torch.as_tensor(_YCBCR_TO_RGB if inverse else _RGB_TO_YCBCR, dtype=dtype, device=device)


def _apply_torch(inverse, x):
    """Apply the YCbCr matrix (or its inverse) along dim -3 of a float tensor (... x 3 x H x W)."""
    return torch.einsum("ij,...jhw->...ihw", _torch_matrix(inverse, x.dtype, x.device), x)


def rgb_to_ycbcr_torch(rgb):
    """float tensor (N x) 3 x H x W RGB in [0, 1] -> same shape Y, Cb, Cr (chroma centred)."""
    return _apply_torch(False, rgb)


def ycbcr_to_rgb_torch(ycbcr):
    """Inverse of :func:`rgb_to_ycbcr_torch`; not clipped."""
    return _apply_torch(True, ycbcr)


def fit_chroma_torch(y, cbcr):
    """Scale chroma down, per pixel, just enough that Y + chroma stays inside the RGB cube.

    y: (N x) 1 x H x W in [0, 1]; cbcr: (N x) 2 x H x W. Returns the scaled cbcr.
    Clipping R, G, B separately would change the luminance; scaling the chroma vector
    instead keeps Y exactly (chroma contributes nothing to Y) and keeps the hue.
    """
    y = y.clamp(0.0, 1.0)
    # RGB offsets that the chroma adds to Y, from the inverse matrix's chroma columns.
    m = _YCBCR_TO_RGB[:, 1:]
    cb, cr = cbcr[..., 0:1, :, :], cbcr[..., 1:2, :, :]
    offsets = [m[c, 0] * cb + m[c, 1] * cr for c in range(3)]
    high = torch.maximum(torch.maximum(offsets[0], offsets[1]), offsets[2])
    low = torch.minimum(torch.minimum(offsets[0], offsets[1]), offsets[2])
    # All channels move linearly from Y (scale 0) to Y + offset (scale 1): the largest
    # scale in [0, 1] that keeps the highest channel <= 1 and the lowest >= 0.
    scale_high = torch.where(y + high > 1.0, (1.0 - y) / high.clamp_min(1e-12), 1.0)
    scale_low = torch.where(y + low < 0.0, y / (-low).clamp_min(1e-12), 1.0)
    return cbcr * torch.minimum(scale_high, scale_low).clamp_(0.0, 1.0)


def ycbcr_to_rgb_in_gamut(y, cbcr, rows=256):
    """RGB (N x) 3 x H x W in [0, 1] from y (N x) 1 x H x W and chroma (N x) 2 x H x W: the chroma
    fitted into the RGB cube (:func:`fit_chroma_torch`, so Y is kept exactly), then converted. A
    band of ``rows`` rows at a time: at 16 MP the fit's ten full-size temporaries were 640 MB."""
    rgb = torch.empty(*cbcr.shape[:-3], 3, *cbcr.shape[-2:], dtype=cbcr.dtype, device=cbcr.device)
    for top in range(0, cbcr.shape[-2], rows):
        y_band, cbcr_band = y[..., top : top + rows, :], cbcr[..., top : top + rows, :]
        ycbcr = torch.cat([y_band.to(cbcr.dtype), fit_chroma_torch(y_band, cbcr_band)], dim=-3)
        rgb[..., top : top + rows, :] = ycbcr_to_rgb_torch(ycbcr).clamp_(0, 1)
    return rgb


# sRGB (D65) to CIE XYZ, and the D65 white point, for CIELAB.
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]])
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])


def rgb_to_lab(rgb):
    """float array ... x 3 sRGB in [0, 1] -> ... x 3 CIELAB (L in [0, 100], D65 white)."""
    rgb = np.asarray(rgb, dtype=np.float64)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    t = (linear @ _RGB_TO_XYZ.T) / _WHITE_D65
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def delta_e(rgb_a, rgb_b):
    """CIE76 color difference (Euclidean in CIELAB) of two float sRGB arrays ... x 3 in [0, 1]."""
    return np.linalg.norm(rgb_to_lab(rgb_a) - rgb_to_lab(rgb_b), axis=-1)
