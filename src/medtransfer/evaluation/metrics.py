"""Metrics per task with scikit-learn: flat numbers for metrics.json, plus tables for the report."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import expit, softmax
from scipy.stats import spearmanr
from sklearn import metrics as skm

from medtransfer.data.task import TaskSpec


def probabilities(task: TaskSpec, outputs: np.ndarray) -> np.ndarray:
    """Model outputs → class probabilities (softmax), label probabilities (sigmoid) or predictions."""
    if task.is_classification:
        return softmax(outputs, axis=1)
    if task.kind == "multilabel":
        return expit(outputs)
    return outputs.reshape(len(outputs))


def predicted_labels(task: TaskSpec, probs: np.ndarray) -> np.ndarray:
    if task.is_classification:
        return probs.argmax(axis=1)
    if task.kind == "multilabel":
        return (probs >= 0.5).astype(int)
    return probs


def compute_metrics(task: TaskSpec, y: np.ndarray, probs: np.ndarray) -> tuple[dict[str, float], dict]:
    """(flat metrics, details): metrics are lower-case names → numbers; undefined ones are left out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns on single-class slices; those metrics are dropped
        if task.kind == "binary":
            return _binary(task, y, probs)
        if task.kind == "multiclass":
            return _multiclass(task, y, probs)
        if task.kind == "multilabel":
            return _multilabel(task, y, probs)
        return _regression(y, probs), {}


def _binary(task: TaskSpec, y: np.ndarray, probs: np.ndarray) -> tuple[dict, dict]:
    pos = task.positive_index
    truth, score = (y == pos).astype(int), probs[:, pos]
    pred = probs.argmax(axis=1)
    called = (pred == pos).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(truth, called, labels=[0, 1]).ravel()
    m = _common(task, y, pred)
    m["f1"] = float(skm.f1_score(truth, called, zero_division=0))
    m["sensitivity"] = _ratio(tp, tp + fn)
    m["specificity"] = _ratio(tn, tn + fp)
    if len(np.unique(truth)) == 2:
        m["auroc"] = float(skm.roc_auc_score(truth, score))
        m["auprc"] = float(skm.average_precision_score(truth, score))
    return _drop_none(m), _classification_details(task, y, pred)


def _multiclass(task: TaskSpec, y: np.ndarray, probs: np.ndarray) -> tuple[dict, dict]:
    pred = probs.argmax(axis=1)
    m = _common(task, y, pred)
    m["f1"] = float(skm.f1_score(y, pred, average="macro", zero_division=0))
    labels = np.arange(len(task.class_names))
    if len(np.unique(y)) == len(labels):
        m["auroc"] = float(skm.roc_auc_score(y, probs, multi_class="ovr", average="macro", labels=labels))
        onehot = np.eye(len(labels))[y]
        m["auprc"] = float(skm.average_precision_score(onehot, probs, average="macro"))
    return _drop_none(m), _classification_details(task, y, pred)


def _multilabel(task: TaskSpec, y: np.ndarray, probs: np.ndarray) -> tuple[dict, dict]:
    pred = (probs >= 0.5).astype(int)
    per_label, aurocs, auprcs = {}, [], []
    for j, name in enumerate(task.class_names):
        known = ~np.isnan(y[:, j])
        yt, pj = y[known, j].astype(int), probs[known, j]
        row = {
            "support": int(yt.sum()),
            "accuracy": float((pred[known, j] == yt).mean()) if known.any() else None,
        }
        if len(np.unique(yt)) == 2:
            row["auroc"] = float(skm.roc_auc_score(yt, pj))
            row["auprc"] = float(skm.average_precision_score(yt, pj))
            aurocs.append(row["auroc"])
            auprcs.append(row["auprc"])
        per_label[name] = row
    known = ~np.isnan(y)
    f1s = [skm.f1_score(y[known[:, j], j].astype(int), pred[known[:, j], j], zero_division=0)
           for j in range(y.shape[1]) if known[:, j].any()]  # fmt: skip
    m = {
        "accuracy": float((pred[known] == y[known]).mean()) if known.any() else None,
        # macro F1 over labels, each on its observed cells only: a missing label is not a negative
        "f1": float(np.mean(f1s)) if f1s else None,
        "auroc": float(np.mean(aurocs)) if aurocs else None,
        "auprc": float(np.mean(auprcs)) if auprcs else None,
    }
    return _drop_none(m), {"per_label": per_label}


def _regression(y: np.ndarray, pred: np.ndarray) -> dict:
    m = {
        "rmse": float(np.sqrt(skm.mean_squared_error(y, pred))),
        "mae": float(skm.mean_absolute_error(y, pred)),
        "r2": float(skm.r2_score(y, pred)) if len(y) > 1 else None,
        "spearman": float(spearmanr(y, pred).statistic) if len(np.unique(y)) > 1 else None,
    }
    return _drop_none(m)


def _common(task: TaskSpec, y: np.ndarray, pred: np.ndarray) -> dict:
    return {
        "accuracy": float(skm.accuracy_score(y, pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y, pred)),
    }


def _classification_details(task: TaskSpec, y: np.ndarray, pred: np.ndarray) -> dict:
    labels = list(range(len(task.class_names)))
    cm = skm.confusion_matrix(y, pred, labels=labels)
    p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    per_class = {
        name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        for i, name in enumerate(task.class_names)
    }
    return {"confusion_matrix": cm.tolist(), "per_class": per_class}


def _ratio(a: float, b: float) -> float | None:
    return float(a / b) if b else None


def _drop_none(m: dict) -> dict:
    return {k: v for k, v in m.items() if v is not None and np.isfinite(v)}
