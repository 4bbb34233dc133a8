"""Binary operating points: a threshold chosen on the validation split only, then applied to test."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_curve

from medtransfer.errors import ConfigError
from medtransfer.evaluation.bootstrap import bootstrap_indices, confusion_rows, percentile_ci

TABLE_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def choose_threshold(y_val: np.ndarray, score_val: np.ndarray, target_sensitivity: float | None = None) -> dict:
    """Youden's J (sensitivity + specificity − 1) by default, or the highest threshold reaching a sensitivity.

    ``y_val`` is 1 for the positive class. Only validation data may be passed here: a threshold tuned on
    test inflates every number reported at it.
    """
    if len(np.unique(y_val)) < 2:
        raise ConfigError("the validation split has a single class: no operating point can be chosen on it.")
    fpr, tpr, thresholds = roc_curve(y_val, score_val)
    thresholds = np.minimum(thresholds, 1.0)  # sklearn's first threshold is +inf
    if target_sensitivity is None:
        best = int(np.argmax(tpr - fpr))
        return {"method": "youden", "threshold": float(thresholds[best])}
    if not 0 < target_sensitivity <= 1:
        raise ConfigError("--target-sensitivity must be in (0, 1].")
    reaching = np.flatnonzero(tpr >= target_sensitivity)
    return {
        "method": f"sensitivity ≥ {target_sensitivity:g} on validation",
        "threshold": float(thresholds[reaching[0]]),
    }


def metrics_at(y: np.ndarray, score: np.ndarray, threshold: float, n_boot: int = 0, seed: int = 0) -> dict:
    """Sensitivity, specificity, PPV, NPV, F1 at ``threshold`` (positive when score ≥ threshold), with CIs."""
    yb, called = y.astype(bool)[None, :], (score >= threshold)[None, :]
    point = {k: float(v[0]) for k, v in confusion_rows(yb, called).items() if np.isfinite(v[0])}
    point = {k: point[k] for k in ("sensitivity", "specificity", "ppv", "npv", "f1") if k in point}
    if n_boot:
        idx = bootstrap_indices(y, n_boot, seed)
        rows = confusion_rows(y.astype(bool)[idx], (score >= threshold)[idx])
        for k in list(point):
            ci = percentile_ci(rows[k])
            if ci is not None:
                point[f"{k}_ci"] = ci
    return point


def threshold_table(y: np.ndarray, score: np.ndarray, chosen: float) -> list[dict]:
    """Rows of threshold → sensitivity, specificity, PPV, NPV, F1 (the chosen threshold included)."""
    thresholds = sorted({*TABLE_THRESHOLDS, round(chosen, 4)})
    return [{"threshold": t, "chosen": t == round(chosen, 4), **metrics_at(y, score, t)} for t in thresholds]
