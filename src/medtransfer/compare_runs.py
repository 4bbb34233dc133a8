"""``medtransfer compare``: two finished runs scored on the same test rows, compared with paired statistics."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from medtransfer.data.task import TaskSpec
from medtransfer.errors import RunError
from medtransfer.evaluation.compare import delong_test, paired_bootstrap
from medtransfer.evaluation.predictions import prediction_arrays


def compare_runs(run_a: Path, run_b: Path, split: str = "test", seed: int = 0) -> dict:
    """Paired bootstrap of every metric (A − B) and, for binary tasks, DeLong's test of the AUROCs."""
    task_a, rows_a = _scored(run_a, split)
    task_b, rows_b = _scored(run_b, split)
    if task_a.to_dict() != task_b.to_dict():
        raise RunError(f"{run_a} and {run_b} were trained for different tasks or classes; they cannot be compared.")
    shared = [i for i in rows_a if i in rows_b]
    if len(shared) < len(rows_a) or len(shared) < len(rows_b):
        raise RunError(
            f"the {split} splits of {run_a} and {run_b} hold different samples ({len(rows_a)} vs {len(rows_b)}, "
            f"{len(shared)} shared): compare runs evaluated on the same data and split."
        )
    y, probs_a = prediction_arrays(task_a, [rows_a[i] for i in shared])
    _, probs_b = prediction_arrays(task_a, [rows_b[i] for i in shared])
    out = {
        "split": split,
        "n": len(shared),
        "a": str(run_a),
        "b": str(run_b),
        "paired_bootstrap": paired_bootstrap(task_a, y, probs_a, probs_b, seed=seed),
    }
    if task_a.kind == "binary":
        pos = task_a.positive_index
        out["delong"] = delong_test((y == pos).astype(int), probs_a[:, pos], probs_b[:, pos])
    return out


def _scored(run: Path, split: str) -> tuple[TaskSpec, dict[str, dict]]:
    model_json, predictions = run / "model" / "model.json", run / "predictions.csv"
    if not model_json.is_file() or not predictions.is_file():
        raise RunError(f"{run} is not a finished run directory (no model/model.json or predictions.csv).")
    task = TaskSpec.from_dict(json.loads(model_json.read_text())["task"])
    with open(predictions, newline="") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh) if r["split"] == split}
    if not rows:
        raise RunError(f"{predictions} has no rows of split {split!r}.")
    return task, rows
