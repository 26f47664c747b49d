"""The one inference pipeline: preprocess -> network -> postprocess.

The app, the CLI, evaluation and the tests all go through :class:`Colorizer`.

- preprocess: any image -> luminance ``y_full`` (N x 1 x H x W, float32 in [0, 1]; the original's
  gray formula), shrunk to the network's working size and standardized with the training set's
  gray mean and std (in 0..255 units, as saved with the weights).
- network: standardized gray (plus hint channels, for hint networks) -> RGB or chroma.
- postprocess ("full" mode): the predicted chroma is brought to full size guided by ``y_full``,
  scaled into the RGB gamut, and recombined with the input's own Y, so the output keeps every
  detail and the exact luminance of the input. "seed" mode returns the network's raw RGB output
  resized to the input size, as the original project showed it.
"""

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .bins import TEMPERATURE, decode
from .color import rgb_to_ycbcr_torch, to_gray, ycbcr_to_rgb_in_gamut
from .held_out import held_out_hints, held_out_trust
from .hints import hint_channels, parse_hints
from .images import open_image
from .models import accepts_hints
from .upsample import guided_upsample, resize
from .propagate import propagate_strokes
from .regrade import regrade_to_strokes
from .shipped import _warn_once, best_model_name, default_model_name, shipped_models, takes_hints, weights_dir
from .sketch import fill_sketch, hint_colors, network_drawing
from .weights import WeightsError, check_vividness, inference_scales, load_model

__all__ = ["Colorizer", "load", "MODES"]

MODES = ("full", "seed", "sketch")

