"""Validation scores of AutoTransfer's contestants: the metric it decides on, a trial's score over the decision
splits, and the classical model's row on the leaderboard."""

from __future__ import annotations

import time

import numpy as np

from medtransfer.autotransfer.rank import CLASSICAL
from medtransfer.config import FitConfig
from medtransfer.data.modality import get_modality
from medtransfer.data.table import SampleTable
from medtransfer.pipeline import split_for_fit


def classical_row(cfg: FitConfig, tables: list[SampleTable]) -> dict:
    """The classical model (the modality's hand-made features + its estimator), trained on train, scored on val
    (of each decision table: the mean, with the spread)."""
    from medtransfer.evaluation.baselines import classical_probs
    from medtransfer.evaluation.bootstrap import confidence_intervals
    from medtransfer.evaluation.metrics import compute_metrics

    started, scores, fit_s, ci_s = time.perf_counter(), [], [], []
    plugin = get_modality(tables[0].modality)
    metric = metric_for(tables[0])
    for table in tables:
        table, split, _ = split_for_fit(cfg, table)
        train, val = table.subset(split.indices["train"]), table.subset(split.indices["val"])
        fitted = time.perf_counter()
        probs = classical_probs(table.task, plugin.simple_features(train.inputs), train.targets,
                                plugin.simple_features(val.inputs), plugin.baseline_estimator, cfg.seed)  # fmt: skip
        scored = time.perf_counter()
        metrics, _ = compute_metrics(table.task, val.targets, probs)
        metrics.update(confidence_intervals(table.task, val.targets, probs, seed=cfg.seed))
        fit_s.append(scored - fitted)
        ci_s.append(time.perf_counter() - scored)
        scores.append(val_score(metrics, metric))
    # fit / CI seconds (per split): what handing over the winner costs beyond its trial scales from them (costs.py)
    row = {"trial": CLASSICAL, "strategy": plugin.simple_features_name, "rung": 0, "epochs": 0, "metric": metric,
           "seconds": time.perf_counter() - started, "stage": "rung 0", "fit_seconds": float(np.mean(fit_s)),
           "ci_seconds": float(np.mean(ci_s))}  # fmt: skip
    set_val(row, scores)
    return row


def set_val(row: dict, scores: list[tuple[float | None, list[float] | None]]) -> None:
    """``val_score``: the mean over the decision splits; ``val_ci``: the bootstrap CI of a single split, or with
    repeated splits ``val_sd``, their spread."""
    values = [v for v, _ in scores if v is not None]
    row["val_score"] = float(np.mean(values)) if values else None
    row["val_ci"] = scores[0][1] if len(scores) == 1 else None
    row["val_sd"] = float(np.std(values, ddof=1)) if len(values) > 1 else None


def metric_for(table: SampleTable) -> str:
    return "rmse" if table.task.kind == "regression" else "auroc"


def val_score(metrics: dict, metric: str) -> tuple[float | None, list[float] | None]:
    """Higher is better: AUROC as it is (accuracy where AUROC is undefined), RMSE negated."""
    if metric == "rmse":
        ci = metrics.get("rmse_ci")
        return -metrics["rmse"], None if ci is None else [-ci[1], -ci[0]]
    name = metric if metric in metrics else "accuracy"
    return metrics.get(name), metrics.get(f"{name}_ci")
