"""Companion study 1 from the command line: repeat the flower study's tasks (notebook 08).

    python -m helpers.flowers task_7          # repeat task 7 (its runs are retrained and saved)
    python -m helpers.flowers recommend       # the recommended model and its fine-tuned version
    python -m helpers.flowers deeper          # the depth study's two rounds and the deeper fine-tuned models
    python -m helpers.flowers probe           # the chosen depth for twice the epochs, one seed (the epoch probe),
                                              # then one starting point deeper, every seed (the depth probe)
    python -m helpers.flowers edges           # the head-only ranges that stopped at their edge, run longer (every seed)
    python -m helpers.flowers                 # everything, in order

The study itself: :mod:`helpers.studies.flowers`.
"""

from __future__ import annotations

import sys
import time

from helpers.core import cli
from helpers.studies import flowers


def main(argv=None) -> int:
    """``python -m helpers.flowers [task_N ...]``: repeat the named tasks (retraining their runs), or all in order."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m helpers.flowers", description=main.__doc__)
    ap.add_argument("tasks", nargs="*", choices=[*flowers.TASKS, "recommend", "deeper", "probe", "edges"],
                    metavar="task_N", help=f"any of {', '.join(flowers.TASKS)}, recommend, deeper, probe, edges (default: every "
                    "task in order, then the recommended model, the depth study with the deeper fine-tuned models, "
                    "the epoch probe and the edge checks)")
    args = ap.parse_args(argv)
    for name in args.tasks or [*flowers.TASKS, "recommend", "deeper", "probe", "edges"]:
        t = time.perf_counter()
        if name == "probe":
            probe = flowers.epoch_probe(retrain=True)
            f = flowers.probe.facts(probe)
            print(f"epoch probe done in {time.perf_counter() - t:.0f} s: {f['tail']}, best epoch {f['best_epoch']} of "
                  f"{f['epochs']}, val loss {f['val_loss']:.4f} (within {f['short_epochs']}: {f['short_val_loss']:.4f})",
                  flush=True)
            from helpers.models import weights_store

            record = weights_store.load_record(flowers.RECOMMENDED)
            deeper = flowers.depth_probe(seeds=flowers.SEEDS, retrain=True, record=record)
            print(flowers.probe.depth_sentence(deeper, int(record["metrics"]["val"]["n"])), flush=True)
            continue
        if name == "edges":
            from helpers.models import weights_store

            rec, record = flowers.recommend(), weights_store.load_record(flowers.RECOMMENDED)
            checks = flowers.edge_checks(rec, record, retrain=True)
            n_val = int(record["metrics"]["val"]["n"])
            print(f"edge checks done in {time.perf_counter() - t:.0f} s:", flush=True)
            print("\n".join(f"- {line}" for line in flowers.ranges.sentences(checks, rec, n_val)), flush=True)
            continue
        if name == "deeper":
            runs = flowers.depth_study(tails=flowers.FIRST_ROUND_TAILS, retrain=True)
            print(f"depth study, first round, done in {time.perf_counter() - t:.0f} s: {_short(runs)}", flush=True)
            first = flowers.deep_choice(runs)
            _, deep = flowers.fine_tune_deeper(retrain=True, choice=first)
            new = tuple(t for t in flowers.TAILS if t not in flowers.FIRST_ROUND_TAILS)
            flowers.depth_study(tails=new, retrain=True, mirror_check=False)  # the new depth; mirrors checked in round one
            second = flowers.second_round(first_choice=first, retrain_model=True)
            for r in (deep, second["record"]):
                if r:
                    print(f"{r['name']}: {r['hparams']} val accuracy {r['metrics']['val']['accuracy']:.4f}, test "
                          f"accuracy {r['metrics']['test']['accuracy']:.4f}", flush=True)
            print(f"second round: {second['choice']['tail']}" + ("" if second["moved"] else " (the choice stays)"), flush=True)
            flowers.test_predictions(recompute=True)  # the paired tests read the retrained models' predictions
            continue
        if name == "recommend":
            _, rec = flowers.train_recommended(retrain=True)
            _, tuned = flowers.fine_tune(retrain=True)
            for r in (rec, tuned):
                print(f"{r['name']}: {r['hparams']} val accuracy {r['metrics']['val']['accuracy']:.4f}, test accuracy "
                      f"{r['metrics']['test']['accuracy']:.4f}", flush=True)
            flowers.test_predictions(recompute=True)
            continue
        fn = flowers.TASKS[name]
        retrains = "retrain" in fn.__code__.co_varnames[:fn.__code__.co_argcount]
        out = fn(retrain=True) if retrains else fn()
        print(f"{name} done in {time.perf_counter() - t:.0f} s: {_short(out)}", flush=True)
    return 0


def _short(out) -> str:
    if isinstance(out, list):
        return "; ".join(f"{r['mode']} lr {r['learning_rate']:g} momentum {r['momentum']:g} seed {r['seed']}"
                         + (f" tail {r['tail']}" if "tail" in r else "") + (" mirrored" if r.get("mirror") else "")
                         + ": best val loss "
                         f"{min(r['history']['val_loss']):.3f}" for r in out)
    if isinstance(out, dict) and "history" in out:
        return f"best val loss {min(out['history']['val_loss']):.3f}, val accuracy {out['val_report']['accuracy']:.3f}"
    return type(out).__name__


if __name__ == "__main__":
    from helpers.core.repro import quiet_tensorflow

    quiet_tensorflow()
    # The brief's tasks, one by one: scripts/flowers_tasks.py holds them as calls that run when uncommented;
    # from here, name them on the command line (python -m helpers.flowers task_5 task_6 ...).
    sys.exit(cli.run(main))  # a missing dataset or unavailable weights: one clear line, no traceback
