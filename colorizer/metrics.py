"""Image quality metrics for colorization: PSNR, SSIM, colorfulness, hue accuracy and MSE (numpy only).

Every metric works on 8-bit images, the form results are saved and compared in:
single images are ``uint8`` arrays ``H x W x 3`` (RGB) or ``H x W`` (gray), stacks are
``N x H x W x 3`` or ``N x H x W``. Only ``uint8`` is accepted, so a float image in [0, 1]
can never be scored silently on the wrong scale. Each single-image function is the batch
function applied to a stack of one, so a batch always equals the per-image loop.
"""

import numpy as np

from .color import chroma_polar

__all__ = [
    "psnr",
    "psnr_batch",
    "ssim",
    "ssim_batch",
    "colorfulness",
    "colorfulness_batch",
    "hue_accuracy",
    "hue_accuracy_batch",
    "HUE_MIN_CHROMA",
    "HUE_TOLERANCE",
    "mse",
    "mse_batch",
]

# SSIM constants of Wang et al. 2004, in the convention of skimage's
# structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
# data_range=255, channel_axis=-1): truncate 3.5 gives radius int(3.5 * 1.5 + 0.5) = 5,
# i.e. the paper's 11 x 11 window, normalized exactly as scipy.ndimage does.
_SIGMA = 1.5
_RADIUS = int(3.5 * _SIGMA + 0.5)
_TAPS = np.arange(-_RADIUS, _RADIUS + 1, dtype=np.float64)
_WINDOW = np.exp(-0.5 * (_TAPS / _SIGMA) ** 2)
_WINDOW /= _WINDOW.sum()
_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2
_SSIM_CHUNK = 256  # images per step: bounds memory (five float64 maps), fastest when timed
_BANDED_MAX = 64  # largest side filtered with banded matrix products (see _valid_filter)

# Hue accuracy. An original pixel has a hue worth scoring when its BT.601 chroma magnitude
# sqrt(Cb^2 + Cr^2) (Cb, Cr in [-0.5, 0.5]) is at least 0.05, about 13 of 255 levels: JPEG noise
# and near-white or near-black pixels stay below, skin (~0.15), foliage, sky and flowers above.
HUE_MIN_CHROMA = 0.05
HUE_TOLERANCE = 30.0  # degrees of CbCr angle within which a predicted hue counts as right
# Below this output chroma (about 2.5 levels: what uint8 rounding alone gives) the output has no
# hue, so a gray answer scores 0, not the chance that the angle of rounding noise points right.
_HUE_DEFINED = 0.01


def _stack_pair(outputs, targets):
    """Check two uint8 stacks; return them as ``N x H x W x C`` (C = 3, or 1 for gray)."""
    a, b = np.asarray(outputs), np.asarray(targets)
    if a.dtype != np.uint8 or b.dtype != np.uint8:
        raise TypeError(f"expected uint8 images, got {a.dtype} and {b.dtype}")
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: {a.shape} vs {b.shape}")
    if a.ndim == 3:  # gray stack: one channel
        return a[..., None], b[..., None]
    if a.ndim != 4 or a.shape[-1] != 3:
        raise ValueError(f"expected N x H x W x 3 (or gray N x H x W) stacks, got shape {a.shape}")
    return a, b


def mse_batch(outputs, targets):
    """Per-image mean squared error on the [0, 1] scale (RGB / 255), as float64 ``(N,)``.

    ``outputs``, ``targets``: uint8 ``N x H x W x 3`` (or ``N x H x W`` gray) stacks.
    """
    a, b = _stack_pair(outputs, targets)
    return _sse(a, b) / (np.prod(a.shape[1:]) * 255.0**2)


def mse(output, target):
    """Mean squared error in [0, 1] of two uint8 ``H x W x 3`` (or ``H x W``) images."""
    return float(mse_batch(np.asarray(output)[None], np.asarray(target)[None])[0])


def _sse(a, b):
    # Sum of squared 0..255 differences per image: exact in float64 (integers < 2**53);
    # uint8 arithmetic would wrap around.
    d = (a.astype(np.float64) - b).reshape(len(a), np.prod(a.shape[1:]))
    return np.einsum("ij,ij->i", d, d)


