"""Each transferability score against a reference computed independently, on small fixed examples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from medtransfer.autotransfer import scores


def _data(n: int, d: int, seed: int = 0, signal: float = 1.0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    f = rng.standard_normal((n, d))
    f[:, 0] += signal * (2 * y - 1)
    return f, y


@pytest.mark.parametrize(("n", "d"), [(60, 8), (12, 40)])  # n < d: the case the public code pads wrongly
def test_logme_evidence_is_the_gaussian_marginal_likelihood_at_its_maximum(n, d):
    f, y = _data(n, d)
    target = y.astype(float)
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    per_sample, alpha, beta = scores.logme_evidence(u, s**2, target, d)

    def marginal(a: float, b: float) -> float:  # y ~ N(0, I/b + F F^T / a): no SVD, no fixed point
        cov = np.eye(n) / b + f @ f.T / a
        return multivariate_normal(np.zeros(n), cov).logpdf(target) / n

    assert per_sample == pytest.approx(marginal(alpha, beta), abs=1e-8)
    for a, b in ((alpha * 1.3, beta), (alpha / 1.3, beta), (alpha, beta * 1.3), (alpha, beta / 1.3)):
        assert marginal(a, b) < per_sample  # the fixed point maximised the evidence


def test_logme_prefers_features_that_carry_the_label():
    informative, y = _data(80, 16, signal=2.0)
    noise, _ = _data(80, 16, signal=0.0)
    assert scores.logme_score(informative, y) > scores.logme_score(noise, y)


def test_hscore_matches_its_definition_when_shrinkage_vanishes():
    f, y = _data(4000, 5, signal=1.5)
    centred = f - f.mean(axis=0)
    cov_f = np.cov(centred.T, bias=True)
    p = np.bincount(y) / len(y)
    means = np.stack([centred[y == c].mean(axis=0) for c in (0, 1)])
    cov_g = sum(p[c] * np.outer(means[c], means[c]) for c in (0, 1))  # covariance of E[f | y]
    expected = np.trace(np.linalg.inv(cov_f) @ cov_g)
    assert scores.hscore(f, y) == pytest.approx(expected, rel=0.02)


def test_hscore_stays_finite_when_features_outnumber_samples():
    f, y = _data(20, 200, signal=2.0)
    value = scores.hscore(f, y)
    assert np.isfinite(value) and value > scores.hscore(_data(20, 200, signal=0.0)[0], y)


def test_leep_on_a_hand_worked_example():
    theta = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    y = np.array([0, 0, 1, 1])
    # P(y, z) = [[0.5, 0], [0.125, 0.375]]; P(y | z) = [[0.8, 0], [0.2, 1]]
    expected = np.mean(np.log([0.8, 0.8, 1.0, 0.5 * 0.2 + 0.5 * 1.0]))
    assert scores.leep(theta, y, 2) == pytest.approx(expected)


@pytest.mark.parametrize("name", ["knn", "linear_probe", "nleep", "logme", "hscore"])
def test_every_score_rates_separable_features_above_noise(name):
    good, y = _data(120, 10, signal=3.0)
    noise, _ = _data(120, 10, signal=0.0, seed=1)
    score = scores.SCORES.get(name)
    assert score(good, y, seed=0) > score(noise, y, seed=0)
    assert score(good, y, seed=0) == score(good, y, seed=0)  # one seed, one value


@pytest.mark.parametrize("name", ["knn", "linear_probe"])
def test_a_majority_class_cannot_score_well_and_a_rare_one_still_ranks(name):
    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.08).astype(int)  # about 8% positives: predicting the majority is 92% accurate
    noise = rng.standard_normal((200, 8))
    weak = noise + 0.4 * y[:, None]  # the rare class shifted a little: a k-NN vote never makes it the majority
    score = scores.SCORES.get(name)
    assert score(noise, y, seed=0) < 0.6
    # balanced accuracy would be 0.5 on both (kNN's vote and the penalised probe always say majority); AUROC is not
    assert score(weak, y, seed=0) > score(noise, y, seed=0) + 0.1


@pytest.mark.parametrize("name", ["knn", "linear_probe", "logme"])
def test_regression_forms_prefer_features_that_carry_a_continuous_target(name):
    rng = np.random.default_rng(0)
    f = rng.standard_normal((120, 12))
    y = 3.0 * f[:, 0] + 0.3 * rng.standard_normal(120) + 10.0  # an offset and scale the scores must not mind
    noise = rng.standard_normal((120, 12))
    regression = scores.scores_for("regression")[name]
    assert regression(f, y) > regression(noise, y)
    if name != "logme":  # cross-validated R²: well above 0 for a near-linear target, at or below 0 for noise
        assert regression(f, y) > {"knn": 0.5, "linear_probe": 0.95}[name] and regression(noise, y) < 0.05


def test_only_scores_with_a_regression_form_rate_regression_tasks():
    assert sorted(scores.scores_for("regression")) == ["knn", "linear_probe", "logme"]
    assert sorted(scores.scores_for("binary")) == ["hscore", "knn", "linear_probe", "logme", "nleep"]


def test_hscore_with_more_features_than_samples_stays_finite_and_informative():
    informative, y = _data(60, 3000, signal=3.0)  # k-mer profiles are this wide
    noise, _ = _data(60, 3000, signal=0.0)
    assert np.isfinite(scores.hscore(informative, y)) and scores.hscore(informative, y) > scores.hscore(noise, y)


def test_the_probe_survives_a_feature_that_hardly_varies():
    rng = np.random.default_rng(0)
    f = rng.standard_normal((120, 6))
    y = 2.0 * f[:, 0] + 0.3 * rng.standard_normal(120)
    flat = 1e-4 * rng.standard_normal((120, 1))  # ChemNet has columns like this (sd 1e-4)
    flat[7] = 1.0  # one molecule off the scale: standardised on the other folds, about 10,000 sds
    features = np.hstack([f, flat])
    probe = scores.scores_for("regression")["linear_probe"]
    # without the feature the probe's R² is 0.97; standardising without the clip, the outlier took it to −164
    assert probe(features, y) > probe(f, y) - 0.05
