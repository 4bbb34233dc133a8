"""Paired comparison finds a real difference and not a null one; DeLong agrees with the bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from medtransfer.data.task import TaskSpec
from medtransfer.evaluation.compare import delong_test, paired_bootstrap

TASK = TaskSpec("binary", ("neg", "pos"))


def _model(rng, y, strength):
    s = strength * y + rng.normal(size=len(y))
    p = 1 / (1 + np.exp(-s))
    return np.stack([1 - p, p], axis=1)


def test_real_difference_is_found():
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(150, int), np.zeros(150, int)]
    good, weak = _model(rng, y, 2.0), _model(rng, y, 0.5)
    boot = paired_bootstrap(TASK, y, good, weak, n_boot=1000)
    assert boot["auroc"]["difference"] > 0.15 and boot["auroc"]["difference_ci"][0] > 0
    assert boot["auroc"]["p_value"] < 0.01
    delong = delong_test(y, good[:, 1], weak[:, 1])
    assert delong["p_value"] < 0.001 and delong["difference"] == pytest.approx(boot["auroc"]["difference"])


def test_null_difference_is_not_found():
    rng = np.random.default_rng(1)
    y = np.r_[np.ones(150, int), np.zeros(150, int)]
    a, b = _model(rng, y, 1.0), _model(rng, y, 1.0)
    boot = paired_bootstrap(TASK, y, a, b, n_boot=1000)
    delong = delong_test(y, a[:, 1], b[:, 1])
    assert boot["auroc"]["p_value"] > 0.05 and delong["p_value"] > 0.05
    lo, hi = delong["difference_ci"]
    assert lo < 0 < hi


def test_delong_standard_error_matches_paired_bootstrap():
    rng = np.random.default_rng(2)
    y = np.r_[np.ones(200, int), np.zeros(200, int)]
    a, b = _model(rng, y, 1.5), _model(rng, y, 1.0)
    boot = paired_bootstrap(TASK, y, a, b, n_boot=2000)
    delong = delong_test(y, a[:, 1], b[:, 1])
    width_boot = np.diff(boot["auroc"]["difference_ci"])[0]
    width_delong = np.diff(delong["difference_ci"])[0]
    assert 0.7 < width_boot / width_delong < 1.3
