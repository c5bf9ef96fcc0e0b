#!/usr/bin/env bash
# Train notebook 05's experiments on a GPU machine that has no TensorFlow (Keras on JAX), several at once.
#
#   tools/train_best_models_gpu.sh OUT_DIR DEADLINE_SECONDS NAME...
#
# Each experiment runs `python -m helpers.best_model train NAME --retrain` in its own process (small
# networks leave most of one GPU idle, so several share it), stopped at DEADLINE_SECONDS. Training uses
# TensorFloat-32; the recorded scores are computed in float32 (helpers.training.exact_precision), so a
# CPU reproduces them. The finished models (weights/NAME.*), their selection-run outputs and the logs
# are packed into OUT_DIR/NAME.tgz and OUT_DIR/logs.tgz; unpack them in the repository root.
set -u
out=$1; deadline=$2; shift 2
export KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
mkdir -p "$out" logs/gpu
for name in "$@"; do
  timeout "$deadline" python3 -m helpers.best_model train "$name" --retrain > "logs/gpu/$name.log" 2>&1 &
done
wait
nvidia-smi --query-gpu=name,memory.used --format=csv > logs/gpu/nvidia-smi.txt 2>&1
# One archive per model (the device tool returns at most 8 files of 16 MB): weights, record and
# selection-run outputs; the logs and every run's per-epoch history (finished or not) in logs.tgz.
# The resumable backups in data/checkpoints are left behind (tens of MB each).
for name in "$@"; do
  files=()
  for f in "weights/$name.json" "weights/$name.weights.h5" "results/best_model/selection_outputs/$name.npz"; do
    [ -e "$f" ] && files+=("$f")
  done
  [ ${#files[@]} -gt 0 ] && tar czf "$out/$name.tgz" "${files[@]}"
done
tar czf "$out/logs.tgz" logs/gpu $(find data/checkpoints -name history.csv 2>/dev/null)
ls -la "$out"
tail -n 3 logs/gpu/*.log