class Colorizer:
    """A loaded network plus everything needed to run it on real images.

    ``working_size``: for networks that take any size, the long side (pixels) the input is
    shrunk to before the network (never enlarged); networks with a fixed input size use that.
    ``flip_average``: average the network's output with its output for the mirrored input
    (mirrored back). ``scales``: relative working sizes whose outputs are averaged, e.g.
    ``(1.0, 1.25)`` also runs the network on the gray at 1.25x the working size (images without
    hints only: hints are points placed at the working size). All three default to the weights
    config's ``inference`` section.

    Bin networks (``output == "bins"``) predict a distribution over chroma; it is decoded with the
    annealed mean at the config's ``temperature`` after dividing out ``prior^beta``, where
    beta = ``vividness`` x the config's ``vividness_beta``, the prior first mixed with the config's
    ``prior_mix`` share of the uniform distribution (see ``colorizer.bins.decode``). Networks that
    regress chroma have the setting when the config's ``vividness_gain`` is above 0: their chroma
    times 1 + ``vividness`` x ``vividness_gain`` (the hue kept; the gamut fit keeps Y exact). The
    config's ``vividness`` is the default of :meth:`colorize` (``weights.default_vividness``).
    """

    def __init__(self, model, config, name=None, working_size=None, hint_model=None, flip_average=None, scales=None):
        self.model = model.eval()
        # For a gray-only network: the shipped hint network that hinted calls are routed to.
        self.hint_model = hint_model
        self.config = config
        self.name = name or config["architecture"]["name"]
        norm = config["normalization"]
        self.gray_mean = float(norm["gray_mean"])
        self.gray_std = float(norm["gray_std"])
        inference = config.get("inference", {})
        self.working_size = int(working_size or inference.get("working_size") or 256)
        self.guide_radius = int(inference.get("guide_radius", 2))
        self.guide_eps = float(inference.get("guide_eps", 1e-3))
        self.flip_average = bool(inference.get("flip_average", False) if flip_average is None else flip_average)
        self.scales = inference_scales(inference.get("scales", [1.0]) if scales is None else scales)
        self.vividness = check_vividness(inference.get("vividness", 0.0))
        self.vividness_beta = float(inference.get("vividness_beta", 0.0))
        self.vividness_gain = float(inference.get("vividness_gain", 0.0))
        self.temperature = float(inference.get("temperature", TEMPERATURE))
        self.prior_mix = float(inference.get("prior_mix", 0.0))

    @property
    def accepts_hints(self):
        return accepts_hints(self.model)

    def working_shape(self, height, width, scale=1.0):
        """(h, w) the network sees for an H x W input (``scale``: one of ``scales``)."""
        if self.model.fixed_size:
            return self.model.fixed_size, self.model.fixed_size
        m = self.model.size_multiple
        shrink = min(1.0, self.working_size / max(height, width))
        return tuple(max(m, round(side * shrink * scale / m) * m) for side in (height, width))

    def _network(self, y_small, hints=None, flip_average=True):
        """Gray y_small N x 1 x h x w in [0, 1] (+ the network's other input channels: hints
        N x 3 x h x w, zeros if None; a line-art network's page mask) -> network output."""
        x = (y_small * 255.0 - self.gray_mean) / self.gray_std
        if self.model.in_channels > 1:
            extra = torch.zeros(x.shape[0], self.model.in_channels - 1, *x.shape[-2:]) if hints is None else hints.to(x)
            x = torch.cat([x, extra], dim=1)
        out = self.model(x)
        if self.flip_average and flip_average:  # a cheap ensemble: the network is not mirror-symmetric, the world mostly is
            out = 0.5 * (out + self.model(x.flip(-1)).flip(-1))
        return out

    def _views(self, y_full, y_small, hints, mode):
        """The network's output at the working size, averaged over ``scales`` for unhinted images."""
        out = self._network(y_small, hints, flip_average=mode != "seed")
        if len(self.scales) > 1 and mode != "seed" and not self.model.fixed_size:
            unhinted = torch.ones(len(out), dtype=torch.bool) if hints is None else hints[:, 2].flatten(1).amax(1) == 0
            if unhinted.any():
                size = tuple(y_small.shape[-2:])
                views = [resize(self._network(resize(y_full, self.working_shape(*y_full.shape[-2:], s))), size) for s in self.scales[1:]]
                out = torch.where(unhinted[:, None, None, None], (out + sum(views)) / len(self.scales), out)
        return out

    def _chroma(self, out, vividness):
        """The network's output at the working size -> centred chroma N x 2 x h x w: bin logits
        (averaged over flips and scales) decoded at ``vividness``; RGB converted and chroma as it
        is, times 1 + ``vividness`` x the config's ``vividness_gain``."""
        if self.model.output == "bins":
            return decode(out, self.model.bin_prior, self.temperature, vividness * self.vividness_beta, self.model.grid,
                          self.prior_mix)
        chroma = rgb_to_ycbcr_torch(out)[:, 1:] if self.model.output == "rgb" else out
        gain = self._gain(vividness)
        return chroma if gain == 1 else chroma * gain

    def _gain(self, vividness):
        """The factor on a regression network's chroma at ``vividness`` (1 for bin networks)."""
        return 1.0 if self.model.output == "bins" else 1.0 + vividness * self.vividness_gain

    @torch.inference_mode()
    def predict(self, y_full, hints=None, mode="full", strokes=None, vividness=None):
        """The core, batched: y_full N x 1 x H x W float in [0, 1] -> RGB N x 3 x H x W in [0, 1].

        hints: None, or a N x 3 x h x w tensor of hint channels at the working size
        (see ``colorizer.hints``). strokes: None, or per image None or the full-resolution hint
        points (``parse_hints`` output) that the output must obey, in their regions
        (``colorizer.propagate``). vividness: 0..1, None for the config's (networks without the
        setting ignore it). In "full" mode the result's luminance equals ``y_full``.
        """
        if mode not in ("full", "seed"):
            raise ValueError(f"unknown mode {mode!r} for predict; choose full or seed (sketch: see colorize)")
        vividness = self.vividness if vividness is None else check_vividness(vividness)
        y_full = y_full.float()
        if hints is not None and not self.accepts_hints:
            raise ValueError(f"model {self.name!r} does not take color hints")
        size = self.working_shape(*y_full.shape[-2:])
        y_small = resize(y_full, size)
        out = self._views(y_full, y_small, hints, mode)
        if self.model.output == "rgb" and mode == "seed":
            return resize(out, tuple(y_full.shape[-2:]), mode="nearest").clamp(0, 1)
        cbcr_small = self._chroma(out, vividness)
        hinted = [i for i, points in enumerate(strokes or []) if points is not None]
        if hinted:
            # The hinted network spreads a hint's color by what it knows, also where the strokes
            # say nothing and across edges: its change is only kept as far as the strokes vouch
            # for it, on top of the automatic colors (colorizer.propagate).
            cbcr_auto = self._chroma(self._views(y_full, y_small, None, mode), vividness)
            change = (cbcr_small - cbcr_auto) / self._gain(vividness)  # vividness is for the automatic colors, not the strokes'
            for i in hinted:  # a few strokes: as far as the change foresees each stroke left out (colorizer.held_out)
                held_out = held_out_hints(strokes[i], (y_full.shape[-1], y_full.shape[-2]), size)
                if held_out is not None:
                    without, alone = held_out
                    out_without = self._network(y_small[i : i + 1].expand(len(without), -1, -1, -1), without)
                    change_without = (self._chroma(out_without, vividness) - cbcr_auto[i : i + 1]) / self._gain(vividness)
                    change[i] *= held_out_trust(change_without, alone, cbcr_auto[i : i + 1])
            cbcr_small = cbcr_small.clone()  # the network's output may be a view
            cbcr_small[hinted] = cbcr_auto[hinted]  # hinted images start from the automatic colors
        cbcr_full = guided_upsample(cbcr_small, y_small, y_full, self.guide_radius, self.guide_eps)
        for i in hinted:  # then the strokes' own colors, at full resolution (re-graded first if many agree)
            regraded = regrade_to_strokes(y_full[i : i + 1], cbcr_full[i : i + 1], strokes[i], change[i : i + 1])
            cbcr_full[i : i + 1] = propagate_strokes(y_full[i : i + 1], regraded, strokes[i], change[i : i + 1])
        return ycbcr_to_rgb_in_gamut(y_full, cbcr_full)

    def colorize(self, image, mode="full", hints=None, vividness=None):
        """Colorize one image; returns a PIL RGB image of the input's size.

        image: a PIL image, a uint8 array (H x W gray or H x W x 3/4), a path or bytes; color
        input is first made gray with the original's formula. hints: a list of
        ``(x, y, (r, g, b))`` (column, row in input pixels; 8-bit color, only its chroma is used)
        or an RGBA hint image of the input's size (transparent where there is no hint); the
        output obeys them at full resolution, in their regions (``colorizer.propagate``).
        mode "sketch": the input is a line drawing whose regions are filled with the colors
        (luminance too) of the hints inside them (``colorizer.sketch``).
        vividness: 0 (faithful) .. 1 (most vivid), None for the model's default (models without
        the setting, :func:`colorizer.weights.default_vividness` None, ignore it).
        Raises ``ImageInputError`` for unusable input, ValueError for unusable hints or settings.
        """
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of {MODES}")
        if mode != "sketch" and self.model.task == "sketch":
            raise ValueError(f"model {self.name!r} is a line-art network: it colors drawings, mode 'sketch'")
        if vividness is not None:
            check_vividness(vividness)  # before any work on the image
        pil = open_image(image)
        y_full = self.luminance(pil)
        if mode == "sketch":
            return to_pil(self.fill_drawing(y_full, None if hints is None else hint_colors(hints, pil.size))[0])
        hint_tensor = points = None
        if hints is not None and (len(hints) if isinstance(hints, (list, tuple)) else True):
            if not self.accepts_hints:
                if self.hint_model is None:
                    raise ValueError(f"model {self.name!r} does not take color hints")
                if isinstance(self.hint_model, str):  # loaded on first use only
                    self.hint_model = load(self.hint_model)
                return self.hint_model.colorize(pil, mode=mode, hints=hints, vividness=vividness)
            points = parse_hints(hints, pil.size)
            hint_tensor = hint_channels(points, pil.size, self.working_shape(pil.height, pil.width))
        rgb = self.predict(y_full, hints=hint_tensor, mode=mode, strokes=[points], vividness=vividness)
        return to_pil(rgb[0])

    def fill_drawing(self, y_full, dabs):
        """Sketch mode (``colorizer.sketch.fill_sketch``): y_full 1 x 1 x H x W drawing in [0, 1],
        dabs as ``hint_colors`` gives them -> RGB 1 x 3 x H x W in [0, 1]. Regions without a dab
        take a line-art network's colors: this network if it is one, else the shipped one; with
        none they stay white."""
        lineart = self if self.model.task == "sketch" else shipped_lineart()
        return fill_sketch(y_full, dabs, None if lineart is None else lineart.lineart_colors)

    @torch.inference_mode()
    def lineart_colors(self, lines):
        """A line-art network's colors for a drawing's closed lines (H x W bool): RGB 1 x 3 x h x w
        in [0, 1] at the working size, the network run on ``network_drawing`` (drawing and page)."""
        drawing = network_drawing(lines, self.working_shape(*lines.shape))
        return self._network(drawing[:, :1], drawing[:, 1:]).clamp_(0, 1)

    @staticmethod
    def luminance(pil):
        """PIL "L"/"RGB" image -> 1 x 1 x H x W float32 tensor in [0, 1] (the original's gray)."""
        if pil.mode == "L":
            gray = np.asarray(pil, dtype=np.float32)
        else:
            gray = to_gray(np.asarray(pil.convert("RGB")))
        return torch.from_numpy(gray / np.float32(255.0))[None, None]


