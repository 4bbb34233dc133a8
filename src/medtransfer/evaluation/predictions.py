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
            if y is not None:  # per label 1 / 0, or empty where the label is missing (not a negative)
                row.update({f"label_{n}": _cell(y[i, j]) for j, n in enumerate(task.class_names)})
            row["prediction"] = "|".join(n for j, n in enumerate(task.class_names) if pred[i, j])
            row.update({f"prob_{n}": float(probs[i, j]) for j, n in enumerate(task.class_names)})
        else:
            row["label"] = "" if y is None else task.class_names[int(y[i])]
            row["prediction"] = task.class_names[int(pred[i])]
            row.update({f"prob_{n}": float(probs[i, j]) for j, n in enumerate(task.class_names)})
        rows.append(row)
    return rows


def _cell(value: float) -> str:
    return "" if np.isnan(value) else str(int(value))


def prediction_arrays(task: TaskSpec, rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """(targets, probabilities or predictions) read back from ``predictions.csv`` rows; missing labels as NaN."""
    names = task.class_names
    if task.kind == "regression":
        return np.array([float(r["label"]) for r in rows]), np.array([float(r["prediction"]) for r in rows])
    probs = np.array([[float(r[f"prob_{n}"]) for n in names] for r in rows])
    if task.kind == "multilabel":
        if rows and f"label_{names[0]}" in rows[0]:
            y = np.array([[float(r[f"label_{n}"]) if r[f"label_{n}"] != "" else np.nan for n in names] for r in rows])
        else:  # written before per-label columns: every label observed
            y = np.array([[float(n in r["label"].split("|")) for n in names] for r in rows])
        return y, probs
    index = {n: i for i, n in enumerate(names)}
    return np.array([index[r["label"]] for r in rows]), probs


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
