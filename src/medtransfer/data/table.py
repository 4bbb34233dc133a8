"""A labelled sample table: the one shape every reader returns, whatever the modality."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from medtransfer.data.task import TaskSpec
from medtransfer.errors import DataError

SPLITS = ("train", "val", "test")


@dataclass
class SampleTable:
    """Inputs (one modality object per sample), targets aligned with them, and what is known about them.

    ``targets`` holds class indices (binary / multiclass), a 0/1 matrix (multilabel) or floats (regression).
    ``split`` holds a predefined "train" / "val" / "test" per sample when the source defines one.
    """

    modality: str
    inputs: list[Any]
    targets: np.ndarray
    task: TaskSpec
    ids: list[str]
    groups: list[str] | None = None
    split: np.ndarray | None = None
    source: str = ""
    attributes: dict[str, list[str]] | None = None  # e.g. sex, site: for subgroup metrics
    group_kind: str = "group"  # what ``groups`` are: a patient / group column, or e.g. "Bemis–Murcko scaffold"
    dropped: list[dict] | None = None  # invalid records skipped on request, with row and reason (dropped.csv)

    def __len__(self) -> int:
        return len(self.inputs)

    def subset(self, index: np.ndarray) -> SampleTable:
        """Rows ``index`` of this table, in that order."""
        index = np.asarray(index, dtype=int)
        return replace(
            self,
            inputs=[self.inputs[i] for i in index],
            targets=self.targets[index],
            ids=[self.ids[i] for i in index],
            groups=None if self.groups is None else [self.groups[i] for i in index],
            split=None if self.split is None else self.split[index],
            attributes=None
            if self.attributes is None
            else {k: [v[i] for i in index] for k, v in self.attributes.items()},
        )

    def class_counts(self) -> dict[str, int]:
        """Examples per class (classification) or per positive label (multilabel; missing cells not counted)."""
        if self.task.kind == "regression":
            return {}
        if self.task.kind == "multilabel":
            return {n: int(c) for n, c in zip(self.task.class_names, np.nansum(self.targets, axis=0), strict=True)}
        counts = Counter(int(t) for t in self.targets)
        return {n: counts.get(i, 0) for i, n in enumerate(self.task.class_names)}

    def check_trainable(self) -> None:
        """Refuse tables that cannot train: empty, or a class with fewer than 2 examples."""
        if len(self) == 0:
            raise DataError(f"{self.source or 'the data'} has no examples. Check the path and label column.")
        if self.task.is_classification and len(self.task.class_names) < 2:
            found = f"only {self.task.class_names[0]!r}" if self.task.class_names else "no labels"
            raise DataError(
                f"{self.source or 'the data'} has {found}: a classifier needs at least two classes. Add examples of "
                "another class (for an image folder: a second sub-folder), or check --label-column."
            )
        if self.task.is_classification:
            thin = {n: c for n, c in self.class_counts().items() if c < 2}
            if thin:
                listing = ", ".join(f"{n!r} ({c})" for n, c in thin.items())
                raise DataError(
                    f"class {listing} in {self.source or 'the data'} has fewer than 2 examples, so it cannot "
                    "appear in both training and evaluation. Add examples, or remove or merge that class."
                )


def encode_class_labels(
    raw: list[str], source: str, class_names: list[str] | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map raw label strings to indices; class order is sorted (numerically when all labels are numbers)."""
    if class_names is None:
        uniq = sorted(set(raw), key=_label_sort_key)
        class_names = uniq
    index = {n: i for i, n in enumerate(class_names)}
    unknown = sorted(set(raw) - set(index))
    if unknown:
        raise DataError(f"{source}: labels {unknown} are not among the classes {class_names}.")
    return np.array([index[r] for r in raw], dtype=np.int64), tuple(class_names)


def _label_sort_key(label: str) -> tuple[int, float | str]:
    try:
        return (0, float(label))
    except ValueError:
        return (1, label)


def classification_task(n_classes: int, names: tuple[str, ...]) -> TaskSpec:
    return TaskSpec(kind="binary" if n_classes == 2 else "multiclass", class_names=names)
