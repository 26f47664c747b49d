"""Write each shipped model's whole training history, across all its fine-tunes, from git.

    python scripts/combine_history.py [weights/NAME ...]      # default: every folder in weights/

A fine-tune's export keeps only its own epochs in ``history.json``; the earlier stages are the
earlier versions of that file in git history (and the base a stage started from, named by its
config's ``fine_tuned_from``). This walks the commits that changed ``weights/NAME/config.json``,
oldest first, and writes ``weights/NAME/history_all.json``:

    {"model": NAME, "epochs": <config epochs>,
     "stages": [{"first_epoch", "last_epoch", "loss", "colorfulness_weight", "recorded",
                 "commit", "metrics": {val_psnr, colorfulness per test set...}}, ...],
     "records": [{"epoch" (counted from the very start), "stage", "val_psnr", "val_mse",
                  "train_loss", "val_loss"}, ...]}

A version retrained from scratch (its history starts at epoch 1 and it names no base) replaces the
versions before it; a commit that changed only the config is no stage of its own. A stage whose
epochs no commit holds (a base trained in ``runs/`` and never shipped) is listed with
``recorded: false`` and no records, so the epoch count still matches the model's label.
Bases known by another shipped model's history (``runs/chroma_export`` is ``chroma_unet_mse``) are
taken from there. The app needs no git: it reads the file written here.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run folders that were shipped under another name (README: "shipped as chroma_unet_mse").
KNOWN_RUNS = {"runs/chroma_export": "chroma_unet_mse"}
# Models whose first shipped version names only an unshipped base: the hint network was made by
# preset chroma_hints_finetune (train/config.py), 2 epochs from runs/chroma_export.
FIRST_BASE = {"chroma_unet_hints": "runs/chroma_export"}
RECORD_KEYS = ("val_psnr", "val_mse", "train_loss", "val_loss")


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def versions(folder):
    """[(commit, config, history records)] of every committed version of a weights folder, oldest first.

    A commit that changed only the config (an inference setting added, the same epochs and history)
    is the same training stage as the version before it, and is skipped."""
    out = []
    for commit in git("log", "--reverse", "--format=%H", "--", f"{folder}/config.json").split():
        config = json.loads(git("show", f"{commit}:{folder}/config.json"))
        try:
            history = json.loads(git("show", f"{commit}:{folder}/history.json"))
        except subprocess.CalledProcessError:
            history = []
        records = history.get("epochs", []) if isinstance(history, dict) else history
        if out and config.get("epochs") == out[-1][1].get("epochs") and records == out[-1][2]:
            continue
        out.append((commit, config, records))
    return out


def stage_metrics(config):
    """The numbers a stage's export measured: validation PSNR and colorfulness on each test set."""
    metrics = config.get("metrics", {})
    evaluation = metrics.get("evaluation", {})
    return {"val_psnr": metrics.get("val_psnr"),
            "test": {Path(s).name.split(".")[0]: {"psnr": r.get("psnr"), "psnr_gray": r.get("psnr_gray"),
                                                  "colorfulness": r.get("colorfulness"),
                                                  "colorfulness_original": r.get("colorfulness_original")}
                     for s, r in evaluation.items()}}


def stage(first, config, records, commit, recorded=True):
    tc = config.get("train_config", {})
    return ({"first_epoch": first, "last_epoch": first + len(records) - 1 if recorded else None,
             "loss": tc.get("loss"), "colorfulness_weight": tc.get("colorfulness_weight", 0.0), "recorded": recorded,
             "commit": commit[:7] if commit else None, "metrics": stage_metrics(config) if commit else {}},
            [{"epoch": first + r["epoch"] - 1, **{k: r[k] for k in RECORD_KEYS if k in r}} for r in records])


def gap(first, last, loss):
    """A stage trained in ``runs/`` whose per-epoch records no commit holds."""
    return {"first_epoch": first, "last_epoch": last, "loss": loss, "colorfulness_weight": None, "recorded": False,
            "commit": None, "metrics": {}}


def combine(folder):
    """(stages, records) of the weights folder's whole history, oldest stage first."""
    chain = versions(folder)
    if not chain:
        raise SystemExit(f"{folder}: no committed config.json")
    stages, records = [], []
    first_commit, first_config, _ = chain[0]
    base = first_config.get("fine_tuned_from")
    if base:  # what the first shipped version started from
        start = first_config["epochs"] - len(chain[0][2])
        known = KNOWN_RUNS.get(FIRST_BASE.get(Path(folder).name, base["path"]))
        if known and Path(ROOT / "weights" / known).is_dir():
            _, base_config, base_records = versions(f"weights/{known}")[-1]
            if base_config.get("epochs") <= start:
                s, r = stage(1, base_config, base_records, git("log", "-1", "--format=%H", "--", f"weights/{known}/config.json").strip())
                stages.append({**s, "shipped_as": known})
                records += r
        done = stages[-1]["last_epoch"] if stages else 0
        if done < start:  # epochs trained in runs/ that no commit holds
            stages.append(gap(done + 1, start, base.get("loss")))
    for commit, config, history in chain:
        first = config["epochs"] - len(history) + 1
        if first == 1 and not config.get("fine_tuned_from"):  # retrained from scratch: it replaces the versions before
            stages, records = [], []
        done = stages[-1]["last_epoch"] if stages else 0
        if first <= done:
            raise SystemExit(f"{folder} at {commit[:7]}: epochs {first}.. overlap the {done} before")
        if first > done + 1:  # a stage trained and exported in runs/ between two shipped versions
            stages.append(gap(done + 1, first - 1, config.get("fine_tuned_from", {}).get("loss")))
        s, r = stage(first, config, history, commit)
        stages.append(s)
        records += r
    return stages, records


def main(argv=None):
    folders = [Path(f) for f in (argv if argv else sys.argv[1:])] or sorted(p.parent for p in (ROOT / "weights").glob("*/config.json"))
    for folder in folders:
        folder = Path(folder).resolve()
        rel = folder.relative_to(ROOT).as_posix()
        stages, records = combine(rel)
        config = json.loads((folder / "config.json").read_text())
        if stages[-1]["last_epoch"] != config["epochs"]:
            raise SystemExit(f"{rel}: history ends at epoch {stages[-1]['last_epoch']}, config says {config['epochs']}"
                             " (commit the weights first)")
        data = {"model": folder.name, "epochs": config["epochs"], "stages": stages, "records": records}
        (folder / "history_all.json").write_text(json.dumps(data, indent=1) + "\n")
        print(f"{rel}: {config['epochs']} epochs in {len(stages)} stages, {len(records)} recorded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
