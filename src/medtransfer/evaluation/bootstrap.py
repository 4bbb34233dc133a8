"""Vectorised stratified bootstrap: every resample at once as a (B, n) index matrix.

Metrics are computed row-wise on the resampled arrays, so 1,000+ resamples cost well under a second
for the test sets medtransfer meets (hundreds to tens of thousands of rows).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import rankdata

from medtransfer.data.task import TaskSpec

N_BOOT = 2000
LEVEL = 0.95
# resamples × rows per block of metric_rows: about 16 MB per float64 intermediate (a 5,000-row test set's
# 2,000 resamples at once held eight 80 MB matrices, the peak of a 50,000-image fit)
BLOCK_CELLS = 2_000_000


def bootstrap_indices(strata: np.ndarray, n_boot: int = N_BOOT, seed: int = 0) -> np.ndarray:
    """(n_boot, n) row indices; each resample keeps every stratum's size (stratified resampling)."""
    rng = np.random.default_rng(seed)
    strata = np.asarray(strata)
    idx = np.empty((n_boot, len(strata)), dtype=np.int32 if len(strata) < 2**31 else np.int64)  # half the bytes
    col = 0
    for value in np.unique(strata):
        members = np.flatnonzero(strata == value)
        idx[:, col : col + len(members)] = members[rng.integers(0, len(members), (n_boot, len(members)))]
        col += len(members)
    return idx


def strata_for(task: TaskSpec, y: np.ndarray) -> np.ndarray:
    """Classes for classification; nothing (one stratum) for regression and multi-label."""
    return y if task.is_classification else np.zeros(len(y), dtype=int)


