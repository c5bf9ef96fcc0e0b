"""Score a table of uploads: one prediction row per image (the per-image step of the offers pipeline).

A :class:`Scorer` loads the model, its calibration, its rejection rule and its offer rules once, then turns a
chunk of the uploads table (a pandas frame with ``user_id`` and ``image``) into prediction rows: the label, the
calibrated confidence, the out-of-domain score, the rejection rule's verdict, whether the image counts toward an
offer (in domain and at least its category's confidence threshold), an ``error`` for an image that cannot be read,
the model's name and weights sha256 and the rules' version. Images are decoded in a thread pool and predicted in
batches; one bad image becomes a row with an ``error``, never a failed batch. The same class runs in the local
engine and inside each Ray worker (:mod:`helpers.serving.batch`), so both engines give the same rows.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.core.errors import HelpersError

#: Images predicted at once (the model-only speed is measured at this batch size).
BATCH_SIZE = 512
#: Columns the pipeline adds to each upload row, in order.
PREDICTION_COLUMNS = ("label", "confidence", "ood_score", "in_domain", "counts", "error", "task", "model",
                      "model_sha256", "rules_version")
#: The task the offers pipeline serves when none is named: the site's uploads are photos (notebook 11's model);
#: ``fashion`` (28-pixel catalogue thumbnails, notebooks 05-06) is kept as an option.
DEFAULT_TASK = "clothing"
#: How each task's model runs in the pipeline: ``tflite`` (TensorFlow Lite, one photo per call; 4x Keras on
#: photos, ``benchmarks/results/clothing_speed.json``) or ``keras`` (batches of :data:`BATCH_SIZE`).
RUNTIMES = {"clothing": "tflite", "fashion": "keras"}
#: Threads of the TensorFlow Lite interpreter (the same on both engines, so that they give the same numbers).
LITE_THREADS = 2
REQUIRED_COLUMNS = ("user_id", "image")


def resolve(image, base_dir) -> Path:
    """An upload's image path: absolute as given, or relative to the uploads table's folder."""
    p = Path(str(image))
    return p if p.is_absolute() else Path(base_dir) / p


#: The types of the prediction columns, whatever the engine (Ray's Arrow round trip changes pandas types).
DTYPES = {"row": "int64", "label": "string", "confidence": "float64", "ood_score": "float64", "in_domain": "boolean",
          "counts": "bool", "error": "string", "task": "string", "model": "string", "model_sha256": "string", "rules_version": "string"}


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Fixed column types: :data:`DTYPES` for the predictions, text for ``user_id``, ``image`` and any extra
    column read as text, so that every part and every engine writes the same Parquet schema."""
    out = frame.copy()
    for c in out.columns:
        if c in DTYPES:
            out[c] = out[c].astype(DTYPES[c])
        elif c in REQUIRED_COLUMNS or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].astype("string")
    return out