def to_pil(rgb):
    """3 x H x W float tensor in [0, 1] -> PIL RGB image (rounded to 8 bits)."""
    array = np.empty((*rgb.shape[1:], 3), dtype=np.uint8)
    for top in range(0, len(array), 256):  # bands of rows: a whole float copy is 192 MB at 16 MP
        array[top : top + 256] = rgb[:, top : top + 256].permute(1, 2, 0).mul(255.0).round_().clamp_(0, 255).to(torch.uint8).numpy()
    return Image.fromarray(array, mode="RGB")


def load(name_or_path=None, working_size=None, flip_average=None, scales=None):
    """A :class:`Colorizer` for a shipped model name, a weights folder, or None (the default).

    The default model accepts ``hints=``: if it is a gray-only network, hinted calls go to the
    shipped hint network that :func:`best_model_name` ranks first. ``working_size``,
    ``flip_average`` and ``scales`` override the weights config's (see :class:`Colorizer`). Raises WeightsError
    (naming the file) when the weights cannot be used.
    """
    if name_or_path is None:
        return _load_default(working_size=working_size, flip_average=flip_average, scales=scales)
    path = Path(name_or_path)
    if not (path / "config.json").exists():
        shipped = weights_dir() / str(name_or_path)
        if not shipped.is_dir():
            known = ", ".join(shipped_models()) or "none"
            raise WeightsError(f"no model named {name_or_path!r} (shipped models: {known}) and no such folder")
        path = shipped
    model, config = load_model(path)
    return Colorizer(model, config, name=path.name, working_size=working_size, flip_average=flip_average, scales=scales)


_lineart = {}


def shipped_lineart():
    """The shipped line-art network (the first ``task = "sketch"`` folder by name that loads) as a
    :class:`Colorizer`, loaded once per weights folder; None if there is none."""
    root = weights_dir()
    if root not in _lineart:
        _lineart[root] = None
        for name in shipped_models(task="sketch"):
            try:
                _lineart[root] = load(name)
                break
            except WeightsError as e:
                _warn_once(f"skipping weights folder {root / name}: {e}")
    return _lineart[root]


def _load_default(**options):
    """The default model (see :func:`load`): the first by :func:`best_model_name` whose tensors
    load; a folder that fails is skipped with a warning."""
    configs = shipped_models()
    hint_names = [n for n, c in configs.items() if takes_hints(c)]
    hint_model = default_model_name(hint_names) if hint_names else None
    while configs:
        name = best_model_name(configs)
        try:
            model = load(name, **options)
        except WeightsError as e:
            _warn_once(f"skipping weights folder {weights_dir() / name}: {e}")
            del configs[name]
            continue
        model.hint_model = None if model.accepts_hints else hint_model
        return model
    raise WeightsError(f"no usable weights found in {weights_dir()}")
