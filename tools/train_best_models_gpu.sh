#!/usr/bin/env bash
# Train notebook 05's experiments on a GPU machine that has no TensorFlow (Keras on JAX), several at once.
#
#   tools/train_best_models_gpu.sh OUT_DIR DEADLINE_SECONDS NAME...
#
# Each experiment runs `python -m helpers.best_model train NAME --retrain` in its own process (small
# networks leave most of one GPU idle, so several share it), stopped at DEADLINE_SECONDS. Training uses
# TensorFloat-32; the recorded scores are computed in float32 (helpers.training.exact_precision), so a
# CPU reproduces them. The finished models (weights/NAME.*), their selection-run outputs and the logs
# are packed into OUT_DIR/gpu_results.tgz; unpack it in the repository root.
set -u
out=$1; deadline=$2; shift 2
export KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
mkdir -p "$out" logs/gpu
for name in "$@"; do
  timeout "$deadline" python3 -m helpers.best_model train "$name" --retrain > "logs/gpu/$name.log" 2>&1 &
done
wait
nvidia-smi --query-gpu=name,memory.used --format=csv > logs/gpu/nvidia-smi.txt 2>&1
files=(logs/gpu)
for name in "$@"; do
  for f in "weights/$name.json" "weights/$name.weights.h5" "results/best_model/selection_outputs/$name.npz" \
           "data/checkpoints/$name"; do
    [ -e "$f" ] && files+=("$f")
  done
done
tar czf "$out/gpu_results.tgz" "${files[@]}"
tail -n 3 logs/gpu/*.log
