"""Self-describing training checkpoints in one safetensors file, without pickle.

The file holds the model's tensors (``model.*``) and the optimizer's tensors
(``optim.<param index>.<key>``); everything else (resolved config, normalization, epoch,
history, optimizer and scheduler scalars) is JSON in the safetensors metadata. It is written to
a temporary file and renamed into place, so a kill at any moment leaves the previous checkpoint
intact and never a half-written one.

Also what a run takes from an exported weights folder: resuming from it (``load_export``), the
base it was fine-tuned from (``describe_base``), and its tensors as a start, in a model as wide or
wider (``init_weights``).
"""

import dataclasses
import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save

from colorizer.weights import WeightsError, atomic_write_bytes, load_model, read_config

__all__ = ["RESUMABLE_CHANGES", "check_resumable", "save_checkpoint", "load_checkpoint", "load_export", "describe_base",
           "init_weights", "CheckpointError"]

# Settings that may differ between a run and its resumption; all others must match. None of them
# alters the training itself (the inference settings are only recorded, for the export; the native
# validation only measures; precise_bn sets statistics that training mode never reads).
RESUMABLE_CHANGES = {"epochs", "max_minutes", "stop_after", "export", "device", "threads", "grid_epochs", "keep_epochs",
                     "checkpoint_every", "working_size", "flip_average", "scales", "vividness", "vividness_beta", "vividness_gain",
                     "prior_mix", "export_eval_limit", "export_default", "val_native_data", "val_native_limit",
                     "keep_best_native", "precise_bn"}


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


def load_export(folder):
    """(model_state, meta) of a weights folder a run exported (``train.export``), for ``--resume``
    when the run's checkpoint is gone (``runs/`` may not outlive a session; a long preset exports
    after every piece). meta as a checkpoint's: ``config`` (the export's training config),
    ``epoch`` (the last epoch of its history), ``history`` and ``fine_tuned_from``. The weights
    come back as float32 (an export may hold float16). An export has no optimizer or scheduler
    state: the resumed run starts Adam's moments afresh, so it is not bit-identical to an
    uninterrupted one."""
    folder = Path(folder)
    try:
        model, config = load_model(folder)
        history = json.loads((folder / "history.json").read_text())["epochs"]
        epoch = int(history[-1]["epoch"]) if history else 0
    except WeightsError as e:
        raise CheckpointError(str(e)) from None
    except (OSError, ValueError, KeyError, TypeError, IndexError) as e:
        raise CheckpointError(f"{folder}: no run history to resume from ({e})") from None
    if "train_config" not in config:
        raise CheckpointError(f"{folder}: config.json has no train_config to resume from")
    meta = {"config": config["train_config"], "epoch": epoch, "history": history}
    if "fine_tuned_from" in config:
        meta["fine_tuned_from"] = config["fine_tuned_from"]
    return model.state_dict(), meta


def check_resumable(cfg, saved, source):
    """Raise ValueError if ``cfg`` differs from a run's saved config beyond what may change on resume."""
    # A cosine schedule's shape depends on the total epochs, so those must match too.
    allowed = RESUMABLE_CHANGES - ({"epochs"} if cfg.scheduler == "cosine" else set())
    defaults = dataclasses.asdict(type(cfg)())  # keys added since the run started take their defaults
    changed = {k for k, v in dataclasses.asdict(cfg).items() if saved.get(k, defaults[k]) != v} - allowed
    if changed:
        raise ValueError(f"cannot resume {source}: settings differ from the run's: {sorted(changed)}")


def init_weights(model, folder):
    """Copy a weights folder's tensors into ``model``, which may be wider than the source.

    Each old channel keeps its weights; new input channels of old units start at zero and new
    units keep their fresh initialization, so the new network initially computes exactly what
    the old one did (a gray-only network feeding a hint network, a chroma U-Net feeding a wider
    one) and the new channels learn from there. Inputs that are concatenations are mapped part
    by part (the model's ``concat_inputs``)."""
    source, _ = load_model(folder)
    state = model.state_dict()
    old_parts = getattr(source, "concat_inputs", {})
    new_parts = getattr(model, "concat_inputs", {})
    for name, tensor in source.state_dict().items():
        target = state.get(name)
        if target is None:
            continue
        if target.shape == tensor.shape:
            target.copy_(tensor)
            continue
        grows = target.dim() == tensor.dim() and all(t >= s for t, s in zip(target.shape, tensor.shape))
        if not grows or target.shape[2:] != tensor.shape[2:]:
            raise ValueError(f"init_from {folder}: tensor {name} has shape {tuple(tensor.shape)}, the model needs {tuple(target.shape)}")
        if target.shape[0] != tensor.shape[0] and not new_parts:
            raise ValueError(f"init_from {folder}: {name} would need wider layers, and {type(model).__name__} "
                             "does not say how its concatenated inputs are laid out (concat_inputs)")
        rows = slice(0, tensor.shape[0])
        if target.dim() == 1:  # bias, batch norm scale, shift and running statistics
            target[rows] = tensor
            continue
        layer = name.rsplit(".", 1)[0]
        old_widths = old_parts.get(layer, (tensor.shape[1],))
        new_widths = new_parts.get(layer, (target.shape[1],))
        starts = [sum(new_widths[:i]) for i in range(len(new_widths))]
        columns = torch.cat([torch.arange(start, start + width) for start, width in zip(starts, old_widths)])
        target[rows] = 0
        target[rows, columns] = tensor
