"""Weights from the Hugging Face Hub, with the bundled ``weights/`` folder as the fallback.

``COLORIZER_HUB_REPO=user/name`` names a model repository that holds either one weights folder
at its root (``config.json`` + ``model.safetensors``) or several as subfolders
(``<model>/config.json``, the layout of ``weights/``). :func:`model_folders` returns the bundled
models plus the Hub's (a Hub model replaces a bundled one of the same name).

Never hangs: the local Hub cache is tried first (``local_files_only``); the network only when
offline mode is off, in a background thread given ``timeout`` seconds
(``$COLORIZER_HUB_TIMEOUT``, default 10). Any failure logs one warning and falls back to the
bundled weights.
"""

import logging
import os
import threading
from pathlib import Path

from .shipped import shipped_models, task_of, weights_dir
from .weights import WeightsError, read_config

__all__ = ["hub_repo", "hub_cache_dir", "is_offline", "fetch", "folders_in", "model_folders"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
PATTERNS = ["*.json", "*.safetensors", "*.png", "*.md"]


def hub_repo():
    """The configured Hub repository (``$COLORIZER_HUB_REPO``), or None."""
    return os.environ.get("COLORIZER_HUB_REPO", "").strip() or None


def hub_cache_dir():
    """The Hub cache, read from the environment now (huggingface_hub reads it only at import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    return None


def _truthy(value):
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def is_offline():
    """True when ``HF_HUB_OFFLINE`` is set now or was set when huggingface_hub was imported."""
    from huggingface_hub import constants

    return _truthy(os.environ.get("HF_HUB_OFFLINE", "")) or bool(constants.HF_HUB_OFFLINE)


def _download(repo_id, revision, timeout, **kwargs):
    """snapshot_download in a daemon thread; None if it fails or takes longer than ``timeout``."""
    from huggingface_hub import snapshot_download

    result = {}

    def work():
        try:
            result["path"] = snapshot_download(repo_id, revision=revision, etag_timeout=timeout, **kwargs)
        except Exception as e:  # noqa: BLE001 - any failure means: use the bundled weights
            result["error"] = e

    thread = threading.Thread(target=work, name=f"hub-download-{repo_id}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        log.warning("Hub download of %s took longer than %.0f s; using the bundled weights", repo_id, timeout)
        return None
    if "error" in result:
        log.warning("Hub download of %s failed (%s); using the bundled weights", repo_id, result["error"])
        return None
    return Path(result["path"])


def fetch(repo_id, revision=None, timeout=None):
    """Local folder of a Hub model repository's snapshot, or None when it cannot be had quickly."""
    from huggingface_hub import snapshot_download

    kwargs = {"repo_type": "model", "cache_dir": hub_cache_dir(), "allow_patterns": PATTERNS}
    try:
        return Path(snapshot_download(repo_id, revision=revision, local_files_only=True, **kwargs))
    except Exception:  # noqa: BLE001 - not cached (or a broken cache): try the network
        pass
    if is_offline():
        log.warning("%s is not in the Hub cache and HF_HUB_OFFLINE is set; using the bundled weights", repo_id)
        return None
    if timeout is None:
        timeout = float(os.environ.get("COLORIZER_HUB_TIMEOUT") or DEFAULT_TIMEOUT)
    return _download(repo_id, revision, timeout, endpoint=os.environ.get("HF_ENDPOINT") or None, **kwargs)


def folders_in(root, root_name=None):
    """{name: folder} of the readable colorizer weights folders in ``root``: ``root`` itself when it
    holds a ``config.json`` (named ``root_name``), else its subfolders that do."""
    root = Path(root)
    candidates = [(root_name or root.name, root)] if (root / "config.json").is_file() else [
        (sub.name, sub) for sub in sorted(root.iterdir()) if sub.is_dir() and (sub / "config.json").is_file()
    ]
    found = {}
    for name, folder in candidates:
        try:
            config = read_config(folder)
        except WeightsError as e:
            log.warning("skipping %s: %s", folder, e)
            continue
        if task_of(config) == "color":  # a line-art network only serves sketch mode, from weights/
            found[name] = folder
    return found


def model_folders(repo_id=None, timeout=None):
    """{name: weights folder}: the bundled models (``weights_dir()``) plus, when a Hub repository is
    given or configured and can be had, its models (they win on equal names)."""
    folders = {name: weights_dir() / name for name in shipped_models()}
    repo_id = repo_id or hub_repo()
    if repo_id:
        snapshot = fetch(repo_id, timeout=timeout)
        if snapshot is not None:
            folders.update(folders_in(snapshot, root_name=repo_id.rsplit("/", 1)[-1]))
    return folders
