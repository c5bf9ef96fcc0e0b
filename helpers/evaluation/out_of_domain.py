"""Is an image one of the things the model knows? Out-of-domain scores and the rejection rule.

A softmax classifier always names one of its classes, often with high confidence, for anything at all
(a tent, random noise). Each score here is *higher for stranger inputs*:

- ``max_softmax``: one minus the largest (calibrated) class probability (Hendrycks & Gimpel, 2017);
- ``energy``: the free energy ``-logsumexp(logits)`` (Liu et al., 2020), which keeps the logits' scale;
- ``mahalanobis``: the distance of the penultimate-layer features to the nearest class mean under a
  shared covariance fitted on training images (Lee et al., 2018);
- ``detector``: one minus the probability of a small logistic-regression detector (:func:`fit_detector`) that
  reads the model's own penultimate features, logits, energy and Mahalanobis distance and was fitted to tell
  fashion images (Fashion-MNIST training images and real garment photos) from non-fashion photos.

The **rule** (:func:`fit_rule`) rejects an image whose score is above the threshold that keeps
``keep`` of in-domain validation images, or whose outer frame is not dark like Fashion-MNIST's. Notebook 06 chooses the score on one part of the gear photos
and reports the rule on the rest, then saves it (:func:`save_rule`) in ``results/error_analysis/``;
``helpers.predict`` applies it to every photo (:func:`score_inputs`).
"""

from __future__ import annotations

import json

import numpy as np

from helpers.core import paths
from helpers.core.results import round_significant

SCORES = ("max_softmax", "energy", "mahalanobis", "detector")
#: The scores that need a fit (class means and covariance; the detector's weights) saved beside the rule.
FITTED_SCORES = ("mahalanobis", "detector")
#: The share of in-domain validation images the rule keeps.
KEEP_IN_DOMAIN = 0.95
#: Fashion-MNIST items lie on black. The rule also checks the mean brightness of the input's outer
#: frame (this many pixels wide) and rejects inputs brighter there than all but this share of in-domain
#: images: noise and blank photos, which no feature score is trained to notice, fail it.
FRAME_WIDTH = 2
FRAME_KEEP = 0.999
#: The share first used: the check alone then dropped 3.5 % of validation Bags (they fill their square); notebook 06
#: prints both.
FRAME_KEEP_FIRST = 0.995
RULES_DIR = paths.REPO_ROOT / "results" / "error_analysis"


