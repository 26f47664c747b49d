"""Bringing low-resolution chroma up to the input's full resolution without color bleeding.

The network predicts chroma at a small working size. Plain bilinear upsampling smears color
across edges; the fast guided filter (He & Sun, 2015, arXiv:1505.00996) instead fits, in each
low-resolution window, a local linear model ``chroma = a * Y + b`` and applies the upsampled
``a, b`` to the full-resolution Y, so color edges snap to the luminance edges that the user
can see. Only ``a`` and ``b`` (two maps per chroma channel) are ever held at full size.
"""

import torch.nn.functional as F

__all__ = ["resize", "box_filter", "guided_upsample"]


def resize(x, size, mode="bilinear"):
    """Resize N x C x H x W to ``size`` = (h, w). "bilinear" averages over each output pixel's
    area when shrinking (antialiased, and several times faster than antialiased bilinear on
    big inputs) and interpolates bilinearly when enlarging; "nearest" keeps pixels blocky."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if mode == "nearest":
        return F.interpolate(x, size=size, mode="nearest")
    if size[0] <= x.shape[-2] and size[1] <= x.shape[-1]:
        return F.adaptive_avg_pool2d(x, size)
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)


def box_filter(x, radius):
    """Mean over a (2r+1) x (2r+1) window, N x C x H x W -> same shape; windows are cut at the
    border (the mean is over the pixels that exist), so small images work too."""
    return F.avg_pool2d(x, 2 * radius + 1, stride=1, padding=radius, count_include_pad=False)


def guided_upsample(chroma_small, y_small, y_full, radius=2, eps=1e-3):
    """Edge-aware upsampling of chroma guided by luminance.

    chroma_small: N x C x h x w (any values); y_small: N x 1 x h x w and y_full: N x 1 x H x W,
    both luminance in [0, 1], y_small being y_full resized to h x w. Returns N x C x H x W.
    ``eps`` is the regularizer on Y's local variance: larger means smoother, closer to bilinear.
    """
    size = tuple(y_full.shape[-2:])
    radius = max(1, min(radius, (min(y_small.shape[-2:]) - 1) // 2))
    mean_y = box_filter(y_small, radius)
    var_y = box_filter(y_small * y_small, radius) - mean_y * mean_y
    mean_c = box_filter(chroma_small, radius)
    cov_yc = box_filter(y_small * chroma_small, radius) - mean_y * mean_c
    a = cov_yc / (var_y + eps)
    b = mean_c - a * mean_y
    a_full = resize(box_filter(a, radius), size)
    b_full = resize(box_filter(b, radius), size)
    return a_full.mul_(y_full).add_(b_full)
