"""Training configuration: one dataclass with commented defaults, CLI overrides (presets: train.presets).

``python -m train [preset] --key=value ...``: the preset's values replace the defaults, then
each ``--key=value`` replaces one field. Values are parsed and type-checked against the field's
type; unknown keys are rejected with the list of known ones. The defaults are the original
project's run: ``seed_cnn``, Adam, lr 1e-4, batch 100, 2000 epochs, MSE on RGB.
"""

import dataclasses
import json
import typing
from dataclasses import dataclass, field

from .data import DATA_DIR
from .presets import PRESETS

__all__ = ["TrainConfig", "DATA_DIR", "parse_args", "config_from_dict"]


@dataclass
class TrainConfig:
    # what to train
    model: str = "seed_cnn"  # a name from colorizer.list_models()
    model_kwargs: dict = field(default_factory=dict)  # passed to create_model (JSON on the CLI)
    # data: sources in the train|test/<class>/<file> layout (folder, .tar.gz or .zip)
    data: list = field(default_factory=lambda: [str(DATA_DIR / "cifar10-images.tar.gz"), str(DATA_DIR / "linnaeus5-32.tar.gz")])
    extra_train_data: list = field(default_factory=list)  # larger images, random crops only (e.g. linnaeus5-128)
    extra_size: int = 0  # side of the extra images' crops (loaded at twice this); 0 = image_size. Mixed scales: 32 and 64
    extra_share: float = 0.0  # share of each epoch's images drawn from the extra set (cycling through it); 0 = in
    # proportion to its size. The extra set is the larger, more varied pictures users bring: worth oversampling
    extra_gray_pages: list = field(default_factory=list)  # classes of the extra set whose plain page (four corners of
    # one color) loses its chroma before cropping (each pixel the gray of its own luminance): the corpus flattens half
    # its clip-art onto random plain colors, which no gray input can tell apart, and the bin network learnt to paint
    # flat backgrounds loud colors; neutral is the answer that is never loudly wrong (white pages: measured worse)
    classes: list = field(default_factory=list)  # train and validate only on these classes of the data (empty: all)
    image_size: int = 32  # every image is resized to this square size when loaded (antialiased)
    val_limit: int = 0  # validate on only the first N validation images (0 = all)
    val_native_data: list = field(default_factory=list)  # sources whose test split is also colorized each epoch at its own
    # size through the inference pipeline (train.native_val; history: "native"): the larger pictures users bring, which
    # the validation above, at image_size, does not see. A row per source, a row per kind for the corpus
    val_native_limit: int = 400  # at most this many of those images a row, evenly spread (0 = all)
    keep_best_native: bool = False  # keep the epoch whose native rows gain most over gray on average (rows weighted
    # equally) as <out_dir>/best_native.safetensors: a snapshot to export should the schedule's tail do worse at that size
    precise_bn: int = 0  # > 0: before each validation, BatchNorm's running statistics become the plain mean over this
    # many batches of the extra set's crops at extra_size (the main set's without one): train.precise_bn. The momentum
    # average they replace is the last ~10 batches', 32 or 64 px at random. The training itself is unchanged
    epoch_images: int = 0  # train each epoch on this many main-set images (the extra set in proportion), 0 = all:
    # short epochs, so that a slow CPU checkpoints (and can stop) often
    # normalization of the gray input
    normalization: str = "standard"  # "standard": (x - mean) / std; "seed_mean": the original's (x - mean) / mean
    # optimization (the original's run)
    epochs: int = 2000
    batch_size: int = 100
    lr: float = 1e-4
    weight_decay: float = 0.0
    scheduler: str = "none"  # "none", "plateau" (ReduceLROnPlateau on the validation loss) or "cosine"
    plateau_factor: float = 0.1
    plateau_patience: int = 10
    loss: str = "mse_rgb"  # "mse_rgb": MSE on RGB in [0, 1] (original); "mse_cbcr": on chroma; "psnr_rgb": -mean per-image PSNR;
    # "ce_bins": cross-entropy over chroma bins (bin networks)
    rebalance: float = 1.0  # ce_bins: class-rebalancing lambda (ECCV 2016 used 0.5); 1 = plain cross-entropy
    colorfulness_weight: float = 0.0  # > 0: add this times the mean per-image colorfulness deficit (keeps colors vivid)
    shuffle: str = "once"  # "once": one seeded shuffle kept for all epochs (original); "every_epoch"
    augment: bool = False  # random flips and scale-jittered crops (deterministic per seed and epoch)
    hints: bool = False  # feed simulated color hints (hint networks only)
    hints_none: float = 0.5  # with hints on: the fraction of training images that get no hints
    seed: int = 0
    init_from: str = ""  # start from these weights (a weights folder); new channels start as no-ops
    # machinery
    device: str = "auto"  # "auto" (cuda if available), "cpu" or "cuda"
    threads: int = 0  # torch CPU threads (0 = torch's default)
    amp: str = "none"  # "none" or "bf16": autocast the training steps (CUDA, or a CPU with AMX / AVX-512 bf16)
    channels_last: bool = False  # NHWC layout for the convolutions: faster on CPU (oneDNN) and on tensor cores
    compile: bool = False  # torch.compile the model (CUDA)
    # CUDA: each epoch's steps and the validation captured once as CUDA graphs and replayed, data on
    # the GPU, one host sync per epoch (train/cuda_graph.py). On CPU the same code runs eagerly and
    # gives the plain loop's weights bit for bit. Not with augment, hints or extra_train_data.
    cuda_graph: bool = False
    tf32: bool = False  # with cuda_graph: TF32 matmuls and convolutions (false: full float32)
    out_dir: str = "runs/seed_cnn"  # checkpoints, history, plots (git-ignored)
    checkpoint_every: int = 50  # epochs between checkpoints (and always at the end)
    keep_epochs: list = field(default_factory=lambda: [500])  # epochs whose checkpoint is kept as a snapshot
    grid_epochs: list = field(default_factory=lambda: [500])  # epochs with an example grid (the last always)
    max_minutes: float = 0.0  # stop cleanly (checkpoint) once this much wall time has passed (0 = no limit)
    stop_after: int = 0  # stop cleanly after this epoch, to run a long job in pieces with --resume (0 = never)
    export: str = ""  # weights folder to export to when the run ends (e.g. weights/seed_cnn)
    export_eval_limit: int = 0  # the export evaluates on at most this many images per test set, evenly spread (0 = all)
    export_default: bool = False  # mark the export as the model colorizer.load() serves (train.export --default)
    working_size: int = 256  # inference: long side the input is shrunk to (fully convolutional nets)
    flip_average: bool = False  # inference: average the output with the mirrored input's, mirrored back
    scales: list = field(default_factory=lambda: [1.0])  # inference: working sizes (relative) whose outputs are averaged
    vividness: float = 0.0  # inference: default vividness (0..1) of networks with the setting, chosen after training
    vividness_beta: float = 0.5  # inference, bin networks: prior-correction exponent at vividness 1 (colorizer.bins)
    vividness_gain: float = 0.0  # inference, regression networks: chroma x (1 + vividness x this); 0 = no such setting
    prior_mix: float = 0.0  # inference, bin networks: share of the uniform distribution mixed into the bin prior


