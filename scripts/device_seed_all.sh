#!/usr/bin/env bash
# The original's three runs (seed_cnn 2000 epochs with its 500-epoch state, seed_cnn_half, and
# seed_cnn_plateau at lr 1e-3) in ONE command on the lent GPU machine; then, on the CPU, their
# weights folders and model cards from what came back (train/seed_runs.py does the work).
#
# 1. Here, once (copies the two 32 px archives, 35 MB, into the git-ignored data/):
#        bash scripts/device_seed_all.sh prepare
# 2. The device call (one command, 8.5 minutes of work at most, packing included):
#        run(command="bash scripts/device_seed_all.sh device", carry=["data"], timeout_s=590)
#    It prints progress every 30 s, stops every run cleanly (checkpoint) at 7.75 min and packs
#    into $OUT: seed_cnn.tar.gz, seed_cnn_500.tar.gz, seed_cnn_half.tar.gz, seed_cnn_plateau.tar.gz
#    (float16 weights, each run's record and history, example grids; 5 to 14 MB each),
#    summary.json (precision check, bench figures, speed, float16 check) and log.txt: 6 files,
#    ~50 MB, inside the return limits (8 files, 16 MiB each, 64 MiB in all).
#    What travels: the working tree (tracked files, ~23 MB today) plus data/ (35 MB) must stay
#    under 64 MiB: make this call before committing the new weights folders it leads to.
# 3. Here, from the folder the files came back to (files_at in the reply):
#        bash scripts/device_seed_all.sh unpack /work/.device/...   # weights/seed_cnn, seed_cnn_500,
#                                                                   # seed_cnn_half, seed_cnn_plateau
#
# A dry run of the same code on this CPU (tiny data, all steps, a few seconds) is
# tests/test_seed_runs.py.
#
# Will 2000 epochs fit? An ESTIMATE, not a measurement (no GPU was lent when this was written):
# seed_cnn does 36.0 M multiply-adds per 32x32 image forward (convolutions 28.6 M, the two fully
# connected layers 7.3 M), so a training step on 100 images is ~21.6 GFLOP (backward ~2x forward)
# and 2000 epochs of 548 steps are 1.1 M steps, 23.6 PFLOP (validation adds 1.7). On an H200
# (datasheet: ~67 TFLOP/s float32 without tensor cores, ~495 dense TF32) float32 needs 350 s at
# 100% of peak, 10-15 min at the 40-60% small convolutions reach: it does NOT fit; TF32's
# arithmetic floor is ~50 s, ~200 s at 25%. Launches: a step is ~70 kernels (forward ~25,
# backward ~40, fused Adam ~3); eager PyTorch spends 5-10 us of CPU per launch, 0.4-0.7 ms a
# step, 7-13 min: eager does not fit either. Replayed from a CUDA graph, kernels follow each other
# after ~1-2 us (published replay figures for Hopper), ~0.1-0.15 ms a step. So seed_cnn in TF32
# from graphs: ~0.25-0.35 ms a step, 4.5-6.5 min for 2000 epochs, plus ~1.5 min of start,
# decoding, precision check, bench and capture: it should just fit 7.75 min, if TF32 passes the
# check. seed_cnn_half and seed_cnn_plateau run at the same time on lower-priority CUDA streams and
# get what seed_cnn leaves (plateau is as big as seed_cnn, half ~1/4 of its arithmetic but as many
# launches); whenever seed_cnn is projected to miss the stop, plateau and then half are stopped
# (checkpointed) to leave it the GPU. Expect them short of 2000 epochs; their cards say where and why.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  prepare)
    mkdir -p data && cp ../shared/data/cifar10-images.tar.gz ../shared/data/linnaeus5-32.tar.gz data/ ;;
  device)
    : "${OUT:?run this on the device machine, where \$OUT is set}"
    export COLORIZER_CACHE=/tmp/seed_runs/cache PYTHONUNBUFFERED=1
    python3 -m train.seed_runs device --out "$OUT" --minutes 8.5 2>&1 | tee "$OUT/log.txt" ;;
  unpack)
    python -m train.seed_runs unpack "${2:?usage: $0 unpack FOLDER}" ;;
  *)
    echo "usage: $0 prepare|device|unpack FOLDER" >&2; exit 2 ;;
esac
