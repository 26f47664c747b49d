"""Self-describing training checkpoints in one safetensors file, without pickle.

The file holds the model's tensors (``model.*``) and the optimizer's tensors
(``optim.<param index>.<key>``); everything else (resolved config, normalization, epoch,
history, optimizer and scheduler scalars) is JSON in the safetensors metadata. It is written to
a temporary file and renamed into place, so a kill at any moment leaves the previous checkpoint
intact and never a half-written one.
"""

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save

from colorizer.weights import WeightsError, atomic_write_bytes, read_config

__all__ = ["save_checkpoint", "load_checkpoint", "describe_base", "CheckpointError"]


def describe_base(path):
    """{"path", "epochs", "loss"} of the weights folder a run starts from (``init_from``), or None.

    Read when the run starts and kept in its checkpoints: a run that exports over its own base
    folder must not count that export's epochs as its base's."""
    if not path:
        return None
    try:
        base = read_config(path)
    except WeightsError:
        return {"path": str(path), "epochs": 0, "loss": None}  # unreadable: count nothing
    return {"path": str(path), "epochs": base.get("epochs", 0), "loss": base.get("train_config", {}).get("loss")}


class CheckpointError(Exception):
    """A checkpoint file that is missing or unreadable."""


def save_checkpoint(path, model, optimizer, scheduler, meta):
    """Write model + optimizer (+ scheduler) state and the JSON-able ``meta`` dict to ``path``."""
    path = Path(path)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    optim_state = optimizer.state_dict()
    scalars = {}
    for index, state in optim_state["state"].items():
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"optim.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{index}.{key}"] = value
    meta = {
        **meta,
        "optimizer": {"param_groups": optim_state["param_groups"], "scalars": scalars},
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
    }
    # Serialize in memory and write through our one fixed temp name: safetensors' save_file
    # uses a random temp name of its own, which a kill would leave behind, 90 MB at a time.
    atomic_write_bytes(path, save(tensors, metadata={"checkpoint": json.dumps(meta, default=_number)}))


def _number(value):
    """A 0-d tensor among the JSON scalars (a CUDA-graph run's learning rate) as its number."""
    if torch.is_tensor(value) and value.dim() == 0:
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def load_checkpoint(path):
    """(model_state, optimizer_state_dict, scheduler_state, meta) from :func:`save_checkpoint`."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads(f.metadata()["checkpoint"])
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except (SafetensorError, OSError, KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: unreadable checkpoint ({e})") from None
    model_state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    state = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    for key, value in meta["optimizer"]["scalars"].items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    optimizer_state = {"state": state, "param_groups": meta["optimizer"]["param_groups"]}
    return model_state, optimizer_state, meta.pop("scheduler"), meta
