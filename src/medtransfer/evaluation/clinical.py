"""The clinical evaluation of a run: metrics with bootstrap CIs, a validation-chosen operating point, calibration."""

from __future__ import annotations

import numpy as np

from medtransfer.data.task import TaskSpec
from medtransfer.evaluation import operating_point as op
from medtransfer.evaluation.bootstrap import N_BOOT, confidence_intervals
from medtransfer.evaluation.calibration import calibration_summary
from medtransfer.evaluation.metrics import compute_metrics


def evaluate_splits(
    task: TaskSpec,
    scored: dict[str, tuple[np.ndarray, np.ndarray]],
    seed: int = 0,
    target_sensitivity: float | None = None,
) -> dict:
    """metrics.json content for ``{split: (targets, probabilities)}``; the threshold comes from "val" only."""
    out: dict = {"task": task.kind, "details": {}}
    for name, (y, probs) in scored.items():
        metrics, details = compute_metrics(task, y, probs)
        metrics.update(confidence_intervals(task, y, probs, N_BOOT, seed))
        out[name], out["details"][name] = metrics, details
    if task.is_classification:
        positive = task.positive_index if task.kind == "binary" else None
        out["calibration"] = {}
        for name, (y, probs) in scored.items():
            summary = calibration_summary(y, probs, positive)
            out["details"][name]["reliability"] = summary.pop("bins")
            out["calibration"][name] = summary
    if task.kind == "binary" and "val" in scored:
        out["operating_point"] = _operating_point(task, scored, seed, target_sensitivity)
    return out


def _operating_point(task: TaskSpec, scored: dict, seed: int, target: float | None) -> dict:
    pos = task.positive_index
    y_val, p_val = scored["val"]
    if len(np.unique(y_val == pos)) < 2:  # e.g. a small group-aware split; say so rather than lose the run
        return {"skipped": "the validation split holds a single class, so no threshold can be chosen on it"}
    chosen = op.choose_threshold((y_val == pos).astype(int), p_val[:, pos], target)
    result = {**chosen, "positive_class": task.class_names[pos]}
    for name, (y, probs) in scored.items():
        truth, score = (y == pos).astype(int), probs[:, pos]
        result[name] = op.metrics_at(truth, score, chosen["threshold"], N_BOOT if name == "test" else 0, seed)
        result[f"{name}_threshold_table"] = op.threshold_table(truth, score, chosen["threshold"])
    return result


def subgroup_metrics(
    task: TaskSpec,
    y: np.ndarray,
    probs: np.ndarray,
    attributes: dict[str, list[str]],
    seed: int = 0,
    min_size: int = 10,
) -> dict:
    """Test metrics with CIs per value of each attribute; groups under ``min_size`` are listed, not scored."""
    out: dict = {}
    for column, values in attributes.items():
        values = np.asarray(values)
        out[column] = {}
        for value in sorted(set(values)):
            rows = np.flatnonzero(values == value)
            entry: dict = {"n": int(len(rows))}
            if len(rows) >= min_size:
                metrics, _ = compute_metrics(task, y[rows], probs[rows])
                metrics.update(confidence_intervals(task, y[rows], probs[rows], N_BOOT, seed))
                entry.update(metrics)
            out[column][str(value)] = entry
    return out