def auroc_rows(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Row-wise AUROC (Mann–Whitney) of (B, n) boolean labels and scores; NaN where a row lacks a class."""
    ranks = rankdata(scores, axis=1)
    n_pos = y.sum(axis=1)
    n_neg = y.shape[1] - n_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ranks * y).sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def confusion_rows(y: np.ndarray, called: np.ndarray) -> dict[str, np.ndarray]:
    """Row-wise sensitivity, specificity, PPV, NPV, F1, accuracy, balanced accuracy (binary)."""
    tp = (called & y).sum(axis=1).astype(float)
    fp = (called & ~y).sum(axis=1).astype(float)
    fn = (~called & y).sum(axis=1).astype(float)
    tn = (~called & ~y).sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        sens, spec = tp / (tp + fn), tn / (tn + fp)
        return {
            "sensitivity": sens,
            "specificity": spec,
            "ppv": tp / (tp + fp),
            "npv": tn / (tn + fn),
            "f1": 2 * tp / (2 * tp + fp + fn),
            "accuracy": (tp + tn) / y.shape[1],
            "balanced_accuracy": (sens + spec) / 2,
        }


def metric_rows(task: TaskSpec, y: np.ndarray, probs: np.ndarray, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric of ``compute_metrics`` for each resample row of ``idx`` (NaN where undefined), computed a
    block of resamples at a time: the row-wise intermediates stay near ``BLOCK_CELLS`` entries at any test size."""
    step = max(1, BLOCK_CELLS // max(1, idx.shape[1]))
    if len(idx) <= step:
        return _metric_block(task, y, probs, idx)
    blocks = [_metric_block(task, y, probs, idx[i : i + step]) for i in range(0, len(idx), step)]
    return {name: np.concatenate([b[name] for b in blocks]) for name in blocks[0]}


def _metric_block(task: TaskSpec, y: np.ndarray, probs: np.ndarray, idx: np.ndarray) -> dict[str, np.ndarray]:
    if task.kind == "binary":
        pos = task.positive_index
        yb = y[idx] == pos
        rows = confusion_rows(yb, probs.argmax(axis=1)[idx] == pos)
        rows = {k: rows[k] for k in ("sensitivity", "specificity", "f1", "accuracy")}
        rows["balanced_accuracy"] = _balanced_accuracy(y[idx], probs.argmax(axis=1)[idx], 2)
        rows["auroc"] = auroc_rows(yb, probs[idx, pos])
        rows["auprc"] = average_precision_rows(yb, probs[idx, pos])
        return rows
    if task.kind == "multiclass":
        k = probs.shape[1]
        yi, pred = y[idx], probs.argmax(axis=1)[idx]
        onehot = [yi == c for c in range(k)]
        return {
            "accuracy": (yi == pred).mean(axis=1),
            "balanced_accuracy": _balanced_accuracy(yi, pred, k),
            "f1": np.nanmean([confusion_rows(onehot[c], pred == c)["f1"] for c in range(k)], axis=0),
            "auroc": np.mean([auroc_rows(onehot[c], probs[idx, c]) for c in range(k)], axis=0),
        }
    if task.kind == "regression":
        return _regression_rows(y[idx], probs[idx])
    return _multilabel_rows(y, probs, idx)


def _multilabel_rows(y: np.ndarray, probs: np.ndarray, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy over observed cells, macro F1 and macro AUROC per resample; missing labels (NaN) count nowhere.

    A resample is a row of counts over the original samples, so a label's observed cells are weighted by how
    often their sample was drawn: the metrics of the resample, computed without materialising it.
    """
    counts = np.zeros(idx.shape, dtype=float)
    np.add.at(counts, (np.arange(idx.shape[0])[:, None], idx), 1.0)
    known = ~np.isnan(y)
    truth = np.nan_to_num(y).astype(bool)
    called = probs >= 0.5
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # resamples where a label lacks a class: NaN
        right = counts @ (known & (called == truth)).astype(float)
        accuracy = right.sum(axis=1) / (counts @ known.astype(float)).sum(axis=1)
        f1, auroc = [], []
        for j in range(y.shape[1]):
            k = known[:, j]
            tp = counts @ (k & truth[:, j] & called[:, j])
            wrong = counts @ (k & (truth[:, j] != called[:, j]))
            f1.append(2 * tp / (2 * tp + wrong))
            auroc.append(_weighted_auroc(truth[k, j], probs[k, j], counts[:, k]))
        return {"accuracy": accuracy, "f1": np.nanmean(f1, axis=0), "auroc": np.nanmean(auroc, axis=0)}


def _weighted_auroc(truth: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mann–Whitney AUROC of one sample under (B, n) case weights, ties counted half."""
    order = np.argsort(scores, kind="stable")
    s, t, w = scores[order], truth[order], weights[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])  # runs of tied scores
    pos = np.add.reduceat(w * t, starts, axis=1) if len(s) else np.zeros((len(w), 0))
    neg = np.add.reduceat(w * ~t, starts, axis=1) if len(s) else np.zeros((len(w), 0))
    below = np.cumsum(neg, axis=1) - neg
    return (pos * (below + 0.5 * neg)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))


def _balanced_accuracy(y: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        recalls = [((pred == c) & (y == c)).sum(axis=1) / (y == c).sum(axis=1) for c in range(k)]
    return np.nanmean(recalls, axis=0)


def _regression_rows(y: np.ndarray, pred: np.ndarray) -> dict[str, np.ndarray]:
    err = pred - y
    ss_tot = ((y - y.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    ry, rp = rankdata(y, axis=1), rankdata(pred, axis=1)
    ry, rp = ry - ry.mean(axis=1, keepdims=True), rp - rp.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "rmse": np.sqrt((err**2).mean(axis=1)),
            "mae": np.abs(err).mean(axis=1),
            "r2": 1 - (err**2).sum(axis=1) / ss_tot,
            "spearman": (ry * rp).sum(axis=1) / np.sqrt((ry**2).sum(axis=1) * (rp**2).sum(axis=1)),
        }


def average_precision_rows(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Row-wise average precision as scikit-learn defines it: Σ (R_k − R_{k−1}) P_k over distinct thresholds."""
    order = np.argsort(-scores, axis=1, kind="stable")
    s_sorted = np.take_along_axis(scores, order, axis=1)
    tp = np.cumsum(np.take_along_axis(y, order, axis=1), axis=1)
    n = y.shape[1]
    group_end = np.ones_like(y, dtype=bool)
    group_end[:, :-1] = s_sorted[:, :-1] != s_sorted[:, 1:]  # the last row of each run of tied scores
    tp_at_end = np.maximum.accumulate(np.where(group_end, tp, 0), axis=1)
    tp_before = np.zeros_like(tp_at_end)
    tp_before[:, 1:] = tp_at_end[:, :-1]
    precision = tp / np.arange(1, n + 1)
    n_pos = y.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (group_end * (tp - tp_before) * precision).sum(axis=1) / n_pos


def percentile_ci(values: np.ndarray, level: float = LEVEL) -> list[float] | None:
    """The central ``level`` percentile interval of the finite values (None when too few are defined)."""
    finite = values[np.isfinite(values)]
    if len(finite) < 0.9 * len(values):
        return None
    tail = (1 - level) / 2 * 100
    return [float(np.percentile(finite, tail)), float(np.percentile(finite, 100 - tail))]


def confidence_intervals(
    task: TaskSpec, y: np.ndarray, probs: np.ndarray, n_boot: int = N_BOOT, seed: int = 0
) -> dict[str, list[float]]:
    """``{"<metric>_ci": [low, high]}`` for every metric that is defined on the data."""
    idx = bootstrap_indices(strata_for(task, y), n_boot, seed)
    out = {}
    for name, values in metric_rows(task, y, probs, idx).items():
        ci = percentile_ci(values)
        if ci is not None:
            out[f"{name}_ci"] = ci
    return out
