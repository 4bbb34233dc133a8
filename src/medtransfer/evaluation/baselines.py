"""Baselines beside every model: the majority class (or the mean), and a classical model on simple features."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from medtransfer.data.task import TaskSpec
from medtransfer.evaluation.metrics import compute_metrics


def constant_probs(task: TaskSpec, y_train: np.ndarray, n: int) -> np.ndarray:
    """Class frequencies of training (majority class) or the training mean, for every test row."""
    if task.kind == "regression":
        return np.full(n, float(np.mean(y_train)))
    if task.kind == "multilabel":
        return np.tile(np.nanmean(y_train, axis=0), (n, 1))
    freq = np.bincount(y_train, minlength=len(task.class_names)) / len(y_train)
    return np.tile(freq, (n, 1))


def classical_probs(task: TaskSpec, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray | None:
    """Standardised features → logistic regression (classification) or ridge (regression)."""
    if task.kind == "multilabel":
        return None
    if task.kind == "regression":
        model = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(x_train, y_train)
        return model.predict(x_test)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)).fit(x_train, y_train)
    probs = np.zeros((len(x_test), len(task.class_names)))
    probs[:, model.classes_] = model.predict_proba(x_test)
    return probs


def baseline_metrics(
    task: TaskSpec, features_name: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray
) -> dict[str, dict]:
    """Test metrics of each baseline, keyed by a readable name."""
    out = {
        "majority class" if task.kind != "regression" else "training mean": compute_metrics(
            task, y_test, constant_probs(task, y_train, len(y_test))
        )[0]
    }
    probs = classical_probs(task, x_train, y_train, x_test)
    if probs is not None:
        name = f"{features_name} + {'ridge' if task.kind == 'regression' else 'logistic regression'}"
        out[name] = compute_metrics(task, y_test, probs)[0]
    return out
