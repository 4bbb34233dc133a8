"""Baselines beside every model: the majority class (or the mean), and a classical model on simple features."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from medtransfer.data.task import TaskSpec
from medtransfer.evaluation.compare import direction, headline, paired_bootstrap
from medtransfer.evaluation.metrics import compute_metrics
from medtransfer.evaluation.tabpfn_adapter import is_tabpfn, tabpfn_model, tabpfn_name


def constant_probs(task: TaskSpec, y_train: np.ndarray, n: int) -> np.ndarray:
    """Class frequencies of training (majority class) or the training mean, for every test row."""
    if task.kind == "regression":
        return np.full(n, float(np.mean(y_train)))
    if task.kind == "multilabel":
        return np.tile(np.nanmean(y_train, axis=0), (n, 1))
    freq = np.bincount(y_train, minlength=len(task.class_names)) / len(y_train)
    return np.tile(freq, (n, 1))


ESTIMATOR_NAMES = {"linear": ("logistic regression", "ridge"), "random_forest": ("random forest", "random forest"),
                   "tfidf_linear": ("logistic regression", "ridge"),
                   "gbdt": ("gradient-boosted trees (LightGBM)", "gradient-boosted trees (LightGBM)")}  # fmt: skip
TFIDF_C = 10.0  # TF-IDF rows are unit length: the default C=1 underfits them (chosen on IU reports' validation split)


def estimator_label(estimator: str, regression: bool) -> str:
    """The estimator's name in reports: 'random forest', 'TabPFN in context (…)'."""
    return tabpfn_name(estimator) if is_tabpfn(estimator) else ESTIMATOR_NAMES[estimator][regression]


def classical_model(task: TaskSpec, estimator: str, seed: int):
    """Standardised features → logistic regression / ridge, a 500-tree random forest (fingerprints), or
    n-gram counts → TF-IDF (its document frequencies learnt from the training rows) → logistic regression / ridge;
    ``tabpfn:<checkpoint>``: TabPFN in context (evaluation/tabpfn_adapter.py)."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    regression = task.kind == "regression"
    if is_tabpfn(estimator):
        return tabpfn_model(estimator, regression, seed)
    if estimator == "gbdt":  # tables: LightGBM routes missing values itself; 200 shallow trees at a slow rate
        import lightgbm

        kind = lightgbm.LGBMRegressor if regression else lightgbm.LGBMClassifier
        return kind(n_estimators=200, learning_rate=0.05, num_leaves=15, random_state=seed, verbose=-1)
    if estimator == "tfidf_linear":
        from sklearn.feature_extraction.text import TfidfTransformer

        final = Ridge(alpha=1.0) if regression else LogisticRegression(C=TFIDF_C, max_iter=2000)
        return make_pipeline(TfidfTransformer(sublinear_tf=True), final)
    if estimator == "random_forest":
        if regression:  # a third of the features per split (Breiman's regression default); all of them is slow
            return RandomForestRegressor(n_estimators=500, max_features=1 / 3, n_jobs=-1, random_state=seed)
        return RandomForestClassifier(n_estimators=500, n_jobs=-1, random_state=seed)
    if regression:
        return make_pipeline(StandardScaler(), Ridge(alpha=1.0))
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))


def classical_probs(
    task: TaskSpec,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    estimator: str = "linear",
    seed: int = 0,
) -> np.ndarray:
    """Test-set probabilities (or predictions) of the classical model; multi-label: one model per label."""
    if task.kind == "regression":
        return classical_model(task, estimator, seed).fit(x_train, y_train).predict(x_test)
    if task.kind == "multilabel":
        return per_label_probs(fit_per_label(task, x_train, y_train, estimator, seed), x_test)
    return class_probs(task, classical_model(task, estimator, seed).fit(x_train, y_train), x_test)


def fit_per_label(task: TaskSpec, x: np.ndarray, y: np.ndarray, estimator: str, seed: int) -> list:
    """Multi-label: one classifier per label on the rows where that label is known (NaN = not measured); a
    label with one class among them keeps its positive rate (a float) instead."""
    models: list = []
    for j in range(y.shape[1]):
        known = ~np.isnan(y[:, j])
        labels = y[known, j].astype(int)
        if len(np.unique(labels)) < 2:
            models.append(float(labels.mean()) if len(labels) else float("nan"))
        else:
            models.append(classical_model(task, estimator, seed).fit(x[known], labels))
    return models


def per_label_probs(models: list, x: np.ndarray) -> np.ndarray:
    """(n, labels) probabilities of ``fit_per_label``'s models."""
    out = np.empty((len(x), len(models)))
    for j, model in enumerate(models):
        out[:, j] = model if isinstance(model, float) else model.predict_proba(x)[:, list(model.classes_).index(1)]
    return out


def class_probs(task: TaskSpec, model, x: np.ndarray) -> np.ndarray:
    """(n, classes) probabilities of a fitted classifier, columns in the task's class order (a class absent
    from training gets 0)."""
    probs = np.zeros((len(x), len(task.class_names)))
    probs[:, model.classes_] = model.predict_proba(x)
    return probs


def baseline_metrics(
    task: TaskSpec,
    features_name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    model_probs: np.ndarray,
    estimator: str = "linear",
    seed: int = 0,
) -> tuple[dict[str, dict], dict | None]:
    """Test metrics of each baseline, keyed by a readable name, and the model against the classical one."""
    out = {
        "majority class" if task.kind != "regression" else "training mean": compute_metrics(
            task, y_test, constant_probs(task, y_train, len(y_test))
        )[0]
    }
    probs = classical_probs(task, x_train, y_train, x_test, estimator, seed)
    name = f"{features_name} + {estimator_label(estimator, task.kind == 'regression')}"
    out[name] = compute_metrics(task, y_test, probs)[0]
    return out, versus_classical(task, name, y_test, model_probs, probs, seed)


def versus_classical(
    task: TaskSpec, name: str, y_test: np.ndarray, model_probs: np.ndarray, classical: np.ndarray, seed: int = 0
) -> dict | None:
    """This model − the classical baseline on the same test rows (paired bootstrap), said in words.

    A small pretrained model often does no better than fingerprints or k-mers with a linear model or a
    forest; the report says so rather than leave the reader to compare two tables.
    """
    comparison = paired_bootstrap(task, y_test, model_probs, classical, seed=seed)
    metric = headline(comparison)
    if metric is None:  # e.g. multi-label with missing cells: no resampled interval
        return None
    result = {"baseline": name, "metric": metric, **comparison[metric]}
    result["direction"] = direction(metric, result["difference_ci"])
    result["verdict"] = {
        "better": f"this model beats {name} on test {metric}",
        "worse": f"{name} beats this model on test {metric}: prefer the classical model unless this one "
        "brings something it cannot",
        "unclear": f"no clear difference from {name} on test {metric}: the classical model does as well here",
    }[result["direction"]]
    return result