class Scorer:
    """Model + calibration + rejection rule + offer rules, loaded once; :meth:`score` scores one chunk.

    :meth:`spec` packs what a worker needs -- the verified weights' bytes, the record, the rules, the task's
    preparation -- so a Ray worker (:meth:`from_spec`) scores with exactly the driver's model and rules and needs
    neither ``weights/`` nor ``results/``.
    """

    def __init__(self, model_name: str | None = None, rules_file=None, threads: int = 4, task: str | None = None,
                 runtime: str | None = None):
        from helpers.evaluation import out_of_domain
        from helpers.inputs import tasks
        from helpers.models import weights_store
        from helpers.serving import rules as offer_rules
        from helpers.serving.classify import best_model_name

        task = task or (weights_store.load_record(model_name)["task"] if model_name else DEFAULT_TASK)
        if task not in RUNTIMES:
            raise HelpersError(f"the offers pipeline serves the tasks {', '.join(RUNTIMES)}, not {task!r}.")
        name = model_name or best_model_name(task)
        record = weights_store.load_record(name)
        if record["task"] != task:
            raise HelpersError(f"model {name!r} classifies {record['task']!r}, not {task!r}: pass a model of the "
                               f"task (or --task {record['task']}).")
        rules = offer_rules.load_rules(name, rules_file)
        if rules["classes"] != tasks.get(task).class_names:
            raise offer_rules.RulesError(f"the rule file of {name!r} lists other categories than the task {task!r}.")
        runtime = runtime or RUNTIMES[task]
        if runtime not in ("keras", "tflite"):
            raise HelpersError(f"unknown runtime {runtime!r}: keras or tflite.")
        rejection, maha = out_of_domain.load_rule(name) if rules["rejection_rule"] else (None, None)
        if rules["rejection_rule"] and rejection is None:
            raise offer_rules.RulesError(f"the offer rules need the rejection rule of {name!r}, which is missing or "
                                         "stale: re-execute notebook 06.")
        weights = weights_store.verify(name, record).read_bytes()
        spec = {"name": name, "record": record, "weights": weights, "rules": rules, "rejection": rejection,
                "maha": maha, "task": tasks.get(task), "runtime": runtime,
                "rules_file": offer_rules.rules_path(name).name if rules_file is None else str(rules_file)}
        self._setup(spec, threads)
        if runtime == "tflite":  # converted once per weights file (cached); the bytes travel to Ray's workers
            from helpers.serving import lite

            self._spec["tflite"] = lite.convert(self.model, record).read_bytes()
            self._attach_lite()

    @classmethod
    def from_spec(cls, spec: dict, threads: int = 4) -> "Scorer":
        scorer = cls.__new__(cls)
        scorer._setup(spec, threads)
        return scorer

    def spec(self) -> dict:
        return dict(self._spec)

    @property
    def info(self) -> dict:
        """What identifies the scoring in ``run.json`` and in a resumable run's manifest."""
        return {"task": self.task.name, "model": self.model_name, "model_sha256": self.record["sha256"],
                "runtime": self.runtime, "rules_file": self._spec.get("rules_file"),
                "rules_version": self.rules_version}

    def _setup(self, spec: dict, threads: int) -> None:
        import tempfile

        from helpers.evaluation import out_of_domain
        from helpers.models.saved_models import build_from_record, temperature_of
        from helpers.serving import rules as offer_rules

        self._spec = spec
        self.model_name, self.record, self.rules = spec["name"], spec["record"], spec["rules"]
        self.rejection, self.maha, self.task = spec["rejection"], spec["maha"], spec["task"]
        self.model = build_from_record(self.record)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.weights.h5"
            path.write_bytes(spec["weights"])
            self.model.load_weights(path)
        self.rules_version = offer_rules.version_label(self.rules)
        self.temperature = temperature_of(self.record)
        self.features = out_of_domain.feature_model(self.model)
        self.kernel, self.bias = out_of_domain.output_layer(self.model).get_weights()
        self.runtime, self.lite = spec.get("runtime", "keras"), None
        self._attach_lite()
        self.thresholds = np.array([self.rules["thresholds"][c] for c in self.task.class_names])
        self.threads = threads

    def _attach_lite(self) -> None:
        """The TensorFlow Lite interpreter, when the spec carries the converted model."""
        if self._spec.get("tflite") is not None:
            from helpers.serving.lite import LiteModel

            self.lite = LiteModel(self._spec["tflite"], self.kernel, self.bias, threads=LITE_THREADS)

    def _prepare(self, path):
        from helpers.inputs.images import open_rgb

        try:
            return self.task.prepare(open_rgb(path), self.record.get("input_shape")), None
        except HelpersError as e:
            return None, str(e)
        except Exception as e:  # noqa: BLE001 -- an image must never fail its batch: the row records why
            return None, f"{path}: could not be read ({type(e).__name__}: {e})"

    def predict_arrays(self, x) -> dict:
        """Label index, calibrated confidence, out-of-domain score and verdict for prepared inputs ``x``."""
        from helpers.evaluation import out_of_domain

        if self.lite is not None:
            logits, feats = self.lite.outputs(x)
        else:
            feats = np.concatenate([np.asarray(self.features.predict_on_batch(x[i:i + BATCH_SIZE]), dtype=np.float64)
                                    for i in range(0, len(x), BATCH_SIZE)])
            logits = feats @ self.kernel + self.bias
        p = out_of_domain.softmax(logits / self.temperature)
        label = p.argmax(axis=1)
        out = {"label": label, "confidence": np.round(p[np.arange(len(p)), label], 4)}
        if self.rejection:
            s = out_of_domain.all_scores(logits, feats, self.maha, self.rejection.get("temperature", 1.0))
            score = s[self.rejection["score"]]
            out["ood_score"] = np.round(score, 4)
            out["in_domain"] = out_of_domain.in_domain(self.rejection, score, x, labels=label)
        else:
            out["ood_score"], out["in_domain"] = np.full(len(x), np.nan), np.ones(len(x), bool)
        return out

    def score(self, frame: pd.DataFrame, base_dir=".") -> pd.DataFrame:
        """The chunk ``frame`` with :data:`PREDICTION_COLUMNS` added (rows and their order unchanged).

        Images are decoded by a thread pool that runs ahead while the model predicts the previous batch (the
        model releases the interpreter lock); batches are the chunk's rows in slices of :data:`BATCH_SIZE`, so
        that both engines predict exactly the same batches."""
        paths = [resolve(i, base_dir) for i in frame["image"]]
        n = len(frame)
        label = np.full(n, None, dtype=object)
        conf, score = np.full(n, np.nan), np.full(n, np.nan)
        keep, confident, ok = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
        errors: list = [None] * n
        with ThreadPoolExecutor(self.threads) as pool:
            prepared = pool.map(self._prepare, paths)
            for start in range(0, n, BATCH_SIZE):
                idx, xs = [], []
                for i in range(start, min(n, start + BATCH_SIZE)):
                    x, errors[i] = next(prepared)
                    if x is not None:
                        idx.append(i)
                        xs.append(x)
                if not idx:
                    continue
                r = self.predict_arrays(np.stack(xs).astype(np.float32))
                ok[idx] = True
                label[idx] = [self.task.class_names[i] for i in r["label"]]
                conf[idx], score[idx], keep[idx] = r["confidence"], r["ood_score"], r["in_domain"]
                confident[idx] = r["confidence"] >= self.thresholds[r["label"]]
        out = frame.reset_index(drop=True).copy()
        out["label"] = pd.array(label, dtype="string")
        out["confidence"], out["ood_score"] = conf, score
        out["in_domain"] = pd.array(np.where(ok, keep, None), dtype="boolean")
        out["counts"] = ok & keep & confident
        out["error"] = pd.array(errors, dtype="string")
        out["task"], out["model"], out["model_sha256"] = self.task.name, self.model_name, self.record["sha256"]
        out["rules_version"] = self.rules_version
        return out
