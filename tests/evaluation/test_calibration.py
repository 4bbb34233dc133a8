"""Calibration: a calibrated predictor has ECE near 0, an overconfident one does not; temperature fixes it."""

from __future__ import annotations

import numpy as np

from medtransfer.evaluation.calibration import calibration_summary, fit_temperature


def _binary_probs(p: np.ndarray) -> np.ndarray:
    return np.stack([1 - p, p], axis=1)


def test_ece_near_zero_for_calibrated_and_large_for_overconfident():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 20000)
    y = (rng.uniform(0, 1, 20000) < p).astype(int)  # outcomes drawn at the stated probability
    calibrated = calibration_summary(y, _binary_probs(p), positive=1)
    sharp = np.where(p > 0.5, 0.99, 0.01)  # same ranking, overconfident
    overconfident = calibration_summary(y, _binary_probs(sharp), positive=1)
    assert calibrated["ece"] < 0.02
    assert overconfident["ece"] > 0.15
    assert overconfident["brier"] > calibrated["brier"]


def test_temperature_scaling_recovers_the_true_temperature():
    rng = np.random.default_rng(1)
    logits = rng.normal(scale=2.0, size=(5000, 3))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in probs])
    t = fit_temperature(logits * 3.0, y)  # logits inflated 3×: the fitted temperature should undo it
    assert 2.6 < t < 3.4
