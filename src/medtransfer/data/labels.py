"""Turn raw label cells into targets and a TaskSpec: classes, multi-label 0/1 columns, or numbers."""

from __future__ import annotations

import numpy as np

from medtransfer.data.csv_table import describe_rows, parse_float, rows_missing
from medtransfer.data.table import classification_task, encode_class_labels
from medtransfer.data.task import TaskKind, TaskSpec
from medtransfer.errors import DataError


def targets_from_rows(
    rows: list[dict[str, str]], label_columns: list[str], task: TaskKind | None, source: str
) -> tuple[np.ndarray, TaskSpec]:
    """Targets for CSV rows: several label columns → multilabel; numeric labels with ``task=regression``."""
    if not rows:
        raise DataError(f"{source} has no examples (no data rows left). Check the file and its label column.")
    for column in label_columns:
        missing = rows_missing(rows, column)
        if missing:
            raise DataError(
                f"{source}: rows {describe_rows(missing)} have no value in column {column!r}. "
                "Fill them in or remove those rows."
            )
    if len(label_columns) > 1 or task == "multilabel":
        return _numeric(rows, label_columns, source, binary=True), TaskSpec("multilabel", tuple(label_columns))
    column = label_columns[0]
    if task == "regression":
        return _numeric(rows, [column], source, binary=False)[:, 0], TaskSpec("regression", (column,))
    targets, names = encode_class_labels([r[column] for r in rows], source)
    if len(names) < 2:
        raise DataError(
            f"{source}: column {column!r} has a single class {names[0]!r}; a classifier needs at least two. "
            "Check the label column, or pass --task regression for a numeric target."
        )
    task_spec = classification_task(len(names), names)
    if task is not None and task != task_spec.kind:
        raise DataError(f"{source}: --task {task} but column {column!r} has {len(names)} classes.")
    return targets, task_spec


def _numeric(rows: list[dict[str, str]], columns: list[str], source: str, binary: bool) -> np.ndarray:
    out = np.zeros((len(rows), len(columns)), dtype=np.float32)
    bad = []
    for i, r in enumerate(rows):
        for j, c in enumerate(columns):
            try:
                out[i, j] = parse_float(r[c])
            except ValueError:
                bad.append(i + 2)
    if binary and not bad:
        bad = [i + 2 for i in np.where(((out != 0) & (out != 1)).any(axis=1))[0]]
    if bad:
        kind = "0 or 1" if binary else "a finite number"
        raise DataError(f"{source}: rows {describe_rows(sorted(set(bad)))} are not {kind} in {columns}.")
    return out
