"""The best-model study (notebook 05): every experiment, its record, and the experiment log.

    python -m helpers.best_model list                 # the experiments and whether each is saved
    python -m helpers.best_model train NAME [--retrain] [--mixed-precision] [--steps-per-execution 16]
    python -m helpers.best_model log                  # rewrite results/best_model/experiments.csv
    python -m helpers.best_model tta [NAME ...]       # save test-time-augmented validation outputs

Each experiment is one entry of :data:`EXPERIMENTS`: the idea it tests, the architecture, its
hyperparameters and the training recipe. Training runs the project's protocol (``trainer.fit``):
selection run on the training split with the validation split watching, then (``refit``) the same
recipe on training + validation images for the chosen number of epochs; the test split is scored
once and recorded. Runs resume from ``data/checkpoints/<name>`` after an interruption. Training works
on any Keras backend (on a GPU machine without TensorFlow: ``KERAS_BACKEND=jax``); the saved
``.weights.h5`` files load everywhere.

Every saved experiment is one row of ``results/best_model/experiments.csv`` (name, idea, parameters,
epochs, where it was trained and in how many seconds, its cost on the team's 2-core CPU (measured, or
estimated by ``benchmarks/training_cost.py`` for runs on a lent GPU), validation accuracy and loss,
inference images/s from ``benchmarks/results/inference_speed.json``).
"""

from __future__ import annotations

from helpers.training import cached_transfer
import json
from dataclasses import dataclass, field

from helpers.core import paths
from helpers.models import weights_store
from helpers.core.errors import UnknownNameError

RESULTS_DIR = paths.REPO_ROOT / "results" / "best_model"
EXPERIMENTS_CSV = RESULTS_DIR / "experiments.csv"
#: Notebook 05's results for the management report (its final choice, test-time augmentation, calibration).
SUMMARY_JSON = RESULTS_DIR / "summary.json"
INFERENCE_JSON = paths.REPO_ROOT / "benchmarks" / "results" / "inference_speed.json"

#: The modern recipe shared by our stronger networks: AdamW with decoupled weight decay, a cosine
#: schedule after a short warm-up (no plateau heuristics: a fixed budget whose last epochs are the best),
#: label smoothing against over-confidence, batch 128.
RECIPE = dict(optimizer="adamw", learning_rate=2e-3, optimizer_config={"weight_decay": 5e-4},
              schedule={"kind": "cosine", "warmup_epochs": 2, "final_fraction": 0.01}, label_smoothing=0.1,
              batch_size=128, patience=None, monitor="val_accuracy")

#: The epoch budget of our own networks. One VGG-BN epoch takes about 2.7 minutes on the team's 2-core
#: CPU (AVX2, float32), so 28 epochs are about 80 minutes: one run fits a working session and the final
#: model stays well inside the brief's 3 hours. No refit on training + validation: a fixed cosine budget
#: has no epoch count to choose, a refit would double the cost, and a model that never saw the
#: validation split can have its temperature and its ensemble partners chosen on that split directly.
EPOCHS = 28

#: Our own network's settings (``architectures.vgg_bn``); each experiment changes one thing against them.
VGG_BN = dict(width=32, stages=3, convs_per_stage=2, dropout=0.3, shift=3, flip=False, erasing=0.5)


@dataclass(frozen=True)
class Experiment:
    name: str                     # the saved model's name
    direction: str                # "own network", "deeper transfer", "combining models"
    idea: str                     # what it tests, in one sentence
    architecture: str
    hparams: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    refit: bool = True
    build_kwargs: dict = field(default_factory=dict)   # not recorded (e.g. where pretrained weights come from)