def _scalar(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _parse_value(name, text, annotation):
    """Parse ``text`` for a field of type ``annotation``; ValueError with the key's name."""
    try:
        if annotation is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected true or false")
        if annotation in (int, float, str):
            return annotation(text)
        if text.strip().startswith(("[", "{")):
            value = json.loads(text)
        else:  # a comma list: numbers become numbers, the rest stays text (paths)
            value = [_scalar(item) for item in text.split(",")] if text else []
        expected = typing.get_origin(annotation) or annotation
        if not isinstance(value, expected):
            raise ValueError(f"expected a JSON {expected.__name__}")
        return value
    except ValueError as e:
        raise ValueError(f"--{name}={text}: {e}") from None


def config_from_dict(values):
    """A TrainConfig from a dict (a preset or a saved config), rejecting unknown keys."""
    known = {f.name: f for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"unknown config keys {unknown}; known keys: {', '.join(known)}")
    for key, value in values.items():
        expected = typing.get_origin(known[key].type) or known[key].type
        ok = isinstance(value, expected) or (expected is float and isinstance(value, int) and not isinstance(value, bool))
        if not ok or (expected is int and isinstance(value, bool)):
            raise ValueError(f"config key {key!r} must be {expected.__name__}, got {value!r}")
    return TrainConfig(**{k: (float(v) if known[k].type is float else v) for k, v in values.items()})


def parse_args(argv):
    """(config, resume) from ``[preset] [--key=value ...] [--resume]``."""
    values, resume = {}, False
    args = list(argv)
    if args and not args[0].startswith("--"):
        preset = args.pop(0)
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
        values.update(PRESETS[preset])
    fields = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    for arg in args:
        if arg == "--resume":
            resume = True
            continue
        if not arg.startswith("--") or "=" not in arg:
            raise ValueError(f"expected --key=value, got {arg!r}")
        key, text = arg[2:].split("=", 1)
        key = key.replace("-", "_")
        if key not in fields:
            raise ValueError(f"unknown config key {key!r}; known keys: {', '.join(fields)}")
        values[key] = _parse_value(key, text, fields[key])
    return config_from_dict(values), resume
