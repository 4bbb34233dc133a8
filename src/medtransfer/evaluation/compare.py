"""Do two models differ on the same test set? Paired bootstrap for every metric, DeLong for AUROC."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from medtransfer.data.task import TaskSpec
from medtransfer.evaluation.bootstrap import N_BOOT, bootstrap_indices, metric_rows, percentile_ci, strata_for


def paired_bootstrap(
    task: TaskSpec, y: np.ndarray, probs_a: np.ndarray, probs_b: np.ndarray, n_boot: int = N_BOOT, seed: int = 0
) -> dict[str, dict]:
    """Per metric: A − B on the same resamples, its 95% interval and a two-sided bootstrap p-value."""
    idx = bootstrap_indices(strata_for(task, y), n_boot, seed)
    rows_a, rows_b = metric_rows(task, y, probs_a, idx), metric_rows(task, y, probs_b, idx)
    ident = np.arange(len(y))[None, :]
    point_a, point_b = metric_rows(task, y, probs_a, ident), metric_rows(task, y, probs_b, ident)
    out = {}
    for name in rows_a:
        diff = rows_a[name] - rows_b[name]
        finite = diff[np.isfinite(diff)]
        if len(finite) == 0:
            continue
        p = min(1.0, 2 * min((finite <= 0).mean(), (finite >= 0).mean()))
        out[name] = {
            "a": float(point_a[name][0]),
            "b": float(point_b[name][0]),
            "difference": float(point_a[name][0] - point_b[name][0]),
            "difference_ci": percentile_ci(diff),
            "p_value": float(p),
        }
    return out


LOWER_IS_BETTER = {"rmse", "mae"}
HEADLINE_METRICS = ("auroc", "rmse", "accuracy")


def direction(metric: str, ci: list[float] | None) -> str:
    """Whether A beats B ("better"), loses ("worse") or neither ("unclear"), from the A − B interval of
    ``metric`` (lower-is-better metrics flipped)."""
    if ci is None:
        return "unclear"
    lo, hi = ci if metric not in LOWER_IS_BETTER else (-ci[1], -ci[0])
    return "better" if lo > 0 else "worse" if hi < 0 else "unclear"


def headline(comparison: dict[str, dict]) -> str | None:
    """The metric a comparison is judged on: AUROC, else RMSE, else accuracy."""
    return next((m for m in HEADLINE_METRICS if m in comparison), None)


def delong_test(y: np.ndarray, score_a: np.ndarray, score_b: np.ndarray) -> dict:
    """DeLong et al. (1988) test for two correlated AUROCs, in the fast midrank form of Sun & Xu (2014)."""
    y = y.astype(bool)
    scores = np.stack([score_a, score_b])
    pos, neg = scores[:, y], scores[:, ~y]
    m, n = pos.shape[1], neg.shape[1]
    tx = np.stack([_midrank(p) for p in pos])
    ty = np.stack([_midrank(q) for q in neg])
    tz = np.stack([_midrank(np.concatenate([p, q])) for p, q in zip(pos, neg, strict=True)])
    aucs = (tz[:, :m].sum(axis=1) / m - (m + 1) / 2) / n
    v01 = (tz[:, :m] - tx) / n
    v10 = 1 - (tz[:, m:] - ty) / m
    cov = np.cov(v01) / m + np.cov(v10) / n
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    diff = aucs[0] - aucs[1]
    z = diff / np.sqrt(var) if var > 0 else 0.0
    half = norm.ppf(0.975) * np.sqrt(max(var, 0.0))
    return {
        "auroc_a": float(aucs[0]),
        "auroc_b": float(aucs[1]),
        "difference": float(diff),
        "difference_ci": [float(diff - half), float(diff + half)],
        "z": float(z),
        "p_value": float(2 * norm.sf(abs(z))),
    }


def _midrank(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    ranks = np.empty(len(x))
    i = 0
    while i < len(x):
        j = i
        while j < len(x) and xs[j] == xs[i]:
            j += 1
        ranks[i:j] = 0.5 * (i + j - 1) + 1
        i = j
    out = np.empty(len(x))
    out[order] = ranks
    return out
