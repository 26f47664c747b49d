"""colorizer: turn grayscale images into color with small PyTorch networks.

Quick start::

    import colorizer
    c = colorizer.load()                 # the best shipped model
    rgb = c.colorize("photo.jpg")        # PIL RGB image, same size as the input
"""

from .color import fit_chroma_torch, rgb_to_ycbcr, rgb_to_ycbcr_torch, to_gray, ycbcr_to_rgb, ycbcr_to_rgb_torch
from .hints import MAX_HINTS, HintError, hints_from_json, parse_hints, sample_hints
from .images import ImageInputError, open_image
from .models import create_model, list_models, model_info
from . import chroma_net  # noqa: F401  (registers the chroma networks)
from .panel import make_panel
from .pipeline import Colorizer, load
from .shipped import best_model_name, default_model_name, shipped_models, weights_dir
from .weights import WeightsError, load_model, read_config, save_weights

__all__ = [
    "to_gray",
    "rgb_to_ycbcr",
    "ycbcr_to_rgb",
    "rgb_to_ycbcr_torch",
    "ycbcr_to_rgb_torch",
    "fit_chroma_torch",
    "HintError",
    "MAX_HINTS",
    "hints_from_json",
    "parse_hints",
    "sample_hints",
    "ImageInputError",
    "open_image",
    "create_model",
    "list_models",
    "model_info",
    "make_panel",
    "Colorizer",
    "load",
    "default_model_name",
    "best_model_name",
    "shipped_models",
    "weights_dir",
    "WeightsError",
    "load_model",
    "read_config",
    "save_weights",
]
