"""``python -m train [preset] [--key=value ...] [--resume]``: train a colorizer network."""

import sys

from .checkpoint import CheckpointError
from .config import parse_args
from .presets import PRESETS
from .loop import TrainingDiverged, train


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        print(f"presets: {', '.join(PRESETS)}; keys: see train/config.py")
        return 0
    try:
        config, resume = parse_args(argv)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        out_dir = train(config, resume=resume)
    except (TrainingDiverged, CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except ValueError as e:  # settings the run cannot take: a resume of another run, an unknown scheduler
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; --resume continues from the last checkpoint", file=sys.stderr)
        return 130
    print(f"run folder: {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
