"""predictions.csv: one row per evaluated sample with its split, label, prediction and probabilities."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from medtransfer.data.task import TaskSpec
from medtransfer.evaluation.metrics import predicted_labels


def prediction_rows(task: TaskSpec, ids: list[str], split: str, y: np.ndarray | None, probs: np.ndarray) -> list[dict]:
    """Rows for ``predictions.csv`` (``y`` None for unlabelled inputs)."""
    pred = predicted_labels(task, probs)
    rows = []
    for i, sample_id in enumerate(ids):
        row = {"id": sample_id, "split": split}
        if task.kind == "regression":
            row["label"] = "" if y is None else float(y[i])
            row["prediction"] = float(pred[i])
        elif task.kind == "multilabel":
            row["label"] = "" if y is None else "|".join(n for j, n in enumerate(task.class_names) if y[i, j] == 1)
            row["prediction"] = "|".join(n for j, n in enumerate(task.class_names) if pred[i, j])
            row.update({f"prob_{n}": float(probs[i, j]) for j, n in enumerate(task.class_names)})
        else:
            row["label"] = "" if y is None else task.class_names[int(y[i])]
            row["prediction"] = task.class_names[int(pred[i])]
            row.update({f"prob_{n}": float(probs[i, j]) for j, n in enumerate(task.class_names)})
        rows.append(row)
    return rows


def write_predictions(rows: list[dict], path: Path) -> None:
    if not rows:
        return
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_dropped(dropped: list[dict], path: Path) -> None:
    """Invalid records skipped with --skip-invalid: row (and line), the input and why it was refused."""
    fields = list(dict.fromkeys(k for d in dropped for k in d))
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(dropped)
