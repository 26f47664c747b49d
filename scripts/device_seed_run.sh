#!/usr/bin/env bash
# The original's 2000-epoch seed_cnn run on the lent GPU machine, in pieces that fit its
# 10-minute command limit. Run here first (once): copies the two 32 px archives into data/
# (git-ignored) so the device call can carry them:
#     bash scripts/device_seed_run.sh prepare
# Then, on the device, as often as needed (each call resumes), with carry ["data"]:
#     bash scripts/device_seed_run.sh piece
# The run folder stays on the machine while it is warm (about 30 s after a call), so make the
# calls back to back: a checkpoint with Adam's state is ~90 MB, more than a call can carry or
# bring back. Copy weights/ and runs/seed_cnn/*.json|png back via $OUT after the export.
# and when history.json shows epoch 2000:
#     bash scripts/device_seed_run.sh export       # weights/seed_cnn and weights/seed_cnn_500
set -euo pipefail
cd "$(dirname "$0")/.."
data="--data=data/cifar10-images.tar.gz,data/linnaeus5-32.tar.gz"
case "${1:-}" in
  prepare)
    mkdir -p data && cp ../shared/data/cifar10-images.tar.gz ../shared/data/linnaeus5-32.tar.gz data/ ;;
  piece)
    # stop cleanly before the 10-minute limit; the data cache lives in the run folder so it travels too
    COLORIZER_CACHE=runs/cache python -m train seed_cnn "$data" --device=cuda --max_minutes=8 --resume ;;
  export)
    python -m train.export runs/seed_cnn/checkpoint.safetensors weights/seed_cnn
    python -m train.export runs/seed_cnn/epoch_0500.safetensors weights/seed_cnn_500 ;;
  *)
    echo "usage: $0 prepare|piece|export" >&2; exit 2 ;;
esac