EXPERIMENTS = {e.name: e for e in [
    Experiment("fashion_vgg_bn", "own network",
               "a deeper VGG-style BatchNorm network (3 stages, global average pooling) with random erasing and the "
               "modern recipe", "vgg_bn", dict(VGG_BN),
               dict(RECIPE, epochs=EPOCHS), refit=False),
    Experiment("fashion_vgg_bn_flip", "own network",
               "ablation: the same network and recipe with left-right flips (notebook 01: shoes all face one way)",
               "vgg_bn", dict(VGG_BN, flip=True),
               dict(RECIPE, epochs=EPOCHS), refit=False),
    Experiment("fashion_vgg_bn_seed43", "own network",
               "the same network and recipe from another seed: how much of a difference between two runs is noise, "
               "and a second member for an ensemble", "vgg_bn",
               dict(VGG_BN),
               dict(RECIPE, epochs=EPOCHS, seed=43), refit=False),
    Experiment("fashion_vgg_bn_long", "own network",
               "the same network and recipe for twice the epochs (it under-fits its 28-epoch budget): the whole "
               "3-hour budget of the team's CPU", "vgg_bn",
               dict(VGG_BN),
               dict(RECIPE, epochs=2 * EPOCHS), refit=False),
    Experiment("fashion_vgg_bn_light", "own network",
               "the same network and budget with lighter regularisation (random erasing in a quarter of the images, "
               "dropout 0.2), the other cure for under-fitting", "vgg_bn",
               dict(VGG_BN, dropout=0.2, erasing=0.25),
               dict(RECIPE, epochs=EPOCHS), refit=False),
    Experiment("fashion_vgg_bn_wide", "own network",
               "twice the filters in every layer (four times the compute, beyond the CPU budget): what capacity "
               "would buy", "vgg_bn",
               dict(VGG_BN, width=64),
               dict(RECIPE, epochs=EPOCHS), refit=False),
    Experiment("fashion_vgg_bn_long_seed43", "own network",
               "twice the epochs from another seed: is the gain of the longer budget larger than the noise between "
               "runs, and a second member for an ensemble", "vgg_bn",
               dict(VGG_BN),
               dict(RECIPE, epochs=2 * EPOCHS, seed=43), refit=False),
    Experiment("fashion_vgg_bn_wide_long", "own network",
               "twice the filters and twice the epochs (eight times the compute of the 28-epoch network): the "
               "ceiling of this family when compute is no object", "vgg_bn",
               dict(VGG_BN, width=64),
               dict(RECIPE, epochs=2 * EPOCHS), refit=False),
    Experiment("fashion_tl_mobilenet_v2_deep", "deeper transfer",
               "MobileNetV2 at 96x96 with its whole last inverted-residual block (block_16: expand, depthwise, "
               "project, with their BatchNorms) and Conv_1 unfrozen, four times the weights notebook 03 fine-tuned, "
               "trained with a fresh softmax head on cached block_15 outputs", "transfer",
               dict(backbone="mobilenet_v2", image_size=96, head_units=(), dropout=0.0,
                    unfrozen_from="block_16_expand"),
               dict(optimizer="adamw", learning_rate=5e-4, optimizer_config={"weight_decay": 1e-4},
                    schedule={"kind": "cosine", "warmup_epochs": 1, "final_fraction": 0.01}, label_smoothing=0.1,
                    batch_size=128, patience=None, monitor="val_accuracy", epochs=12),
               refit=False, build_kwargs={"backbone_weights": "imagenet"}),
]}

def recipe_table(name: str = "fashion_vgg_bn"):
    """Our own network's design and recipe, element by element: the choice (formatted from the experiment's
    definition, so the table cannot drift from what was trained) and why."""
    import pandas as pd

    import inspect

    from helpers.models import architectures

    e = get(name)
    h, t = e.hparams, e.training
    lo, hi = inspect.signature(architectures.vgg_bn).parameters["erasing_scale"].default
    widths = " → ".join(str(h["width"] * 2 ** s) for s in range(h["stages"]))
    sched = t["schedule"]
    rows = [
        ("depth", f"{h['stages']} stages × {h['convs_per_stage']} × [Conv 3×3 → BatchNorm → ReLU], {widths} filters, "
                  "2×2 max-pooling between stages",
         "more convolutions see the whole 28-pixel item; filters double as the resolution halves"),
        ("classifier", f"global average pooling → dropout {h['dropout']:g} → softmax",
         "no large dense layer (where most of notebook 04's weights sit): fewer weights to over-fit"),
        ("pad-and-crop shifts", f"up to {h['shift']} pixels, training only", "users' photos are not centred like the thumbnails"),
        ("random erasing", f"a rectangle of {lo:.0%}–{hi:.0%} of the image blanked in {h['erasing']:.0%} of the training images",
         "forces the network to use the whole item, not one telltale detail (a collar, a heel)"),
        ("left–right flips", "on" if h["flip"] else "off; measured as an ablation",
         "every shoe in Fashion-MNIST faces left (notebook 01): flips teach a view the test never shows, or make the "
         "model robust to users' photos; the ablation decides"),
        ("optimiser", f"{t['optimizer']} (learning rate {t['learning_rate']:g}, decoupled weight decay "
                      f"{t['optimizer_config']['weight_decay']:g}), batch {t['batch_size']}",
         "Adam's robust steps, with weight decay that does not interact with the adaptive step sizes"),
        ("schedule", f"{sched['warmup_epochs']} warm-up epochs, then {sched['kind']} decay to "
                     f"{sched['final_fraction']:.0%} of the rate over a fixed budget",
         "no plateau heuristics; the last epochs, at small learning rates, act like weight averaging, which is why "
         "EMA/SWA is not added on top"),
        ("label smoothing", f"{t['label_smoothing']:g}", "against over-confidence (the confidence is calibrated afterwards)"),
        ("budget", f"{t['epochs']} epochs" + ("" if e.refit else ", no refit on training + validation"),
         "one run fits a working session on 2 cores and the final model stays well inside the 3-hour budget; without a "
         "refit the saved model has never seen the validation split, so its temperature and its ensemble partners are "
         "chosen on that split directly"),
    ]
    return pd.DataFrame(rows, columns=["element", "choice", "why"]).set_index("element")