def energy_score(logits, temperature: float = 1.0) -> np.ndarray:
    """Free energy ``-T * logsumexp(z / T)`` of each image's logits: low for inputs like the training data,
    higher out of domain (Liu et al., 2020). Unlike the maximum softmax, it keeps the logits' scale."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    m = z.max(axis=1, keepdims=True)
    return -temperature * (m[:, 0] + np.log(np.exp(z - m).sum(axis=1)))


def mahalanobis_fit(features, y, n_classes: int) -> dict:
    """Class means and a shared (tied) covariance of penultimate-layer features (Lee et al., 2018)."""
    f, y = np.asarray(features, dtype=np.float64), np.asarray(y).astype(int)
    present = [c for c in range(n_classes) if (y == c).any()]
    means = np.full((n_classes, f.shape[1]), np.nan)
    means[present] = np.stack([f[y == c].mean(0) for c in present])
    centred = f - means[y]
    cov = centred.T @ centred / len(f) + 1e-6 * np.eye(f.shape[1])
    return {"means": means, "precision": np.linalg.pinv(cov)}


def mahalanobis_score(fit: dict, features) -> np.ndarray:
    """Distance to the nearest class mean (squared Mahalanobis): large for images unlike any class."""
    f = np.asarray(features, dtype=np.float64)
    d = []
    for mu in fit["means"]:
        if np.isnan(mu).any():  # a class with no fitting images
            continue
        x = f - mu
        d.append(((x @ fit["precision"]) * x).sum(axis=1))
    return np.min(np.stack(d, axis=1), axis=1)


#: Significant digits of a saved threshold: rounded before it is compared or written, so that a model's outputs,
#: which move in the 7th digit from one CPU to another, give the same rule everywhere.
THRESHOLD_DIGITS = 4


def rejection_threshold(in_domain_scores, keep: float = 0.95, higher_is_stranger: bool = True) -> float:
    """The score threshold that keeps ``keep`` of in-domain images (fix it on one set, report on another), rounded
    to :data:`THRESHOLD_DIGITS` significant digits."""
    s = np.asarray(in_domain_scores, dtype=np.float64)
    return round_significant(np.quantile(s, keep if higher_is_stranger else 1 - keep), THRESHOLD_DIGITS)


def rejected(scores, threshold: float, higher_is_stranger: bool = True) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    return s > threshold if higher_is_stranger else s < threshold


def output_layer(model):
    """The softmax ``Dense`` of a model: the layer named ``output`` (the project's own networks), or a transfer
    model's ``head_output`` inside its ``head``."""
    try:
        return model.get_layer("output")
    except ValueError:
        pass
    try:
        return model.get_layer("head").get_layer("head_output")
    except ValueError:
        raise ValueError(f"model {model.name!r} has no Dense layer named 'output' nor a transfer head (an "
                         "ensemble?): its logits and features are not defined") from None


def feature_model(model):
    """Raw inputs -> penultimate features (the input of :func:`output_layer`)."""
    import keras

    out_layer = output_layer(model)
    if out_layer.name == "output":
        return keras.Model(model.inputs, out_layer.input)
    x = model.get_layer("pool").output  # a transfer model: pooled backbone features, then the head's hidden layers
    for layer in model.get_layer("head").layers[1:-1]:
        x = layer(x)
    return keras.Model(model.inputs, x)


def logits_and_features(model, x, batch_size: int = 512, features=None):
    """``(logits, penultimate features)`` of a model with a softmax :func:`output_layer`
    (``features``: a :func:`feature_model` built once, when called many times)."""
    features = features or feature_model(model)
    feats = np.asarray(features.predict(x, batch_size=batch_size, verbose=0), dtype=np.float64)
    w, b = output_layer(model).get_weights()
    return feats @ w + b, feats


def softmax(logits) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def detector_inputs(logits, features, maha: dict) -> np.ndarray:
    """What the detector reads per image: penultimate features, logits, energy and log Mahalanobis distance."""
    return np.c_[np.asarray(features, dtype=np.float64), np.asarray(logits, dtype=np.float64), energy_score(logits),
                 np.log1p(mahalanobis_score(maha, features))]


#: The detector is solved to its optimum (Newton steps, tolerance 1e-8). Stopped early (L-BFGS at scikit-learn's
#: default 1e-4), its solution depended on the optimiser's path: model outputs that moved in the 7th digit from one
#: CPU to another moved its coefficients by 0.1 % and a threshold by 0.5 %; solved to the optimum, they move by
#: 6e-7, as little as the inputs, and the fit is faster (5 s against 7 s on the project's 11,000 rows).
DETECTOR_SOLVER = "newton-cholesky"
DETECTOR_TOL = 1e-8


def fit_detector(logits, features, is_fashion, groups, maha: dict, c: float = 1.0,
                 tol: float = DETECTOR_TOL) -> dict:
    """A logistic-regression detector of fashion images (standardised inputs, L2 penalty ``1/c``), each group of
    ``groups`` (e.g. "Fashion-MNIST", "garment photos", "non-fashion photos") weighted to the same total, so
    that 50,000 thumbnails do not drown 500 photos. Returns its arrays (``detector_*``), to be saved with the rule."""
    from sklearn.linear_model import LogisticRegression

    x = detector_inputs(logits, features, maha)
    mean, scale = x.mean(0), x.std(0) + 1e-9
    groups = np.asarray(groups)
    names, counts = np.unique(groups, return_counts=True)
    weight = (len(groups) / (len(names) * counts))[np.searchsorted(names, groups)]
    clf = LogisticRegression(C=c, max_iter=1000, tol=tol, solver=DETECTOR_SOLVER).fit(
        (x - mean) / scale, np.asarray(is_fashion, dtype=int), sample_weight=weight)
    return {"detector_mean": mean, "detector_scale": scale, "detector_coef": clf.coef_[0],
            "detector_intercept": clf.intercept_.astype(np.float64)}


def detector_score(fit: dict, logits, features) -> np.ndarray:
    """One minus the detector's probability that an image is fashion (higher = stranger)."""
    z = (detector_inputs(logits, features, fit) - fit["detector_mean"]) / fit["detector_scale"]
    return 1.0 / (1.0 + np.exp(z @ fit["detector_coef"] + fit["detector_intercept"][0]))


def all_scores(logits, features, maha: dict | None = None, temperature: float = 1.0) -> dict:
    """``{score name: (N,) array}`` for every score of :data:`SCORES` that can be computed: Mahalanobis with a
    fit (``maha``: class means and precision matrix), the detector when ``maha`` also holds its arrays."""
    out = {"max_softmax": 1.0 - softmax(np.asarray(logits) / temperature).max(axis=1),
           "energy": energy_score(logits)}
    if maha is not None:
        out["mahalanobis"] = mahalanobis_score(maha, features)
        if "detector_coef" in maha:
            out["detector"] = detector_score(maha, logits, features)
    return out


def frame_brightness(x, width: int = FRAME_WIDTH) -> np.ndarray:
    """Mean brightness (0-255) of each image's outer frame ``width`` pixels wide; ``x`` is ``(N, H, W[, C])``."""
    a = np.asarray(x, dtype=np.float64)
    a = a.reshape(a.shape[:3] + (-1,)).mean(axis=3)
    inner = a[:, width:-width, width:-width]
    total, inside = a.sum(axis=(1, 2)), inner.sum(axis=(1, 2))
    return (total - inside) / (a.shape[1] * a.shape[2] - inner.shape[1] * inner.shape[2])


def fit_rule(kind: str, in_domain_scores, keep: float = KEEP_IN_DOMAIN, in_domain_inputs=None,
             frame_keep: float = FRAME_KEEP, threshold: float | None = None, **provenance) -> dict:
    """The rule for score ``kind``: reject above the threshold that keeps ``keep`` of ``in_domain_scores``
    (or above ``threshold``, when the caller fixed it on more than one set of in-domain images);
    with ``in_domain_inputs`` (the same images), also reject inputs whose outer frame is brighter than
    ``frame_keep`` of them (:func:`frame_brightness`)."""
    if kind not in SCORES:
        raise ValueError(f"unknown score {kind!r}; known: {', '.join(SCORES)}")
    if threshold is None:
        threshold = rejection_threshold(in_domain_scores, keep)
    threshold = np.asarray(round_significant(threshold, THRESHOLD_DIGITS), dtype=np.float64)
    rule = {"score": kind, "threshold": threshold.tolist() if threshold.ndim else float(threshold), "keep": keep}
    if in_domain_inputs is not None:
        frame = np.quantile(frame_brightness(in_domain_inputs), frame_keep)
        rule.update(frame_width=FRAME_WIDTH, frame_threshold=round_significant(frame, THRESHOLD_DIGITS))
    return {**rule, **provenance}


def in_domain(rule: dict, scores, x=None, labels=None) -> np.ndarray:
    """The rule's verdict for inputs ``x`` with scores ``scores`` (of the rule's kind): True = keep. A rule with
    one threshold per class (a list) needs the predicted ``labels`` (class indices)."""
    threshold = rule["threshold"]
    if isinstance(threshold, (list, tuple, np.ndarray)):
        if labels is None:
            raise ValueError("this rule has one threshold per class: pass the predicted labels")
        threshold = np.asarray(threshold, dtype=np.float64)[np.asarray(labels, dtype=int)]
    keep = ~rejected(scores, threshold)
    if "frame_threshold" in rule:
        if x is None:
            raise ValueError("this rule also checks the inputs' frame: pass the inputs")
        keep &= frame_brightness(x, rule["frame_width"]) <= rule["frame_threshold"]
    return keep


def rule_path(model_name: str):
    return RULES_DIR / f"rejection_rule_{model_name}.json"


def save_rule(model_name: str, rule: dict, maha: dict | None = None, temperature: float = 1.0):
    """Save ``rule`` for a saved model (tied to its weights' sha256); a Mahalanobis or detector rule keeps its fit
    beside it. Files that already hold the same rule at its meaningful precision are left as they are (a rerun on
    another CPU rewrites nothing). Returns ``(rule, fit)`` as they are on disk: go on with those."""
    from helpers.core.results import write_arrays_if_changed, write_json_if_changed
    from helpers.models import weights_store

    rule = {**rule, "model": model_name, "model_sha256": weights_store.load_record(model_name)["sha256"],
            "temperature": float(temperature)}
    RULES_DIR.mkdir(parents=True, exist_ok=True)
    if rule["score"] in FITTED_SCORES:
        if maha is None or (rule["score"] == "detector" and "detector_coef" not in maha):
            raise ValueError(f"a {rule['score']} rule needs its fit (class means and precision matrix; the "
                             "detector's arrays)")
        maha = write_arrays_if_changed(rule_path(model_name).with_suffix(".npz"), dict(maha))
    write_json_if_changed(rule_path(model_name), rule, indent=1)
    return json.loads(rule_path(model_name).read_text()), maha


def load_rule(model_name: str):
    """``(rule, maha fit or None)`` saved for ``model_name``; ``(None, None)`` when there is none or the model
    was retrained since (a rule fitted on another model's scores would mean nothing)."""
    from helpers.models import weights_store

    path = rule_path(model_name)
    if not path.is_file():
        return None, None
    rule = json.loads(path.read_text())
    if rule.get("model_sha256") != weights_store.load_record(model_name)["sha256"]:
        return None, None
    maha = None
    if rule["score"] in FITTED_SCORES:
        with np.load(path.with_suffix(".npz")) as z:
            maha = {k: z[k] for k in z.files}
    return rule, maha


def score_inputs(model, rule: dict, maha, x, features=None) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, in_domain)`` of inputs ``x`` under a saved rule (``features``: see :func:`logits_and_features`)."""
    logits, feats = logits_and_features(model, x, features=features)
    s = all_scores(logits, feats, maha, rule.get("temperature", 1.0))[rule["score"]]
    return s, in_domain(rule, s, x, labels=logits.argmax(axis=1))