def psnr_batch(outputs, targets, cap=50.0):
    """Per-image PSNR in dB, float64 ``(N,)``, of uint8 ``N x H x W x 3`` (or gray) stacks.

    MSE runs over all pixels and channels on the 0..255 scale and
    PSNR = 10 log10(255^2 / MSE). Identical images (infinite PSNR) and any value above
    ``cap`` give ``cap``, so that a few near-perfect images cannot dominate a mean.
    """
    a, b = _stack_pair(outputs, targets)
    mse255 = _sse(a, b) / np.prod(a.shape[1:])
    with np.errstate(divide="ignore"):  # mse == 0 -> inf, then capped
        values = 10.0 * np.log10(255.0**2 / mse255)
    return np.minimum(values, float(cap))


def psnr(output, target, cap=50.0):
    """PSNR in dB (capped at ``cap``) of two uint8 ``H x W x 3`` (or ``H x W``) images."""
    return float(psnr_batch(np.asarray(output)[None], np.asarray(target)[None], cap)[0])


def _band(n):
    """``(n - 10) x n`` matrix whose rows are the 11-tap window at every valid offset."""
    k = np.zeros((n - 2 * _RADIUS, n))
    for i in range(len(k)):
        k[i, i : i + len(_WINDOW)] = _WINDOW
    return k


def _valid_filter(x):
    """The 11-tap Gaussian 'valid' filter over the two last axes of a float64 stack.

    Up to 64 px a side: two matrix products with banded matrices (BLAS; 3.7x faster than 11
    shifted adds at 32 px); beyond, the banded products cost ~n multiply-adds a pixel instead of
    11 and fall off BLAS's fast path (128 px: 7.7 s against 1.1 s of CPU for 64 RGB images), so
    11 shifted adds per axis. Both give the same numbers to 4e-16. The banded maps come out
    transposed (W x H): callers use only their mean.
    """
    if max(x.shape[-2:]) <= _BANDED_MAX:
        return (x @ _band(x.shape[-1]).T).swapaxes(-1, -2) @ _band(x.shape[-2]).T
    n = len(_WINDOW)
    rows = sum(_WINDOW[k] * x[..., k : x.shape[-1] - n + 1 + k] for k in range(n))
    return sum(_WINDOW[k] * rows[..., k : rows.shape[-2] - n + 1 + k, :] for k in range(n))


def _ssim_stack(a, b):
    """Mean SSIM per image of float64 ``N x C x H x W`` stacks (values 0..255)."""
    # skimage filters the whole image (mode 'reflect') and then crops (win_size - 1) // 2
    # = _RADIUS pixels from every border before averaging. Every kept pixel's window lies
    # inside the image, so the padding never reaches the result: a 'valid' filter
    # (_valid_filter) gives the same numbers. Cross-checked against skimage 0.26
    # structural_similarity on random, noisy, smooth and shifted images (32x32, 64x48,
    # 40x23, 11x11; RGB and gray): max |difference| 2e-14.
    x = _valid_filter(np.stack([a, b, a * a, b * b, a * b]))  # means, second moments, cross moment
    ux, uy, uxx, uyy, uxy = x
    vx, vy, vxy = uxx - ux * ux, uyy - uy * uy, uxy - ux * uy  # population covariance
    s = ((2 * ux * uy + _C1) * (2 * vxy + _C2)) / ((ux * ux + uy * uy + _C1) * (vx + vy + _C2))
    return s.mean(axis=(1, 2, 3))


