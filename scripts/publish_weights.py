"""Upload a weights folder to a Hugging Face Hub model repository.

    python scripts/publish_weights.py weights/seed_cnn --repo user/colorizer-seed-cnn [--private]
        [--path-in-repo seed_cnn] [--dry-run]

The folder must load (``config.json`` + ``model.safetensors`` are checked first). Its files
(weights, config, history, loss curve, model card README.md) go to the repository root, or under
``--path-in-repo`` to hold several models in one repository, the layout the app reads with
``COLORIZER_HUB_REPO=user/name``. Needs a token (``huggingface-cli login`` or ``$HF_TOKEN``).
``--dry-run`` checks the folder and prints what would be uploaded, without any network access.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PATTERNS = ["*.safetensors", "*.json", "*.png", "*.md"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a weights folder, e.g. weights/seed_cnn")
    parser.add_argument("--repo", required=True, help="Hub model repository, user/name")
    parser.add_argument("--path-in-repo", default=None, help="subfolder in the repository (default: its root)")
    parser.add_argument("--private", action="store_true", help="create the repository as private")
    parser.add_argument("--message", default=None, help="commit message")
    parser.add_argument("--dry-run", action="store_true", help="check and list, upload nothing")
    args = parser.parse_args(argv)
    if args.repo.count("/") != 1 or not all(args.repo.split("/")):
        parser.error(f"--repo must look like user/name, got {args.repo!r}")
    return args


def files_to_upload(folder):
    return sorted({p for pattern in PATTERNS for p in Path(folder).glob(pattern) if p.is_file()})


def main(argv=None):
    args = parse_args(argv)
    import colorizer

    try:
        _, config = colorizer.load_model(args.folder)  # refuse to publish weights that do not load
    except colorizer.WeightsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    files = files_to_upload(args.folder)
    target = f"{args.repo}/{args.path_in_repo}" if args.path_in_repo else args.repo
    print(f"{args.folder} ({config['architecture']['name']}, {config.get('epochs', '?')} epochs) -> hf.co/{target}")
    for path in files:
        print(f"  {path.name} ({path.stat().st_size / 1024:.0f} KiB)")
    if args.dry_run:
        print("dry run: nothing uploaded")
        return 0

    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(args.repo, repo_type="model", private=args.private, exist_ok=True)
    commit = api.upload_folder(
        repo_id=args.repo,
        repo_type="model",
        folder_path=str(args.folder),
        path_in_repo=args.path_in_repo,
        allow_patterns=PATTERNS,
        commit_message=args.message or f"Upload {args.folder.name} weights",
    )
    print(f"uploaded: {getattr(commit, 'commit_url', commit)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
