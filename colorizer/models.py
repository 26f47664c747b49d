"""Network registry and the original project's networks.

Every network takes a float tensor N x C_in x H x W (channel 0: the standardized gray image,
see ``colorizer.pipeline``) and returns a float tensor. Each class states, as class attributes,
what the rest of the code needs to know about it:

- ``output``: "rgb" (N x 3 x H x W in [0, 1]) or "cbcr" (N x 2 x H x W, centred chroma).
- ``fixed_size``: the only input size it accepts (the seed networks' fully connected decoder
  fixes 32), or None for any size (a multiple of ``size_multiple``).
- ``in_channels``: 1 (gray only) or more (gray plus hint channels; a line-art network: its page
  mask).
- ``task``: "color" (gray in, colors out; what :func:`register` sets when a class says nothing)
  or "sketch" (a line-art network of sketch mode, ``colorizer.sketch``: never a photo colorizer).

Networks never see files, PIL images or devices.
"""

import torch
import torch.nn as nn

__all__ = ["register", "create_model", "list_models", "model_info", "accepts_hints", "SeedCNN", "SeedUNet"]

_REGISTRY = {}


def register(name):
    """Class decorator: make a network available as ``create_model(name)``."""

    def wrap(cls):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = cls
        cls.registry_name = name
        cls.task = getattr(cls, "task", "color")
        return cls

    return wrap


def list_models():
    """Names of all registered networks, sorted."""
    return sorted(_REGISTRY)


def accepts_hints(network):
    """Whether a network (registered class or instance) takes color hint channels: a colorizer
    with more than the gray channel."""
    return network.in_channels > 1 and network.task == "color"


def model_info(name):
    """The registered class for ``name`` (its attributes describe input and output)."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(list_models())}")
    return _REGISTRY[name]


def create_model(name, **kwargs):
    """A freshly initialized network; unknown names raise KeyError listing the known ones."""
    return model_info(name)(**kwargs)


def double_conv(c_in, c_out):
    """Conv3x3 -> ReLU -> Conv3x3 -> ReLU, size preserving (the original's building block)."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1),
        nn.ReLU(inplace=True),
    )


class SeedCNN(nn.Module):
    """The original's final network: a conv encoder and a fully connected RGB decoder.

    N x 1 x 32 x 32 standardized gray -> N x 3 x 32 x 32 RGB in [0, 1] (sigmoid).
    With the default widths (32, 64, 64, fc 1024) it has exactly 7,482,976 parameters.
    The decoder's 3072 outputs are read as channel-first 3 x 32 x 32 (the original's notebook
    reinterpreted HWC memory as CHW; a fully connected layer learns either layout equally).
    """

    output = "rgb"
    fixed_size = 32
    size_multiple = 32
    in_channels = 1

    def __init__(self, widths=(32, 64, 64), fc=1024, size=32):
        super().__init__()
        c1, c2, c3 = widths
        self.encoder = nn.Sequential(
            double_conv(1, c1),
            nn.MaxPool2d(2),
            double_conv(c1, c2),
            nn.MaxPool2d(2),
            double_conv(c2, c3),
        )
        self.size = size
        self.decoder = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c3 * (size // 4) ** 2, fc),
            nn.ReLU(inplace=True),
            nn.Linear(fc, 3 * size * size),
            nn.Sigmoid(),
        )

    def forward(self, x):
        n = x.shape[0]
        return self.decoder(self.encoder(x)).view(n, 3, self.size, self.size)


@register("seed_cnn")
class SeedCNNFinal(SeedCNN):
    """The original's final network (7,482,976 parameters)."""


@register("seed_cnn_half")
class SeedCNNHalf(SeedCNN):
    """The original's 'initial' network: every layer at half width (16/32/32, fc 512)."""

    def __init__(self, widths=(16, 32, 32), fc=512, size=32):
        super().__init__(widths=widths, fc=fc, size=size)


@register("seed_unet")
class SeedUNet(nn.Module):
    """A reconstruction of the 'modified U-Net' the original tried (its code is not preserved).

    Two pooling stages of the original's ``double_conv`` blocks (32, 64, 128 channels),
    transposed-conv upsampling with skip connections, a 1x1 conv to RGB and a sigmoid.
    N x 1 x H x W (H, W multiples of 4) -> N x 3 x H x W in [0, 1]. Trained here on correctly
    laid out targets; the original's failure was likely its HWC-as-CHW target scrambling.
    """

    output = "rgb"
    fixed_size = None
    size_multiple = 4
    in_channels = 1

    def __init__(self, widths=(32, 64, 128)):
        super().__init__()
        c1, c2, c3 = widths
        self.down1 = double_conv(1, c1)
        self.down2 = double_conv(c1, c2)
        self.bottom = double_conv(c2, c3)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(c3, c2, 2, stride=2)
        self.dec2 = double_conv(2 * c2, c2)
        self.up1 = nn.ConvTranspose2d(c2, c1, 2, stride=2)
        self.dec1 = double_conv(2 * c1, c1)
        self.head = nn.Conv2d(c1, 3, 1)

    def forward(self, x):
        s1 = self.down1(x)
        s2 = self.down2(self.pool(s1))
        b = self.bottom(self.pool(s2))
        d2 = self.dec2(torch.cat([self.up2(b), s2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), s1], dim=1))
        return torch.sigmoid(self.head(d1))
