"""The deployed network's confidences calibrated: its temperature (fitted on its validation outputs, stored in its
record once) and what that does on test."""

from __future__ import annotations

from helpers.models import weights_store
from helpers.studies.best_model.tta import selection_outputs


def calibrated_test(name: str, model, y_val, x_test, y_test) -> dict:
    """Saved network ``name`` (``model``, loaded) with its temperature: fitted on its validation outputs (a network
    that never trained on them) and stored in its record, unless the record already holds one. Returns
    ``{"calibration", "p_test", "p_test_cal", "ece"}``: the record's calibration, the test probabilities before and
    after the temperature, and the expected calibration error on test before and after (``{"before", "after"}``)."""
    from helpers.models import saved_models
    from helpers.training import calibration

    cal = weights_store.load_record(name).get("calibration") or calibration.store(
        name, calibration.calibration_record(y_val, selection_outputs(name)[0]))["calibration"]
    p_test = saved_models.predict_proba(model, x_test)
    p_cal = calibration.apply_temperature(p_test, cal["temperature"])
    return {"calibration": cal, "p_test": p_test, "p_test_cal": p_cal,
            "ece": {k: calibration.expected_calibration_error(y_test, p) for k, p in (("before", p_test), ("after", p_cal))}}
