"""Inference speed and memory of every saved Fashion-MNIST model, on this machine's CPU.

    .venv/bin/python benchmarks/inference_speed.py [--models NAME ...] [--n-large 10240] [--n-single 200]

For each model, in a fresh child process (so that its peak memory is its own): the model is rebuilt
from its record, then

- **batch 512**: ``model.predict`` on ``--n-large`` test images in batches of 512, best of 3 runs after a
  warm-up (images per second: the throughput of a nightly job that classifies a day's uploads);
- **batch 1**: ``model.predict_on_batch`` on one image at a time, ``--n-single`` images, best of 3
  (images per second: the latency of classifying one upload, ``1000 / images_per_s`` ms);
- **peak memory**: the child's peak resident set size, and its size before the model was built.

Results go to ``benchmarks/results/inference_speed.json`` with the machine and library versions.
Target: the deployed model classifies >= 1,000 images/s at batch 512 on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TASKS = ("fashion", "fashion_binary")
TARGET_IMAGES_PER_S = 1000
LARGE_BATCH = 512
REPEATS = 3


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: kilobytes


def measure_one(name: str, n_large: int, n_single: int) -> dict:
    """Measure one saved model in this process (the child's job)."""
    from helpers.core.repro import quiet_tensorflow

    quiet_tensorflow()
    before = _rss_mb()
    from helpers.evaluation.speed import images_per_second, single_image_rate
    from helpers.inputs import tasks
    from helpers.models import saved_models, weights_store

    model, record = saved_models.load(name)
    x = tasks.get(record["task"]).splits(record.get("input_shape"))["test"][0]
    reps = -(-n_large // len(x))
    big = x if len(x) >= n_large else __import__("numpy").concatenate([x] * reps)
    big = big[:n_large]
    large = images_per_second(model, big, batch_size=LARGE_BATCH, repeats=REPEATS)  # after a warm-up (tracing)
    single = single_image_rate(model, x, n=n_single, repeats=REPEATS)
    return {"task": record["task"], "parameters": record.get("params"),
            "images_per_s_batch_512": large, "images_per_s_batch_1": single,
            "latency_ms_batch_1": round(1000 / single, 2), "rss_mb_before_model": before,
            "peak_rss_mb": _rss_mb(), "n_large": int(len(big)), "n_single": int(n_single),
            "meets_target": bool(large >= TARGET_IMAGES_PER_S),
            "weights_sha256": weights_store.load_record(name)["sha256"]}


def measure_in_child(name: str, n_large: int, n_single: int) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--n-large", str(n_large),
           "--n-single", str(n_single)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise RuntimeError(f"measuring {name} failed: {last}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> dict:
    info = {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()}
    try:
        flags = Path("/proc/cpuinfo").read_text().split("flags", 2)[1].split("\n", 1)[0]
        info["avx512"] = "avx512f" in flags
        info["avx512_bf16"] = "avx512_bf16" in flags
        info["model_name"] = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                                  if line.startswith("model name"))
    except (OSError, IndexError, StopIteration):
        pass
    return info


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="*", help="saved model names (default: every Fashion-MNIST model)")
    ap.add_argument("--n-large", type=int, default=10_240, help="images timed at batch 512")
    ap.add_argument("--n-single", type=int, default=200, help="images timed one at a time")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "inference_speed.json"))
    ap.add_argument("--in-process", action="store_true",
                    help="measure in this process (peak memory then covers every model measured so far)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(measure_one(args.child, args.n_large, args.n_single)), flush=True)
        return {}
    from helpers.models import weights_store

    names = args.models or [n for t in TASKS for n in weights_store.list_names(t)]
    out = Path(args.out)
    # measuring some models keeps the others' figures (and a failure loses nothing measured before it)
    results = json.loads(out.read_text()).get("results", {}) if out.is_file() else {}
    results = {n: r for n, r in results.items() if weights_store.exists(n)}
    failed = []
    for name in names:
        print(f"{name} ...", end=" ", flush=True)
        try:
            results[name] = (measure_one if args.in_process else measure_in_child)(name, args.n_large, args.n_single)
            # a partial rerun keeps the other models' figures: each says on which CPU and when it was measured
            results[name].update(measured=time.strftime("%Y-%m-%d"), cpu=machine().get("model_name"),
                                 cpu_bf16=machine().get("avx512_bf16"))
        except Exception as e:  # noqa: BLE001 - reported, and the other models are still measured
            print(f"failed: {e}", flush=True)
            failed.append(name)
            continue
        print(f"{results[name]['images_per_s_batch_512']:.0f} images/s at batch 512, "
              f"{results[name]['latency_ms_batch_1']:.1f} ms per single image, "
              f"peak {results[name]['peak_rss_mb']:.0f} MB", flush=True)
    import keras
    import numpy

    saved = {"target_images_per_s_batch_512": TARGET_IMAGES_PER_S, "machine": machine(),
             "versions": {"python": platform.python_version(), "keras": keras.__version__, "numpy": numpy.__version__,
                          "backend": keras.backend.backend()},
             "measured": time.strftime("%Y-%m-%d"), "one_process_per_model": not args.in_process,
             "failed": failed, "results": results}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(saved, indent=1) + "\n")
    return saved


if __name__ == "__main__":
    main()
