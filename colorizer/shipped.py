"""The shipped weights folders: which there are, which one serves by default.

Every ``weights/<name>/`` folder with a readable ``config.json`` is a model. Colorizers (gray in,
colors out) serve the app, the CLI and :func:`colorizer.load`'s default; line-art networks
(``task = "sketch"`` on their class) only fill the undabbed regions of sketch mode.
"""

import logging
import math
import os
from pathlib import Path

from .models import accepts_hints, model_info
from .weights import WeightsError, read_config

__all__ = ["weights_dir", "shipped_models", "default_model_name", "best_model_name", "takes_hints", "task_of"]

log = logging.getLogger(__name__)


def weights_dir():
    """Folder of shipped weights: ``$COLORIZER_WEIGHTS`` or ``weights/`` beside the package."""
    return Path(os.environ.get("COLORIZER_WEIGHTS") or Path(__file__).resolve().parents[1] / "weights")


def shipped_models(task="color"):
    """{name: config} for every ``weights/<name>/`` folder that holds a readable config of a
    network for ``task``: "color" (colorizers) or "sketch" (line-art networks, :func:`task_of`).

    A folder whose config does not pass :func:`read_config` is skipped with a warning (logged
    once per folder and problem): one broken folder must not take the others, the app or the
    CLI down. Dot folders (a save in progress, see ``save_weights``) are not models."""
    found = {}
    root = weights_dir()
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if not folder.name.startswith(".") and (folder / "config.json").is_file():
            try:
                config = read_config(folder)
            except WeightsError as e:
                _warn_once(f"skipping weights folder {folder}: {e}")
                continue
            if task_of(config) == task:
                found[folder.name] = config
    return found


_warned = set()


def _warn_once(message):
    if message not in _warned:
        _warned.add(message)
        log.warning("%s", message)


def best_model_name(configs):
    """The name in ``{name: weights config}`` that serves by default, bundled or from the Hub:
    a config exported as the default (``"default": true``, ``train.export --default``) first,
    then the best validation PSNR (ties: the first by name). The flag exists because PSNR alone
    prefers washed-out colors: the shipped default gives up a little PSNR to be colorful."""

    def rank(item):
        psnr = item[1].get("metrics", {}).get("val_psnr")
        return item[1].get("default") is True, psnr if isinstance(psnr, (int, float)) else -math.inf

    return max(sorted(configs.items()), key=rank)[0]  # max keeps the first of equals


def default_model_name(names=None):
    """The shipped model (among ``names``, default all) chosen by :func:`best_model_name`."""
    models = shipped_models()
    if names is not None:
        models = {n: c for n, c in models.items() if n in names}
    if not models:
        raise WeightsError(f"no weights found in {weights_dir()}")
    return best_model_name(models)


def _network_class(config):
    """The registered class a weights config names, or None if it names none."""
    try:
        return model_info(config["architecture"]["name"])
    except (KeyError, TypeError):
        return None


def takes_hints(config):
    """Whether the network a weights config names takes color hints (False if it names none)."""
    network = _network_class(config)
    return network is not None and accepts_hints(network)


def task_of(config):
    """"sketch" for a weights config of a line-art network, else "color" (also for unknown names)."""
    network = _network_class(config)
    return "color" if network is None else network.task