#: Where each experiment's selection-run validation probabilities are kept (ensembles and temperatures
#: are chosen on them: the saved, refitted models have seen the validation images).
SELECTION_DIR = RESULTS_DIR / "selection_outputs"


def selection_outputs(name: str):
    """``(val_probabilities, y_val)`` of experiment ``name``'s selection run."""
    import numpy as np

    path = SELECTION_DIR / f"{name}.npz"
    if not path.is_file():
        raise FileNotFoundError(f"no selection-run outputs for {name} ({paths.display_path(path)}); "
                                f"retrain it with python -m helpers.best_model train {name} --retrain")
    with np.load(path) as z:
        return z["val"].astype(np.float64), z["y_val"]


#: Test-time augmentation: the views averaged, as whole-pixel shifts ``(down, right)`` of the image (zero
#: filled, as the training shifts). No flipped views: every shoe in Fashion-MNIST faces left.
TTA_VIEWS = {
    1: ((0, 0),),
    5: ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)),
    9: tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)),
}


def shift_images(x, dy: int, dx: int):
    """Images ``(n, h, w, c)`` moved ``dy`` pixels down and ``dx`` right, the uncovered border filled with 0."""
    import numpy as np

    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"expected images shaped (n, height, width, channels), got {x.shape}")
    h, w = x.shape[1:3]
    if abs(dy) >= h or abs(dx) >= w:
        raise ValueError(f"a shift of ({dy}, {dx}) pixels leaves nothing of a {h}x{w} image")
    out = np.zeros_like(x)
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        x[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def tta_table(model, x, y, view_sets=TTA_VIEWS, batch_size: int = 512):
    """Accuracy and cross-entropy on ``(x, y)`` for each set of views, and the cost (forward passes per image).

    Each distinct view is predicted once and shared by the sets that contain it. Returns
    ``(table, probabilities)``: the table indexed by number of views, and ``{views: averaged probabilities}``.
    """
    import pandas as pd

    from helpers.evaluation import metrics
    from helpers.training.trainer import predict_proba

    distinct = {v for views in view_sets.values() for v in views}
    proba = {v: predict_proba(model, shift_images(x, *v), batch_size) for v in sorted(distinct)}
    rows, averaged = [], {}
    for k, views in view_sets.items():
        if not views:
            raise ValueError("give at least one view")
        averaged[k] = sum(proba[v] for v in views) / len(views)
        m = metrics.classification_metrics(y, averaged[k])
        rows.append({"views": k, "accuracy": m["accuracy"], "loss": m["loss"], "cost": f"{len(views)}x"})
    return pd.DataFrame(rows).set_index("views"), averaged


#: Where the test-time-augmented validation outputs of each experiment are kept (``python -m helpers.best_model
#: tta NAME``): the probabilities averaged over the :data:`TTA_DEPLOYABLE` views of :data:`TTA_VIEWS`.
TTA_DIR = RESULTS_DIR / "tta_outputs"
TTA_DEPLOYABLE = 5


def save_tta_outputs(name: str, views: int = TTA_DEPLOYABLE, data: dict | None = None, split: str = "val"):
    """Predict ``split`` under ``views`` shifted views with experiment ``name``'s saved model and keep the averaged
    probabilities (``.npz``: ``<split>``, ``y_<split>``, ``views``); returns the path. The test split is for the
    one candidate notebook 05 scores on test, once."""
    import numpy as np

    from helpers.inputs import tasks
    from helpers.training import trainer

    if split not in ("val", "test"):
        raise ValueError(f"split must be 'val' or 'test', not {split!r}")
    model, _ = trainer.load(name)
    x, y = (data or tasks.get("fashion").load_splits())[split]
    _, averaged = tta_table(model, x, y, {views: TTA_VIEWS[views]})
    TTA_DIR.mkdir(parents=True, exist_ok=True)
    path = _tta_path(name, split)
    np.savez_compressed(path, **{split: averaged[views].astype(np.float32), f"y_{split}": np.asarray(y)},
                        views=np.asarray(TTA_VIEWS[views]))
    return path


def _tta_path(name: str, split: str = "val"):
    return TTA_DIR / (f"{name}.npz" if split == "val" else f"{name}_{split}.npz")


def tta_outputs(name: str, split: str = "val"):
    """``(probabilities, labels, views)`` of experiment ``name`` on ``split`` under test-time augmentation."""
    import numpy as np

    path = _tta_path(name, split)
    if not path.is_file():
        raise FileNotFoundError(f"no test-time-augmented outputs for {name} on {split} ({paths.display_path(path)}); "
                                f"compute them with python -m helpers.best_model tta {name}"
                                + (f" --split {split}" if split != "val" else ""))
    with np.load(path) as z:
        return z[split].astype(np.float64), z[f"y_{split}"], [tuple(int(v) for v in row) for row in z["views"]]


def tta_summary(names=None):
    """Per experiment with saved test-time-augmented outputs: validation accuracy with one view and with the
    averaged views, and the gain in points."""
    import pandas as pd

    from helpers.evaluation import metrics

    rows = []
    for n in names or EXPERIMENTS:
        if not _tta_path(n).is_file():
            continue
        p_tta, y, views = tta_outputs(n)
        one = metrics.classification_metrics(y, selection_outputs(n)[0])["accuracy"]
        many = metrics.classification_metrics(y, p_tta)["accuracy"]
        rows.append({"experiment": n, "views": len(views), "val_accuracy_1_view": one, "val_accuracy_tta": many,
                     "gain (points)": round((many - one) * 100, 2)})
    return pd.DataFrame(rows, columns=["experiment", "views", "val_accuracy_1_view", "val_accuracy_tta",
                                       "gain (points)"]).set_index("experiment")


TRAINING_COST_JSON = paths.REPO_ROOT / "benchmarks" / "results" / "training_cost.json"


def trained_on(record: dict) -> str:
    """Where a saved model was trained: the GPU's name, or "CPU"."""
    v = record.get("versions", {})
    return v["device"] if v.get("device") and v.get("device") != "cpu" else "CPU"


def cpu_training_seconds(name: str, cost_path=TRAINING_COST_JSON) -> tuple:
    """``(seconds, how)``: what training ``name`` costs on a 2-core CPU (:func:`cpu_training_cost` of its record)."""
    return cpu_training_cost(weights_store.load_record(name), cost_path)


def cpu_training_cost(rec: dict, cost_path=TRAINING_COST_JSON) -> tuple:
    """``(seconds, how)`` for a saved model's record. ``how`` is "measured" for a model trained on a CPU (its
    record's time), "estimated" for one trained on a GPU (``benchmarks/training_cost.py``'s estimate for its
    experiment); an ensemble's is its members' added up (estimated if any member's is); ``(None, None)`` when
    there is no figure."""
    if rec.get("architecture") == "ensemble":
        parts = [cpu_training_seconds(m["name"], cost_path) for m in rec["members"]]
        if any(p[0] is None for p in parts):
            return None, None
        return round(sum(p[0] for p in parts), 1), ("estimated" if any(p[1] == "estimated" for p in parts) else "measured")
    if trained_on(rec) == "CPU":
        return weights_store.training_seconds(rec), "measured"
    costs = json.loads(cost_path.read_text())["results"] if cost_path.is_file() else {}
    if rec.get("name") in costs:
        return float(costs[rec["name"]]["estimated_seconds"]), "estimated"
    return None, None


def get(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise UnknownNameError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def train(name: str, retrain: bool = False, mixed_precision: bool = False, data: dict | None = None, **overrides):
    """Train (or load, when saved and not ``retrain``) one experiment; returns ``(model, record)``.

    ``overrides`` change the recipe (tests run a tiny version); ``mixed_precision`` trains under
    ``mixed_bfloat16`` (for GPUs and CPUs with bf16 instructions; on CPUs without them it is several
    times slower) and scores the float32 twin.
    """
    from helpers.training import trainer

    e = get(name)
    if not retrain and weights_store.exists(name):
        return trainer.load(name)
    args = {**e.training, **overrides}
    notes = {"direction": e.direction, "idea": e.idea}
    if e.architecture == "transfer":  # trained on cached backbone activations (helpers.models.transfer)

        if mixed_precision:
            raise ValueError("transfer experiments train in float32 on cached activations")
        hp = dict(e.hparams)
        return cached_transfer.train_or_load_step(
            name, backbone=hp.pop("backbone"), image_size=hp.pop("image_size"), head_units=hp.pop("head_units"),
            dropout=hp.pop("dropout"), unfrozen_from=hp.pop("unfrozen_from"), retrain=True, progress=False,
            backbone_weights=e.build_kwargs.get("backbone_weights", "imagenet"), data=data,
            refit_on_train_and_val=e.refit, selection_outputs=SELECTION_DIR / f"{name}.npz", notes=notes, **args)
    return trainer.fit(name, task="fashion", architecture=e.architecture, hparams=dict(e.hparams), data=data,
                        refit_on_train_and_val=e.refit, mixed_precision=mixed_precision,
                        build_kwargs=dict(e.build_kwargs) or None, selection_outputs=SELECTION_DIR / f"{name}.npz",
                        notes=notes, **args)


def inference_speeds(path=INFERENCE_JSON) -> dict:
    """``{model: images/s at batch 512}`` from the inference benchmark's results (empty if not run)."""
    if not path.is_file():
        return {}
    return {n: r["images_per_s_batch_512"] for n, r in json.loads(path.read_text())["results"].items()}


def experiment_log(names=None):
    """One row per saved experiment (and earlier saved models given in ``names``), as a DataFrame."""
    import pandas as pd

    speeds = inference_speeds()
    rows = []
    for name in names or [n for n in EXPERIMENTS if weights_store.exists(n)]:
        rec = weights_store.load_record(name)
        t = rec.get("training", {})
        e = EXPERIMENTS.get(name)
        rows.append({"name": name, "direction": e.direction if e else rec.get("notes", {}).get("direction", "earlier model"),
                     "idea": e.idea if e else rec.get("notes", {}).get("idea", ""),
                     "parameters": json.dumps(rec.get("hparams", {}), sort_keys=True),
                     "epochs": t.get("refit", {}).get("epochs", t.get("epochs_run")),
                     "trained_on": trained_on(rec), "training_seconds": weights_store.training_seconds(rec),
                     **dict(zip(("cpu_training_seconds", "cpu_training"), cpu_training_cost(rec))),
                     "val_accuracy": rec["metrics"]["val"]["accuracy"], "val_loss": rec["metrics"]["val"]["loss"],
                     "inference_images_per_s": speeds.get(name)})
    return pd.DataFrame(rows)


def export_summary(path=None, **items):
    """Write notebook 05's results to :data:`SUMMARY_JSON` (same results, same bytes); returns the path."""
    from helpers.core.results import write_summary

    return write_summary(path or SUMMARY_JSON, **items)


def write_log(names=None):
    df = experiment_log(names)
    EXPERIMENTS_CSV.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(EXPERIMENTS_CSV, index=False)
    return df


def ensemble_candidates(names=None, min_members: int = 2, max_members: int = 4):
    """Validation accuracy and loss of the ensembles of the *k* best saved experiments (by their own validation
    accuracy), ``k = min_members .. max_members``, their softmax outputs averaged.

    Only the top-*k* ensembles are scored, not every combination: picking the best of hundreds of
    combinations on the validation split would flatter the winner. Scored on the members' *selection-run*
    validation outputs (models that never saw the validation split), so the ranking is honest even for
    members that were later refitted. Columns: members, size, val accuracy and loss, and the best member's
    accuracy for comparison.
    """
    import pandas as pd

    from helpers.evaluation import metrics

    names = [n for n in (names or EXPERIMENTS) if (SELECTION_DIR / f"{n}.npz").is_file()]
    outputs = {n: selection_outputs(n) for n in names}
    ys = [outputs[n][1] for n in names]
    if any(len(y) != len(ys[0]) or (y != ys[0]).any() for y in ys):
        raise ValueError(f"the selection outputs of {names} are not on the same validation images")
    own = {n: metrics.classification_metrics(outputs[n][1], outputs[n][0]) for n in names}
    ranked = sorted(names, key=lambda n: (-own[n]["accuracy"], own[n]["loss"], n))
    rows = []
    for size in range(min_members, min(max_members, len(ranked)) + 1):
        group = ranked[:size]
        m = metrics.classification_metrics(ys[0], sum(outputs[n][0] for n in group) / size)
        rows.append({"members": " + ".join(group), "size": size, "val_accuracy": m["accuracy"],
                     "val_loss": m["loss"], "best_member_val_accuracy": own[group[0]]["accuracy"]})
    cols = ["members", "size", "val_accuracy", "val_loss", "best_member_val_accuracy"]
    return pd.DataFrame(rows, columns=cols)


#: The brief's test-accuracy target for the final model, and its training budget on the team's 2-core machine.
TEST_TARGET = 0.950
BUDGET_SECONDS = 3 * 3600
#: The deployment bar of the brief, and how much accuracy a faster model may give up.
SPEED_TARGET = 1000.0
ACCURACY_TOLERANCE = 0.003


def deployment_choice(candidates, speed_target: float = SPEED_TARGET, budget_seconds: float = BUDGET_SECONDS,
                      tolerance: float = ACCURACY_TOLERANCE) -> dict:
    """The most accurate candidate on validation, the fastest one close to it, and the one to deploy.

    ``candidates``: a DataFrame with ``name``, ``val_accuracy``, ``images_per_s`` (batch 512) and
    ``cpu_training_seconds``. Deployed: the most accurate candidate that meets the speed bar and whose
    training fits the budget on the team's CPU (``None`` if none does). Also named: the most accurate
    candidate of all, and the fastest candidate within ``tolerance`` of its accuracy (what the accuracy costs
    in speed). Ties in accuracy go to the faster model. The test split plays no part.
    """
    if candidates.empty:
        raise ValueError("no candidates to choose from")
    df = candidates.sort_values(["val_accuracy", "images_per_s"], ascending=False, kind="stable")
    best = df.iloc[0]
    near = df[(df["val_accuracy"] >= best["val_accuracy"] - tolerance - 1e-12)]
    fastest_near = near.sort_values("images_per_s", ascending=False, kind="stable").iloc[0]
    eligible = df[(df["images_per_s"] >= speed_target) & (df["cpu_training_seconds"] <= budget_seconds)]
    deployed = eligible.iloc[0] if len(eligible) else None
    return {"most_accurate": best["name"], "most_accurate_val_accuracy": float(best["val_accuracy"]),
            "most_accurate_images_per_s": float(best["images_per_s"]),
            "most_accurate_cpu_training_seconds": float(best["cpu_training_seconds"]),
            "fastest_within_tolerance": fastest_near["name"],
            "fastest_within_tolerance_images_per_s": float(fastest_near["images_per_s"]),
            "deployed": None if deployed is None else deployed["name"],
            "deployed_val_accuracy": None if deployed is None else float(deployed["val_accuracy"]),
            "speed_target": speed_target, "budget_seconds": budget_seconds, "tolerance": tolerance}


def candidate_table(names, ensembles=None) -> "pd.DataFrame":
    """Every way of classifying that notebook 05 weighs, one row each: the saved models ``names``, each
    experiment under test-time augmentation (where its outputs are saved) and the ``ensembles``
    (:func:`ensemble_candidates`). Columns: name, kind, members, validation accuracy, images/s at batch 512
    (a model's over its views; an ensemble's members one after the other) and the training cost on the
    team's 2-core CPU (an ensemble's members added up)."""
    import numpy as np
    import pandas as pd

    from helpers.evaluation import metrics

    speeds = inference_speeds()
    cost = {n: cpu_training_seconds(n) for n in names}
    rows = [{"name": n, "kind": "single model", "members": n,
             "val_accuracy": weights_store.load_record(n)["metrics"]["val"]["accuracy"],
             "images_per_s": speeds.get(n, np.nan), "cpu_training_seconds": cost[n][0], "cpu_training": cost[n][1]}
            for n in names]
    for n in names:
        if _tta_path(n).is_file():
            p, y, views = tta_outputs(n)
            rows.append({"name": f"{n} + TTA x{len(views)}", "kind": "test-time augmentation", "members": n,
                         "val_accuracy": metrics.classification_metrics(y, p)["accuracy"],
                         "images_per_s": speeds.get(n, np.nan) / len(views), "cpu_training_seconds": cost[n][0],
                         "cpu_training": cost[n][1]})
    for _, e in (ensembles if ensembles is not None else pd.DataFrame()).iterrows():
        members = e["members"].split(" + ")
        parts = [cost[m] if m in cost else cpu_training_seconds(m) for m in members]
        rows.append({"name": f"ensemble of the {e['size']} best", "kind": "ensemble", "members": e["members"],
                     "val_accuracy": e["val_accuracy"],
                     "images_per_s": 1 / sum(1 / speeds.get(m, np.nan) for m in members),
                     "cpu_training_seconds": (None if any(c[0] is None for c in parts) else sum(c[0] for c in parts)),
                     "cpu_training": "estimated" if any(c[1] == "estimated" for c in parts) else "measured"})
    return pd.DataFrame(rows).astype({"cpu_training_seconds": float})


def plot_accuracy_vs_cost(candidates, ax_pair=None):
    """Validation accuracy against training hours on 2 CPU cores and against images/s (batch 512), one point per
    candidate (:func:`candidate_table`), coloured by kind, with the budget and the speed bar."""
    import matplotlib.pyplot as plt

    if ax_pair is None:
        fig, ax_pair = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    else:
        fig = ax_pair[0].figure
    for ax, col, label in ((ax_pair[0], "cpu_training_seconds", "training time on 2 CPU cores (hours; measured or estimated)"),
                           (ax_pair[1], "images_per_s", "images/s at batch 512 (2-core CPU)")):
        d = candidates.dropna(subset=[col])
        for kind, g in d.groupby("kind", sort=False):
            x = g[col] / 3600 if col == "cpu_training_seconds" else g[col]
            ax.scatter(x, g["val_accuracy"], s=26, label=kind)
            if kind != "test-time augmentation":  # their names would cover the single models'
                for xi, yi, n in zip(x, g["val_accuracy"], g["name"]):
                    ax.annotate(n.replace("fashion_", ""), (xi, yi), fontsize=6.5, xytext=(3, 3), textcoords="offset points")
        ax.set_xscale("log")
        if col == "images_per_s":
            ax.axvline(SPEED_TARGET, color="grey", ls=":", lw=1)
            ax.text(SPEED_TARGET, ax.get_ylim()[0], " speed bar", fontsize=7, color="grey", va="bottom")
        else:
            ax.axvline(BUDGET_SECONDS / 3600, color="grey", ls=":", lw=1)
            ax.text(BUDGET_SECONDS / 3600, ax.get_ylim()[0], " budget", fontsize=7, color="grey", va="bottom")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    ax_pair[0].set_ylabel("validation accuracy")
    ax_pair[0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def reliability_diagram(y, before, after, bins: int | None = None, title: str | None = None):
    """Accuracy against confidence per bin, before and after temperature scaling (the diagonal is perfect)."""
    import matplotlib.pyplot as plt

    from helpers.training import calibration

    bins = bins or calibration.ECE_BINS
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="perfectly calibrated")
    for proba, label in ((before, "softmax"), (after, "after temperature scaling")):
        t = calibration.reliability(y, proba, bins)
        ece = calibration.expected_calibration_error(y, proba, bins)
        ax.plot(t["confidence"], t["accuracy"], marker="o", ms=3, label=f"{label} (ECE {ece:.4f})")
    ax.set_xlabel("confidence (mean per bin)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0.3, 1.01)
    ax.set_ylim(0.3, 1.01)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
