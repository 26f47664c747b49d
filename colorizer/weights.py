"""Exported weights: a Hub-style folder with ``model.safetensors`` and ``config.json``.

Only safetensors and JSON are ever read, so loading weights never runs pickled code.
``config.json`` is self-describing::

    {"format": "colorizer-weights/1",
     "architecture": {"name": "seed_cnn", "kwargs": {}},
     "normalization": {"gray_mean": 121.9, "gray_std": 63.4, "scheme": "standard"},
     "epochs": 2000, "data": {...}, "metrics": {...}, "train_config": {...}}
"""

import json
import math
import numbers
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from .models import create_model

__all__ = ["WeightsError", "FORMAT", "save_weights", "read_config", "load_model", "atomic_write_bytes", "inference_scales",
           "check_vividness"]

FORMAT = "colorizer-weights/1"
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


class WeightsError(Exception):
    """A weights folder that is missing, truncated, tampered with or inconsistent."""


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename,
    so a reader (or a crash) never sees a half-written file."""
    path = Path(path)
    # One fixed temp name: a kill mid-write leaves at most this file, which the next write replaces.
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:  # plain open: honours the umask (published weights stay readable)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_weights(folder, model, config, half=False):
    """Write ``model``'s state and ``config`` (a JSON-able dict) into ``folder``.

    ``half=True`` stores float16 tensors (loading casts back to float32). Integer tensors (batch
    norm's step counters) keep their type: float16 turns counts above 65504 into inf.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dtype = torch.float16 if half else torch.float32
    state = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
             for k, v in model.state_dict().items()}
    config = {"format": FORMAT, **config, "dtype": str(dtype).removeprefix("torch.")}
    atomic_write_bytes(folder / WEIGHTS_FILE, save(state))
    atomic_write_bytes(folder / CONFIG_FILE, (json.dumps(config, indent=2) + "\n").encode())


def read_config(folder):
    """The parsed ``config.json`` of a weights folder, checked for the required keys."""
    path = Path(folder) / CONFIG_FILE
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file (not a weights folder)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise WeightsError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise WeightsError(f"{path}: not a {FORMAT} config")
    for key in ("architecture", "normalization"):
        if not isinstance(config.get(key), dict):
            raise WeightsError(f"{path}: missing {key!r}")
    norm = config["normalization"]
    if not all(isinstance(norm.get(k), (int, float)) for k in ("gray_mean", "gray_std")):
        raise WeightsError(f"{path}: normalization needs numeric gray_mean and gray_std")
    if norm["gray_std"] <= 0:
        raise WeightsError(f"{path}: gray_std must be positive")
    inference = config.get("inference", {})
    try:
        if not isinstance(inference, dict):
            raise ValueError("must be a JSON object")
        inference_scales(inference.get("scales", [1.0]))
        check_vividness(inference.get("vividness", 0.0))
        mix = inference.get("prior_mix", 0.0)
        if isinstance(mix, bool) or not isinstance(mix, numbers.Real) or not 0 <= mix <= 1:
            raise ValueError(f"prior_mix must be a number from 0 to 1, got {mix!r}")
        for key in ("vividness_beta", "temperature"):  # bin networks' decoding (colorizer.bins)
            value = inference.get(key, 1.0)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < math.inf:
                raise ValueError(f"{key} must be a positive finite number, got {value!r}")
    except ValueError as e:
        raise WeightsError(f"{path}: inference {e}") from None
    return config


def inference_scales(scales):
    """``scales`` (relative working sizes, config.json's or a caller's) as a tuple of floats.

    ValueError unless they are a non-empty sequence of positive numbers starting with 1."""
    try:
        values = tuple(scales)
    except TypeError:
        values = ()
    if not (values and all(isinstance(v, numbers.Real) and v > 0 for v in values) and values[0] == 1):
        raise ValueError(f"scales must be a list of positive numbers starting with 1, got {scales!r}")
    return tuple(float(v) for v in values)


def check_vividness(vividness):
    """``vividness`` (config.json's or a caller's) as a float; ValueError unless a finite number
    in [0, 1] (0: the network's own distribution, 1: the strongest measured prior correction)."""
    if isinstance(vividness, bool) or not isinstance(vividness, numbers.Real) or not 0 <= vividness <= 1:
        raise ValueError(f"vividness must be a number from 0 to 1, got {vividness!r}")
    return float(vividness)


def load_model(folder):
    """(network in eval mode with float32 weights, config) from a weights folder.

    Raises WeightsError naming the file when anything does not fit.
    """
    folder = Path(folder)
    config = read_config(folder)
    arch = config["architecture"]
    try:
        model = create_model(arch["name"], **arch.get("kwargs", {}))
    except (KeyError, TypeError) as e:
        raise WeightsError(f"{folder / CONFIG_FILE}: bad architecture: {e}") from None
    path = folder / WEIGHTS_FILE
    try:
        state = load_file(str(path))
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file") from None
    except (SafetensorError, OSError, ValueError) as e:
        raise WeightsError(f"{path}: unreadable safetensors file ({e})") from None
    expected = model.state_dict()
    if set(state) != set(expected):
        missing = sorted(set(expected) - set(state))
        extra = sorted(set(state) - set(expected))
        raise WeightsError(f"{path}: tensors do not match {arch['name']}: missing {missing[:5]}, unexpected {extra[:5]}")
    for name, tensor in state.items():
        if tensor.shape != expected[name].shape:
            raise WeightsError(
                f"{path}: tensor {name} has shape {tuple(tensor.shape)}, {arch['name']} needs {tuple(expected[name].shape)}"
            )
        if not torch.isfinite(tensor).all():
            raise WeightsError(f"{path}: tensor {name} holds NaN or inf")
    if "bin_prior" in state:  # prior correction takes its log and divides by it
        prior = state["bin_prior"].double()
        if not ((prior > 0).all() and abs(prior.sum().item() - 1) < 1e-2):
            raise WeightsError(f"{path}: bin_prior must be positive and sum to 1")
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model.eval(), config
