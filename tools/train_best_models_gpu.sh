#!/usr/bin/env bash
# Train notebook 05's experiments on a GPU machine that has no TensorFlow (Keras on JAX), one after the other.
#
#   tools/train_best_models_gpu.sh OUT_DIR DEADLINE_SECONDS NAME...
#
# Each experiment runs `python -m helpers.best_model train NAME --retrain --steps-per-execution 16` (16 batches
# per compiled call: the same updates with less Python overhead; an H100 trains a 28-epoch VGG-BN run in about
# 40 s), until DEADLINE_SECONDS have passed since the start. Training uses
# TensorFloat-32; the recorded scores are computed in float32 (helpers.models.saved_models.exact_precision), so a
# CPU reproduces them. The finished models (weights/NAME.*), their selection-run outputs and the logs
# are packed into OUT_DIR/NAME.tgz and OUT_DIR/logs.tgz; unpack them in the repository root.
set -u
out=$1; deadline=$2; shift 2
export KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
mkdir -p "$out" logs/gpu
start=$(date +%s)
for name in "$@"; do
  left=$(( deadline - ($(date +%s) - start) ))
  [ "$left" -gt 30 ] || { echo "no time left for $name"; break; }
  timeout "$left" python3 -m helpers.best_model train "$name" --retrain --steps-per-execution 16 > "logs/gpu/$name.log" 2>&1
done
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