def ssim_batch(outputs, targets):
    """Per-image SSIM, float64 ``(N,)``, of uint8 ``N x H x W x 3`` (or gray) stacks.

    Wang et al. 2004 with an 11 x 11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03,
    L = 255, per channel and then averaged over channels; identical images give 1.
    Matches ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=255, channel_axis=-1)``. H and W must be >= 11.
    """
    a, b = _stack_pair(outputs, targets)
    if min(a.shape[1:3]) < 2 * _RADIUS + 1:
        raise ValueError(f"SSIM needs images of at least 11 x 11, got shape {a.shape[1:]}")
    out = np.empty(len(a), dtype=np.float64)
    for i in range(0, len(a), _SSIM_CHUNK):  # chunks bound memory on 10,000 images
        # channels first: the filter then runs over the two last axes
        ca, cb = (np.moveaxis(v[i : i + _SSIM_CHUNK], -1, 1).astype(np.float64) for v in (a, b))
        out[i : i + _SSIM_CHUNK] = _ssim_stack(ca, cb)
    return out


def ssim(output, target):
    """SSIM in [-1, 1] of two uint8 ``H x W x 3`` (or ``H x W``) images; see ``ssim_batch``."""
    return float(ssim_batch(np.asarray(output)[None], np.asarray(target)[None])[0])


def colorfulness_batch(rgbs):
    """Hasler & Suesstrunk (2003) colorfulness per image, float64 ``(N,)``.

    ``rgbs``: uint8 ``N x H x W x 3`` RGB, used on the 0..255 scale. With rg = R - G and
    yb = (R + G) / 2 - B: C = sqrt(std_rg^2 + std_yb^2) + 0.3 sqrt(mean_rg^2 + mean_yb^2),
    population std over the pixels. Gray images give 0; ~15 is slightly, ~110 very colorful.
    """
    x = np.asarray(rgbs)
    if x.dtype != np.uint8:
        raise TypeError(f"expected uint8 images, got {x.dtype}")
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"expected an N x H x W x 3 array, got shape {x.shape}")
    x = x.reshape(len(x), np.prod(x.shape[1:3]), 3).astype(np.float64)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    spread = np.sqrt(rg.var(axis=1) + yb.var(axis=1))
    return spread + 0.3 * np.sqrt(rg.mean(axis=1) ** 2 + yb.mean(axis=1) ** 2)


def colorfulness(rgb):
    """Hasler & Suesstrunk colorfulness of one uint8 ``H x W x 3`` RGB image."""
    return float(colorfulness_batch(np.asarray(rgb)[None])[0])


def hue_accuracy_batch(outputs, originals, min_chroma=HUE_MIN_CHROMA, tolerance=HUE_TOLERANCE):
    """Per image, the share of clearly colored original pixels whose output hue is right: float64 ``(N,)``.

    ``outputs``, ``originals``: uint8 ``N x H x W x 3`` RGB. A pixel counts if the original's BT.601
    chroma magnitude is at least ``min_chroma``; it is right if the output's chroma is not
    negligible and its CbCr angle is within ``tolerance`` degrees of the original's. An image
    without such pixels gives NaN (use ``np.nanmean``). The exact output scores 1, a gray one 0.
    """
    a, b = _stack_pair(outputs, originals)
    if a.shape[-1] != 3:
        raise ValueError(f"hue accuracy needs RGB stacks, got shape {a.shape}")
    out = np.empty(len(a), dtype=np.float64)
    for i in range(0, len(a), _SSIM_CHUNK):  # chunks bound memory on 128 px sets
        magnitude_out, hue_out = chroma_polar(a[i : i + _SSIM_CHUNK] / 255.0)
        magnitude, hue = chroma_polar(b[i : i + _SSIM_CHUNK] / 255.0)
        scored = magnitude >= min_chroma
        difference = np.abs((hue_out - hue + 180.0) % 360.0 - 180.0)  # shortest way round, 0..180
        right = scored & (magnitude_out >= _HUE_DEFINED) & (difference <= tolerance)
        counts = scored.sum(axis=(1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[i : i + _SSIM_CHUNK] = np.where(counts > 0, right.sum(axis=(1, 2)) / counts, np.nan)
    return out


def hue_accuracy(output, original, min_chroma=HUE_MIN_CHROMA, tolerance=HUE_TOLERANCE):
    """Hue accuracy of one uint8 ``H x W x 3`` output against its original; see ``hue_accuracy_batch``."""
    return float(hue_accuracy_batch(np.asarray(output)[None], np.asarray(original)[None], min_chroma, tolerance)[0])
