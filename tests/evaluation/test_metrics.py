"""Metrics equal scikit-learn's on fixed inputs, for every task kind."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from medtransfer.data.task import TaskSpec
from medtransfer.evaluation.metrics import compute_metrics

RNG = np.random.default_rng(7)


def test_binary_metrics_match_sklearn_with_chosen_positive_class():
    y = RNG.integers(0, 2, 200)
    p1 = np.clip(0.35 * y + RNG.random(200) * 0.65, 0, 1)
    probs = np.stack([1 - p1, p1], axis=1)
    task = TaskSpec("binary", ("malignant", "benign"), positive=0)
    m, details = compute_metrics(task, y, probs)
    truth = (y == 0).astype(int)
    called = (probs.argmax(1) == 0).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(truth, called).ravel()
    assert m["auroc"] == pytest.approx(skm.roc_auc_score(truth, probs[:, 0]))
    assert m["auprc"] == pytest.approx(skm.average_precision_score(truth, probs[:, 0]))
    assert m["sensitivity"] == pytest.approx(tp / (tp + fn))
    assert m["specificity"] == pytest.approx(tn / (tn + fp))
    assert m["f1"] == pytest.approx(skm.f1_score(truth, called))
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, probs.argmax(1)))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, probs.argmax(1)))
    assert details["confusion_matrix"] == skm.confusion_matrix(y, probs.argmax(1)).tolist()


def test_multiclass_metrics_match_sklearn():
    y = np.arange(90) % 3
    logits = RNG.normal(size=(90, 3)) + np.eye(3)[y] * 1.5
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    m, details = compute_metrics(TaskSpec("multiclass", ("a", "b", "c")), y, probs)
    assert m["auroc"] == pytest.approx(skm.roc_auc_score(y, probs, multi_class="ovr", average="macro"))
    assert m["f1"] == pytest.approx(skm.f1_score(y, probs.argmax(1), average="macro"))
    assert details["per_class"]["b"]["support"] == 30


def test_multilabel_metrics_are_per_label_and_skip_missing():
    y = RNG.integers(0, 2, (60, 2)).astype(float)
    probs = np.clip(y * 0.4 + RNG.random((60, 2)) * 0.6, 0, 1)
    y[0, 1] = np.nan
    m, details = compute_metrics(TaskSpec("multilabel", ("x", "y")), y, probs)
    known = ~np.isnan(y[:, 1])
    assert details["per_label"]["y"]["auroc"] == pytest.approx(skm.roc_auc_score(y[known, 1], probs[known, 1]))
    assert m["auroc"] == pytest.approx(np.mean([details["per_label"][k]["auroc"] for k in "xy"]))


def test_regression_metrics_match_sklearn_and_scipy():
    from scipy.stats import spearmanr

    y = RNG.normal(size=50)
    pred = y + RNG.normal(scale=0.3, size=50)
    m, _ = compute_metrics(TaskSpec("regression", ("logS",)), y, pred)
    assert m["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)))
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(y, pred))
    assert m["r2"] == pytest.approx(skm.r2_score(y, pred))
    assert m["spearman"] == pytest.approx(spearmanr(y, pred).statistic)


def test_undefined_auroc_is_left_out_not_faked():
    y = np.zeros(10, dtype=int)
    probs = np.full((10, 2), 0.5)
    m, _ = compute_metrics(TaskSpec("binary", ("a", "b")), y, probs)
    assert "auroc" not in m and "accuracy" in m


def test_classical_baseline_matches_a_direct_scikit_learn_call():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from medtransfer.evaluation.baselines import classical_probs

    x = RNG.normal(size=(80, 5))
    y = (x[:, 0] > 0).astype(int)
    probs = classical_probs(TaskSpec("binary", ("a", "b")), x[:60], y[:60], x[60:])
    direct = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)).fit(x[:60], y[:60])
    assert np.allclose(probs, direct.predict_proba(x[60:]))


def test_model_is_judged_against_the_classical_baseline_on_paired_resamples():
    from medtransfer.evaluation.baselines import versus_classical

    task = TaskSpec("binary", ("a", "b"))
    y = np.array([0, 1] * 60)
    good = np.stack([1 - (y * 0.8 + 0.1), y * 0.8 + 0.1], axis=1)  # separates the classes perfectly
    noise = RNG.uniform(size=len(y))
    poor = np.stack([1 - noise, noise], axis=1)
    better = versus_classical(task, "k-mers + LR", y, good, poor)
    worse = versus_classical(task, "k-mers + LR", y, poor, good)
    assert better["metric"] == "auroc" and better["direction"] == "better" and better["difference"] > 0.3
    assert worse["direction"] == "worse" and worse["verdict"].startswith("k-mers + LR beats this model")
    tie = versus_classical(task, "k-mers + LR", y, good, good)
    assert tie["direction"] == "unclear" and tie["difference"] == 0

    regression = TaskSpec("regression", ("y",))
    target = RNG.normal(size=80)
    close, far = target + RNG.normal(scale=0.1, size=80), target + RNG.normal(scale=2.0, size=80)
    judged = versus_classical(regression, "ridge", target, close, far)
    assert judged["metric"] == "rmse" and judged["direction"] == "better"  # lower RMSE wins
