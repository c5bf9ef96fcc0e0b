"""The offer rules: one versioned file that says which uploads count and which users get which offer.

Notebook 06 decides the rules for the deployed model and writes them (:func:`write_rules`) to
``results/offers/rules_<model>.json``; the offers pipeline (:mod:`helpers.serving.batch`) reads them
(:func:`load_rules`) and nothing else, so no threshold is typed twice. A rule file holds:

- ``thresholds``: per category, the calibrated confidence an image needs to *count* toward an offer (fixed on
  validation for a target precision), rounded to :data:`THRESHOLD_DECIMALS` decimals before the content is hashed,
  so that a model's 7th-digit noise from one CPU to another cannot change the file or its version;
- ``rejection_rule``: the file of the out-of-domain rule (:mod:`helpers.evaluation.out_of_domain`) and its
  sha256 -- an image the rule rejects never counts;
- ``offers``: what each predicted category offers (``"tops"`` for the merged categories, the category itself
  when it is launched; held categories offer nothing);
- ``min_images``: per offer, how many counted images a user needs before the offer is made;
- ``version`` and ``sha256`` (of the rule content): written into every prediction row, so a result can always
  be traced to the rules that made it.

The file is tied to the model's weights: rules written for other weights are refused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from helpers.core import paths
from helpers.core.errors import HelpersError

RULES_DIR = paths.REPO_ROOT / "results" / "offers"
#: Bumped when the file's *format* changes (the content's own changes show in its sha256).
FORMAT_VERSION = 1
#: Decimals of a saved confidence threshold.
THRESHOLD_DECIMALS = 3
#: Merged categories: one offer name for several labels the model confuses with each other.
TOPS = "tops"


class RulesError(HelpersError):
    """A rule file that is missing, malformed, or written for other weights."""


def rules_path(model_name: str) -> Path:
    return RULES_DIR / f"rules_{model_name}.json"


def _content_sha(rules: dict) -> str:
    body = {k: v for k, v in rules.items() if k not in ("sha256", "version")}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def build_rules(model_name: str, class_names, thresholds: dict, launch, merge: dict, hold, min_images: dict,
                rejection_rule: str | None, decided_on: str, notes: str = "") -> dict:
    """A rule set (see the module docstring). ``thresholds`` and ``min_images`` map every category (for
    ``min_images``: every offer) to a value; ``merge`` maps an offer name to the categories it merges;
    ``launch`` lists the categories offered on their own, ``hold`` those offered nothing."""
    from helpers.core.checksums import file_digest
    from helpers.evaluation import out_of_domain
    from helpers.models import weights_store

    class_names = list(class_names)
    offers = {}
    for offer, members in merge.items():
        for c in members:
            offers[c] = offer
    for c in launch:
        offers[c] = c
    for c in hold:
        offers[c] = None
    unknown = sorted(set(offers) - set(class_names))
    missing = [c for c in class_names if c not in offers]
    if unknown or missing:
        raise RulesError(f"every category needs exactly one status (launch, merge or hold); unknown: {unknown}, "
                         f"without a status: {missing}")
    offered = sorted({o for o in offers.values() if o})
    lacking = [o for o in offered if o not in min_images] + [c for c in class_names if c not in thresholds]
    if lacking:
        raise RulesError(f"no minimum number of images or no threshold for: {lacking}")
    rejection = None
    if rejection_rule is not None:
        path = out_of_domain.rule_path(model_name)
        rejection = {"file": path.name, "sha256": file_digest(path)}
    rules = {"format": FORMAT_VERSION, "model": model_name,
             "model_sha256": weights_store.load_record(model_name)["sha256"], "classes": class_names,
             "thresholds": {c: round(float(thresholds[c]), THRESHOLD_DECIMALS) for c in class_names},
             "offers": offers, "min_images": {o: int(min_images[o]) for o in offered},
             "rejection_rule": rejection, "decided_on": decided_on, "notes": notes}
    return rules


def write_rules(rules: dict, path=None) -> Path:
    """Write ``rules`` atomically; the version goes up by one whenever the content changes."""
    path = Path(path or rules_path(rules["model"]))
    sha = _content_sha(rules)
    version = 1
    if path.is_file():
        old = json.loads(path.read_text())
        version = old.get("version", 0) + (old.get("sha256") != sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({**rules, "version": version, "sha256": sha}, indent=1, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path


def load_rules(model_name: str, path=None) -> dict:
    """The rules for ``model_name``, checked: the right weights, an unchanged rejection rule, a known format."""
    from helpers.core.checksums import file_digest
    from helpers.evaluation import out_of_domain
    from helpers.models import weights_store

    path = Path(path or rules_path(model_name))
    if not path.is_file():
        raise RulesError(f"no offer rules for model {model_name!r} ({path}): execute the notebook that decides "
                         "this model's rules (06_error_analysis for fashion, 11_real_photos for clothing: python -m "
                         "helpers.run_notebooks NAME), which writes them.")
    try:
        rules = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise RulesError(f"{path} is not valid JSON ({e}); restore it from git or re-execute its notebook (06 or 11).") from None
    if rules.get("format") != FORMAT_VERSION:
        raise RulesError(f"{path} has format {rules.get('format')!r}; this code reads format {FORMAT_VERSION}.")
    if rules.get("sha256") != _content_sha(rules):
        raise RulesError(f"{path} was edited by hand (its content no longer matches its sha256): decide rules in "
                         "notebook 06 or 11, which rewrites the file with a new version.")
    if rules["model"] != model_name or rules["model_sha256"] != weights_store.load_record(model_name)["sha256"]:
        raise RulesError(f"{path} was written for other weights than model {model_name!r} has now: re-execute "
                         "its notebook (06 or 11).")
    rejection = rules.get("rejection_rule")
    if rejection and file_digest(out_of_domain.rule_path(model_name)) != rejection["sha256"]:
        raise RulesError(f"the rejection rule {rejection['file']} changed after the offer rules were written: "
                         "re-execute its notebook (06 or 11).")
    return rules


def version_label(rules: dict) -> str:
    """``"v<version>-<first 8 of sha256>"``: what each prediction row records."""
    return f"v{rules['version']}-{rules['sha256'][:8]}"
