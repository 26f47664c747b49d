"""Exported weights: a Hub-style folder with ``model.safetensors`` and ``config.json``.

Only safetensors and JSON are ever read, so loading weights never runs pickled code.
``config.json`` is self-describing::

    {"format": "colorizer-weights/1",
     "architecture": {"name": "seed_cnn", "kwargs": {}},
     "normalization": {"gray_mean": 121.9, "gray_std": 63.4, "scheme": "standard"},
     "epochs": 2000, "data": {...}, "metrics": {...}, "train_config": {...}}
"""

import ctypes
import errno
import json
import math
import numbers
import os
import shutil
import sys
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from .models import create_model, model_info

__all__ = ["WeightsError", "FORMAT", "MAX_WORKING_SIZE", "MAX_SCALE", "MAX_SCALES", "save_weights", "read_config", "load_model",
           "atomic_write_bytes", "inference_scales", "check_vividness", "check_vividness_gain", "default_vividness",
           "MAX_VIVIDNESS_GAIN"]

FORMAT = "colorizer-weights/1"
MAX_VIVIDNESS_GAIN = 4.0  # chroma x 5 at vividness 1 at most: beyond any measured use (1 is as colorful as photos)
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
    """Write ``model``'s state and ``config`` (a JSON-able dict) into ``folder``, atomically.

    ``half=True`` stores float16 tensors (loading casts back to float32). Integer tensors (batch
    norm's step counters) keep their type: float16 turns counts above 65504 into inf.
    The new folder is written beside the old one (``.<name>.tmp-*``, with the old folder's other
    files linked in) and then swapped in by a rename: a kill at any moment leaves the old folder
    or the new one, never a model from one save and a config from another.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    dtype = torch.float16 if half else torch.float32
    state = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
             for k, v in model.state_dict().items()}
    config = {"format": FORMAT, **config, "dtype": str(dtype).removeprefix("torch.")}
    for stale in folder.parent.glob(f".{folder.name}.tmp-*"):  # left by a save that was killed
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp-"))
    try:
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; a weights folder is an ordinary one
        if folder.is_dir():  # README, history, curves: kept (hard links, so big files cost nothing)
            for entry in folder.iterdir():
                if entry.name not in (WEIGHTS_FILE, CONFIG_FILE) and not entry.name.startswith("."):
                    if entry.is_dir():
                        shutil.copytree(entry, tmp / entry.name, copy_function=_link_or_copy)
                    else:
                        _link_or_copy(entry, tmp / entry.name)
        atomic_write_bytes(tmp / WEIGHTS_FILE, save(state))
        atomic_write_bytes(tmp / CONFIG_FILE, (json.dumps(config, indent=2) + "\n").encode())
        if not folder.exists():
            os.rename(tmp, folder)
        elif _exchange(tmp, folder):  # tmp now holds the old folder
            shutil.rmtree(tmp)
        else:  # no atomic exchange here: move the old one aside for the instant of the rename
            old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp-"))
            os.replace(folder, old)
            os.rename(tmp, folder)
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask():
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(src, dst)
    return dst


def _exchange(a, b):
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where the
    system or file system cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None) if sys.platform == "linux" else None
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(error, os.strerror(error), str(b))


# Bounds for the inference settings in config.json: generous for any sensible model, small
# enough that a typo or a hostile file cannot make one request allocate more than a few GB.
MAX_WORKING_SIZE = 1024  # long side, pixels (the shipped models use 32 and 256)
MAX_SCALE, MAX_SCALES = 2.0, 4  # relative working sizes: each at most 2x, at most 4 of them
MAX_GUIDE_RADIUS = 64  # pixels of the working size


def _real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check(config, path):
    """WeightsError naming ``path`` unless every field inference reads has its type and range."""

    def need(ok, what):
        if not ok:
            raise WeightsError(f"{path}: {what}")

    need(isinstance(config, dict) and config.get("format") == FORMAT, f"not a {FORMAT} config")
    for key in ("architecture", "normalization"):
        need(isinstance(config.get(key), dict), f"missing {key!r} (an object)")
    arch = config["architecture"]
    need(isinstance(arch.get("name"), str), "architecture.name must be a model name (a string)")
    need(isinstance(arch.get("kwargs", {}), dict), "architecture.kwargs must be an object")
    norm = config["normalization"]
    for key in ("gray_mean", "gray_std"):
        need(_real(norm.get(key)) and math.isfinite(norm[key]), f"normalization.{key} must be a finite number, not {norm.get(key)!r}")
    need(0 <= norm["gray_mean"] <= 255, f"normalization.gray_mean must lie in 0..255, not {norm['gray_mean']!r}")
    need(0 < norm["gray_std"] <= 255, f"normalization.gray_std must lie in (0, 255], not {norm['gray_std']!r}")
    inference = config.get("inference", {})
    need(isinstance(inference, dict), f"inference must be an object, not {inference!r}")
    size = inference.get("working_size", 256)
    need(isinstance(size, int) and not isinstance(size, bool) and 1 <= size <= MAX_WORKING_SIZE,
         f"inference.working_size must be a whole number in 1..{MAX_WORKING_SIZE}, not {size!r}")
    radius = inference.get("guide_radius", 2)
    need(isinstance(radius, int) and not isinstance(radius, bool) and 0 <= radius <= MAX_GUIDE_RADIUS,
         f"inference.guide_radius must be a whole number in 0..{MAX_GUIDE_RADIUS}, not {radius!r}")
    eps = inference.get("guide_eps", 1e-3)
    need(_real(eps) and math.isfinite(eps) and 0 < eps <= 1, f"inference.guide_eps must be a number in (0, 1], not {eps!r}")
    need(isinstance(inference.get("flip_average", False), bool), "inference.flip_average must be true or false")
    try:
        inference_scales(inference.get("scales", [1.0]))
        check_vividness(inference.get("vividness", 0.0))
        check_vividness_gain(inference.get("vividness_gain", 0.0))
    except ValueError as e:
        raise WeightsError(f"{path}: inference {e}") from None
    # Bin networks' decoding (colorizer.bins).
    mix = inference.get("prior_mix", 0.0)
    need(_real(mix) and 0 <= mix <= 1, f"inference.prior_mix must be a number from 0 to 1, not {mix!r}")
    for key in ("vividness_beta", "temperature"):
        value = inference.get(key, 1.0)
        need(_real(value) and 0 < value < math.inf, f"inference.{key} must be a positive finite number, not {value!r}")
    need(isinstance(config.get("default", False), bool), "default must be true or false")
    metrics = config.get("metrics", {})
    need(isinstance(metrics, dict), "metrics must be an object")
    psnr = metrics.get("val_psnr", 0.0)
    need(psnr is None or (_real(psnr) and math.isfinite(psnr)), f"metrics.val_psnr must be a finite number, not {psnr!r}")


def read_config(folder):
    """The parsed ``config.json`` of a weights folder, every field that inference reads checked
    for type and range (WeightsError naming the file otherwise)."""
    path = Path(folder) / CONFIG_FILE
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file (not a weights folder)") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise WeightsError(f"{path}: not valid JSON ({e})") from None
    except OSError as e:
        raise WeightsError(f"{path}: cannot read ({e.strerror or e})") from None
    _check(config, path)
    return config


def inference_scales(scales):
    """``scales`` (relative working sizes, config.json's or a caller's) as a tuple of floats.

    ValueError unless they are a non-empty sequence of at most ``MAX_SCALES`` numbers in
    (0, ``MAX_SCALE``] starting with 1."""
    values = tuple(scales) if isinstance(scales, (list, tuple)) else ()
    if not (values and len(values) <= MAX_SCALES and all(_real(v) and 0 < v <= MAX_SCALE for v in values) and values[0] == 1):
        raise ValueError(f"scales must be a list of at most {MAX_SCALES} numbers in (0, {MAX_SCALE:g}] starting with 1, got {scales!r}")
    return tuple(float(v) for v in values)


def check_vividness(vividness):
    """``vividness`` (config.json's or a caller's) as a float; ValueError unless a finite number
    in [0, 1] (0: the network's own distribution, 1: the strongest measured prior correction)."""
    if isinstance(vividness, bool) or not isinstance(vividness, numbers.Real) or not 0 <= vividness <= 1:
        raise ValueError(f"vividness must be a number from 0 to 1, got {vividness!r}")
    return float(vividness)


def check_vividness_gain(gain):
    """``vividness_gain`` (config.json's or an export's) as a float; ValueError unless a number
    from 0 (no vividness setting) to ``MAX_VIVIDNESS_GAIN``."""
    if isinstance(gain, bool) or not isinstance(gain, numbers.Real) or not 0 <= gain <= MAX_VIVIDNESS_GAIN:
        raise ValueError(f"vividness_gain must be from 0 to {MAX_VIVIDNESS_GAIN:g}, got {gain!r}")
    return float(gain)


def default_vividness(config):
    """A weights config's default vividness (0..1), or None for a model without the setting. Bin
    networks have it (the prior correction, ``colorizer.bins``); networks that regress chroma
    have it when ``inference.vividness_gain`` is above 0 (their chroma times 1 + vividness x
    gain, ``Colorizer``); a line-art network never (its fill sets luminance too)."""
    info = model_info(config["architecture"]["name"])
    inference = config.get("inference", {})
    if info.task == "sketch" or (info.output != "bins" and not inference.get("vividness_gain", 0.0)):
        return None
    return check_vividness(inference.get("vividness", 0.0))


def load_model(folder):
    """(network in eval mode with float32 weights, config) from a weights folder.

    Raises WeightsError naming the file when anything does not fit. The tensors' names and
    shapes are compared with the network's before either is allocated (the network built on
    the "meta" device, the file's header read alone), so a config that asks for a huge network
    costs nothing.
    """
    folder = Path(folder)
    config = read_config(folder)
    arch = config["architecture"]
    try:
        with torch.device("meta"):
            expected = {k: tuple(v.shape) for k, v in create_model(arch["name"], **arch.get("kwargs", {})).state_dict().items()}
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise WeightsError(f"{folder / CONFIG_FILE}: bad architecture: {' '.join(str(e).split())}") from None
    path = folder / WEIGHTS_FILE
    try:
        with safe_open(str(path), "pt") as f:
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file") from None
    except (SafetensorError, OSError, ValueError) as e:
        raise WeightsError(f"{path}: unreadable safetensors file ({e})") from None
    if set(shapes) != set(expected):
        missing = sorted(set(expected) - set(shapes))
        extra = sorted(set(shapes) - set(expected))
        raise WeightsError(f"{path}: tensors do not match {arch['name']}: missing {missing[:5]}, unexpected {extra[:5]}")
    for name, shape in shapes.items():
        if shape != expected[name]:
            raise WeightsError(f"{path}: tensor {name} has shape {shape}, {arch['name']} needs {expected[name]}")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise WeightsError(f"{path}: unreadable safetensors file ({e})") from None
    for name, tensor in state.items():
        if not torch.isfinite(tensor).all():
            raise WeightsError(f"{path}: tensor {name} holds NaN or inf")
    if "bin_prior" in state:  # prior correction takes its log and divides by it
        prior = state["bin_prior"].double()
        if not ((prior > 0).all() and abs(prior.sum().item() - 1) < 1e-2):
            raise WeightsError(f"{path}: bin_prior must be positive and sum to 1")
    model = create_model(arch["name"], **arch.get("kwargs", {}))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model.eval(), config
