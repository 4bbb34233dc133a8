"""Transferability scores: how well a frozen backbone's features suit a labelled task, without fine-tuning.

Each takes features ``(n, d)`` and class indices ``(n,)`` and returns one number, higher = better. The scores
with a regression form (registered as its ``regression`` metadata) rate continuous targets too: kNN and the
linear probe by cross-validated R², LogME by its evidence for the standardised target, as in its paper.

- ``knn``: cross-validated AUROC of a k-nearest-neighbour classifier's votes (cosine distance);
- ``linear_probe``: cross-validated AUROC of a logistic regression;
  (both as balanced accuracy with more than two classes: a rare class must count as much as a common one)
- ``logme``: the log marginal evidence per sample of a Bayesian linear model (You et al., ICML 2021), one-vs-rest
  over classes, maximised over its prior and noise precisions by the fixed-point iteration;
- ``hscore``: the H-score tr(cov(f)⁻¹ cov(E[f | y])) (Bao et al. 2019) with the Ledoit–Wolf shrunk covariance
  (Ibrahim et al., ICLR 2022), which keeps it meaningful when features outnumber samples;
- ``nleep``: NLEEP (Li et al., CVPR 2021): LEEP computed with the posteriors of a Gaussian mixture fitted to the
  PCA-reduced features in place of a source classifier's outputs.

Medical transfer studies find these scores unreliable as sole judges (Chaves et al. 2023; Juodelyte et al.
2024): AutoTransfer uses them to prune candidates and decides with real fine-tunes.
"""

from __future__ import annotations

import numpy as np

from medtransfer.registry import Registry

SCORES: Registry = Registry("transferability score")


