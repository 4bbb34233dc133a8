"""Bootstrap intervals: cover the truth at their stated rate, agree with point metrics, and are fast."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.stats import norm

from medtransfer.data.task import TaskSpec
from medtransfer.evaluation.bootstrap import confidence_intervals, metric_rows
from medtransfer.evaluation.metrics import compute_metrics

BINARY = TaskSpec("binary", ("neg", "pos"))


def simulated_scores(rng: np.random.Generator, n_pos: int, n_neg: int, d: float):
    """Binormal scores: the true AUROC is Φ(d / √2)."""
    y = np.r_[np.ones(n_pos, int), np.zeros(n_neg, int)]
    s = np.r_[rng.normal(d, 1, n_pos), rng.normal(0, 1, n_neg)]
    p = 1 / (1 + np.exp(-s))
    return y, np.stack([1 - p, p], axis=1)


def test_auroc_interval_covers_the_true_value_about_95_percent_of_the_time():
    rng = np.random.default_rng(20261124)
    d = 1.0
    truth = norm.cdf(d / np.sqrt(2))
    repetitions, covered = 300, 0
    for r in range(repetitions):
        y, probs = simulated_scores(rng, 60, 60, d)
        lo, hi = confidence_intervals(BINARY, y, probs, n_boot=1000, seed=r)["auroc_ci"]
        covered += lo <= truth <= hi
    # 300 repetitions: binomial sd of the coverage is 1.3 points; percentile intervals run slightly narrow
    assert 0.90 <= covered / repetitions <= 0.99, covered / repetitions


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_resample_metrics_at_identity_equal_point_metrics(kind):
    rng = np.random.default_rng(1)
    if kind == "regression":
        task, y = TaskSpec("regression", ("t",)), rng.normal(size=80)
        probs = y + rng.normal(scale=0.5, size=80)
    else:
        k = 2 if kind == "binary" else 3
        task, y = TaskSpec(kind, tuple("abc"[:k])), np.arange(90) % k
        logits = rng.normal(size=(90, k)) + np.eye(k)[y]
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    point, _ = compute_metrics(task, y, probs)
    rows = metric_rows(task, y, probs, np.arange(len(y))[None, :])
    for name, values in rows.items():
        assert values[0] == pytest.approx(point[name], abs=1e-9), name


def test_two_thousand_resamples_of_a_large_test_set_take_seconds():
    rng = np.random.default_rng(2)
    y, probs = simulated_scores(rng, 2000, 8000, 1.0)
    start = time.perf_counter()
    cis = confidence_intervals(BINARY, y, probs, n_boot=2000)
    assert time.perf_counter() - start < 60  # generous on a shared 2-core machine; typically ~10 s
    assert cis["auroc_ci"][0] < cis["auroc_ci"][1]


def test_vectorised_average_precision_matches_sklearn_with_ties():
    from sklearn.metrics import average_precision_score

    from medtransfer.evaluation.bootstrap import average_precision_rows

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, (20, 50)).astype(bool)
    scores = np.round(rng.random((20, 50)), 1)  # many ties
    expected = [average_precision_score(t, s) for t, s in zip(y, scores, strict=True)]
    assert np.allclose(average_precision_rows(y, scores), expected)


@pytest.mark.parametrize("task", [BINARY, TaskSpec("multiclass", ("a", "b", "c"))])
def test_resamples_computed_in_blocks_equal_those_computed_at_once(task, monkeypatch):
    """Large test sets are resampled a block at a time (bounded memory): the same numbers, row for row."""
    from medtransfer.evaluation import bootstrap

    rng = np.random.default_rng(3)
    k = len(task.class_names)
    y = rng.integers(0, k, 500)
    probs = rng.dirichlet(np.ones(k), 500)
    idx = bootstrap.bootstrap_indices(y, 300, seed=1)
    whole = metric_rows(task, y, probs, idx)
    monkeypatch.setattr(bootstrap, "BLOCK_CELLS", 500 * 7)  # 7 resamples per block, the last one short
    blocked = metric_rows(task, y, probs, idx)
    assert whole.keys() == blocked.keys()
    for name in whole:
        np.testing.assert_array_equal(whole[name], blocked[name], err_msg=name)
