"""The better colorizer: a small fully convolutional U-Net that predicts chroma from luminance.

Input N x C_in x H x W (channel 0 the standardized gray; for the hint variant three more:
hint Cb, hint Cr, hint mask), H and W multiples of 8. Output N x 2 x H x W: centred Cb, Cr
(about [-0.5, 0.5]). The luminance is never predicted, so the pipeline keeps the input's Y.

Most of the work happens at 1/2 to 1/8 resolution (chroma is smooth; the guided upsampling in
``colorizer.upsample`` and the full-resolution skip put the edges back), which keeps it fast
enough to train and run on a 2-core CPU.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from .bins import GRID, num_bins
from .hints import HINT_CHANNELS
from .models import register

__all__ = ["ChromaUNet", "ChromaUNetHints", "ChromaBinsHints", "LineArtUNet"]


NORM_GROUPS = 8  # GroupNorm's groups: every width of the shipped networks is a multiple of 8


def normalization(norm, channels):
    """``"batch"``: BatchNorm (statistics of the training batches, frozen at inference);
    ``"group"``: GroupNorm (each picture's own statistics, the same in training and inference)."""
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "group":
        return nn.GroupNorm(NORM_GROUPS, channels)
    raise ValueError(f"norm must be 'batch' or 'group', not {norm!r}")


def conv_norm(c_in, c_out, stride=1, norm="batch"):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False), normalization(norm, c_out),
                         nn.ReLU(inplace=True))


def block(c_in, c_out, norm="batch"):
    return nn.Sequential(conv_norm(c_in, c_out, norm=norm), conv_norm(c_out, c_out, norm=norm))


@register("chroma_unet")
class ChromaUNet(nn.Module):
    """Gray -> chroma U-Net, 1/2..1/8 resolution encoder, 750,610 parameters at the default widths."""

    output = "cbcr"
    fixed_size = None
    size_multiple = 8
    in_channels = 1

    def __init__(self, widths=(16, 32, 64, 192), context=False, norm="batch"):
        super().__init__()
        c0, c1, c2, c3 = widths
        # Convolutions whose input is a concatenation, and its parts' widths in order: training
        # needs them to start a wider network from a narrower one (``train.checkpoint.init_weights``).
        self.concat_inputs = {"dec2.0.0": (c3, c2), "dec1.0.0": (c2, c1), "dec0.0": (c1, c0)}
        self.stem = nn.Sequential(nn.Conv2d(self.in_channels, c0, 3, padding=1), nn.ReLU(inplace=True))
        self.enc1 = nn.Sequential(conv_norm(c0, c1, stride=2, norm=norm), block(c1, c1, norm))  # 1/2
        self.enc2 = block(c1, c2, norm)  # 1/4
        self.enc3 = block(c2, c3, norm)  # 1/8
        self.dec2 = block(c3 + c2, c2, norm)
        self.dec1 = block(c2 + c1, c1, norm)
        self.dec0 = nn.Sequential(nn.Conv2d(c1 + c0, c0, 3, padding=1), nn.ReLU(inplace=True))
        self.head = nn.Conv2d(c0, 2, 1)
        # Optional global context (Iizuka et al. 2016's fusion layer): the 1/8 features' mean over
        # the image, through a small MLP, added back at every position, so each pixel's colors can
        # depend on what the whole picture is. Its last layer starts at zero: a network grown from
        # one without it (``init_from``) starts out computing exactly what that one did.
        self.context = None
        if context:
            self.context = nn.Sequential(nn.Linear(c3, c3), nn.ReLU(inplace=True), nn.Linear(c3, c3))
            nn.init.zeros_(self.context[2].weight)
            nn.init.zeros_(self.context[2].bias)

    @staticmethod
    def _up(x, like):
        return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)

    def forward(self, x):
        return self.head(self.features(x))

    def features(self, x):
        """The decoder's full-resolution features, N x c0 x H x W (before the head)."""
        s0 = self.stem(x)
        s1 = self.enc1(s0)
        s2 = self.enc2(F.max_pool2d(s1, 2))
        s3 = self.enc3(F.max_pool2d(s2, 2))
        if self.context is not None:
            s3 = s3 + self.context(s3.mean(dim=(2, 3)))[:, :, None, None]
        d2 = self.dec2(torch.cat([self._up(s3, s2), s2], dim=1))
        d1 = self.dec1(torch.cat([self._up(d2, s1), s1], dim=1))
        return self.dec0(torch.cat([self._up(d1, s0), s0], dim=1))


@register("chroma_unet_hints")
class ChromaUNetHints(ChromaUNet):
    """:class:`ChromaUNet` that also takes user color hints (Cb, Cr, mask) as input channels."""

    in_channels = 1 + HINT_CHANNELS


@register("chroma_bins_hints")
class ChromaBinsHints(ChromaUNet):
    """The hint U-Net with a distribution head: N x 4 x H x W (gray + hint channels) -> logits
    N x K x H x W over the in-gamut chroma bins of ``colorizer.bins`` (K = 180 for grid 16).

    Same trunk as the shipped ``chroma_unet_hints`` at widths (16, 64, 128, 256), so training can
    start from it (``init_from``); the full-resolution decoder is ``head_width`` wide because K
    logits from 16 features would be a narrow bottleneck. The buffer ``bin_prior`` (K, sums to 1)
    holds the training set's smoothed bin frequencies, for prior correction at inference; it is
    saved with the weights. 2.0 M parameters at the defaults (2.1 M with ``context``, the global
    branch of :class:`ChromaUNet`, which the shipped weights have).
    """

    output = "bins"
    in_channels = 1 + HINT_CHANNELS

    def __init__(self, widths=(16, 64, 128, 256), head_width=32, grid=GRID, context=False):
        super().__init__(widths, context)
        c0, c1 = widths[:2]
        self.grid = grid
        del self.head  # a separate name, so init_from a regression network leaves the new head fresh
        self.dec0 = nn.Sequential(nn.Conv2d(c1 + c0, head_width, 3, padding=1), nn.ReLU(inplace=True))
        self.logits = nn.Conv2d(head_width, num_bins(grid), 1)
        self.register_buffer("bin_prior", torch.full((num_bins(grid),), 1.0 / num_bins(grid)))

    def forward(self, x):
        return self.logits(self.features(x))


@register("lineart_unet")
class LineArtUNet(ChromaUNet):
    """The line-art network of sketch mode: N x 2 x H x W (a drawing in {0, 1}, 0 on its lines,
    standardized like gray; and its page mask, ``colorizer.sketch.page_mask``) -> RGB
    N x 3 x H x W in [0, 1] (sigmoid), luminance included: a drawing's white page says nothing
    about the brightness of what fills it.

    ``task = "sketch"``: it serves ``colorize(mode="sketch")`` (``colorizer.sketch``), which
    uses its colors in regions without a dab, and is never picked as a photo colorizer.
    Same trunk as :class:`ChromaUNet`, 3 output channels.
    """

    output = "rgb"
    task = "sketch"
    in_channels = 2

    def __init__(self, widths=(16, 32, 64, 192)):
        super().__init__(widths)
        self.head = nn.Conv2d(widths[0], 3, 1)

    def forward(self, x):
        return torch.sigmoid(self.head(self.features(x)))