def knn_regression_score(features: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """Cross-validated R² of a 10-nearest-neighbour regressor (cosine distance)."""
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsRegressor

    model = KNeighborsRegressor(n_neighbors=min(10, len(y) // 5 or 1), metric="cosine")
    return float(cross_val_score(model, features, y, cv=_regression_folds(seed), scoring="r2").mean())


def linear_probe_regression_score(features: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """Cross-validated R² of a ridge regression on standardised features (its penalty chosen inside each fold)."""
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(*_standardised(), RidgeCV(alphas=np.logspace(-1, 4, 11)))
    return float(cross_val_score(model, features, y, cv=_regression_folds(seed), scoring="r2").mean())


def _standardised() -> tuple:
    """Standardisation on the training fold, held-out values clipped to that fold's range first. ChemNet has
    features that hardly vary (sd 1e-4): standardised, one held-out molecule's value became thousands of sds and
    the probe's R² on FreeSolv −1.6, ranking the grid's best source last (docs/benchmarks.md)."""
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    return MinMaxScaler(clip=True), StandardScaler()


def logme_regression_score(features: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """LogME evidence per sample of the standardised continuous target."""
    f = np.asarray(features, dtype=np.float64)
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    target = (y - y.mean()) / (y.std() or 1.0)
    return logme_evidence(u, s**2, target, f.shape[1])[0]


@SCORES.register("knn", description="k-nearest-neighbour AUROC of the neighbours' votes (binary; balanced accuracy "
                 "for more classes), 5-fold cross-validated (cosine)", regression=knn_regression_score)  # fmt: skip
def knn_score(features: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """On ClinTox (about 92% one class) ten neighbours out-vote the rare class for every candidate: plain accuracy
    was the majority rate and balanced accuracy 0.5 for all five alike, scores that cannot rank
    (docs/benchmarks.md, AutoTransfer's validation study). The share of votes still orders the examples."""
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    k = int(min(10, max(1, np.bincount(y).min())))
    model = KNeighborsClassifier(n_neighbors=k, metric="cosine")
    return float(cross_val_score(model, features, y, cv=_folds(y, seed), scoring=_scoring(y)).mean())


@SCORES.register("linear_probe", description="logistic-regression AUROC (binary; balanced accuracy for more classes), "
                 "5-fold cross-validated", regression=linear_probe_regression_score)  # fmt: skip
def linear_probe_score(features: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """A penalised probe on a rare class predicts the majority for every row, so its balanced accuracy was 0.5
    for every source alike; its probabilities still order the rows (the same defect as kNN's votes)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(*_standardised(), LogisticRegression(C=0.1, max_iter=2000))
    return float(cross_val_score(model, features, y, cv=_folds(y, seed), scoring=_scoring(y)).mean())


@SCORES.register("logme", description="LogME evidence per sample (You et al. 2021)", regression=logme_regression_score)
def logme_score(features: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    f = np.asarray(features, dtype=np.float64)
    u, s, _ = np.linalg.svd(f, full_matrices=False)  # economy: r = min(n, d) singular values
    sigma = s**2
    targets = np.eye(int(y.max()) + 1)[y].T  # one-vs-rest 0/1 targets, one row per class
    return float(np.mean([logme_evidence(u, sigma, t, f.shape[1])[0] for t in targets]))


def logme_evidence(
    u: np.ndarray, sigma: np.ndarray, y: np.ndarray, d: int, steps: int = 100
) -> tuple[float, float, float]:
    """(evidence per sample, alpha, beta) for one target vector, from the economy SVD of the features.

    The ``d − r`` directions with no singular value (n < d) keep the prior's precision alpha alone; the public
    LogME code pads them wrongly, so they are counted explicitly here (tested against the closed form)."""
    n = len(y)
    z = u.T @ y
    residual_outside = max(float(y @ y - z @ z), 0.0)  # the part of y no feature direction reaches
    alpha, beta = 1.0, 1.0
    for _ in range(steps):
        shrink = beta * sigma / (alpha + beta * sigma)
        gamma = float(shrink.sum())
        m2 = float(((beta * np.sqrt(sigma) * z / (alpha + beta * sigma)) ** 2).sum())
        res2 = float(((alpha * z / (alpha + beta * sigma)) ** 2).sum()) + residual_outside
        new_alpha, new_beta = gamma / max(m2, 1e-12), (n - gamma) / max(res2, 1e-12)
        done = abs(new_alpha - alpha) / alpha < 1e-5 and abs(new_beta - beta) / beta < 1e-5
        alpha, beta = new_alpha, new_beta
        if done:
            break
    m2 = float(((beta * np.sqrt(sigma) * z / (alpha + beta * sigma)) ** 2).sum())
    res2 = float(((alpha * z / (alpha + beta * sigma)) ** 2).sum()) + residual_outside
    log_det = float(np.log(alpha + beta * sigma).sum()) + (d - len(sigma)) * np.log(alpha)
    evidence = (n * np.log(beta) + d * np.log(alpha) - n * np.log(2 * np.pi) - beta * res2 - alpha * m2 - log_det) / 2
    return float(evidence / n), alpha, beta


@SCORES.register("hscore", description="H-score with Ledoit–Wolf shrunk covariance (Ibrahim et al. 2022)")
def hscore(features: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    from sklearn.covariance import LedoitWolf

    f = np.asarray(features, dtype=np.float64)
    f = f - f.mean(axis=0)
    if f.shape[1] > f.shape[0]:  # more features than samples (k-mer profiles): work in the samples' span, where
        f = f @ np.linalg.svd(f, full_matrices=False)[2].T  # the covariance lives, not with a d × d matrix
    cov_f = LedoitWolf(assume_centered=True).fit(f).covariance_
    class_means = np.zeros_like(f)
    for c in np.unique(y):
        class_means[y == c] = f[y == c].mean(axis=0)
    cov_g = class_means.T @ class_means / len(f)  # covariance of E[f | y]
    return float(np.trace(np.linalg.solve(cov_f, cov_g)))


@SCORES.register("nleep", description="NLEEP: LEEP over Gaussian-mixture posteriors (Li et al. 2021)")
def nleep_score(features: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    n_classes = int(y.max()) + 1
    # float64: a clinical table's raw columns (values in the thousands) in float32 lose a mixture component's
    # variance to rounding, and the mixture's fit stops with "ill-defined empirical covariance"
    pca = PCA(n_components=0.8, svd_solver="full", random_state=seed)
    reduced = pca.fit_transform(np.asarray(features, dtype=np.float64))
    components = int(min(5 * n_classes, max(n_classes, len(y) // 10)))
    mixture = GaussianMixture(components, covariance_type="diag", reg_covar=1e-4, random_state=seed).fit(reduced)
    return leep(mixture.predict_proba(reduced), y, n_classes)


def leep(theta: np.ndarray, y: np.ndarray, n_classes: int) -> float:
    """LEEP (Nguyen et al. 2020) of soft 'source labels' ``theta`` (n, z) for target classes ``y``."""
    joint = np.stack([theta[y == c].sum(axis=0) for c in range(n_classes)]) / len(y)  # P(y, z)
    conditional = joint / np.maximum(joint.sum(axis=0, keepdims=True), 1e-12)  # P(y | z)
    return float(np.mean(np.log(np.maximum((theta * conditional[y]).sum(axis=1), 1e-12))))


def _scoring(y: np.ndarray) -> str:
    """AUROC where there are two classes, the ranking metric the fine-tunes are judged by."""
    return "roc_auc" if len(np.unique(y)) == 2 else "balanced_accuracy"


def _folds(y: np.ndarray, seed: int):
    from sklearn.model_selection import StratifiedKFold

    splits = int(min(5, max(2, np.bincount(y).min())))
    return StratifiedKFold(n_splits=splits, shuffle=True, random_state=seed)


def _regression_folds(seed: int):
    from sklearn.model_selection import KFold

    return KFold(n_splits=5, shuffle=True, random_state=seed)


def scores_for(kind: str) -> dict:
    """The scores that rate a ``kind`` task ("regression" or a classification kind): name → function."""
    if kind == "regression":
        return {n: SCORES.meta(n)["regression"] for n in SCORES.names() if SCORES.meta(n).get("regression")}
    return {n: SCORES.get(n) for n in SCORES.names()}
