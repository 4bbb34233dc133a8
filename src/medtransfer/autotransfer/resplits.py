"""Repeated train / validation splits for AutoTransfer's decisions when the validation split is small.

On a validation split of a few dozen cases one split's AUROC moves by more than the gaps between contestants,
so with a small validation split every trial is scored on ``REPEATS`` splits of the same train + validation
rows, re-drawn stratified (and by group, where the data has groups) at seeds derived from the run's, and
judged on the mean. The test rows stay where they are and are never read; the winner's own run uses the
run's original split.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from medtransfer.data.splits import Split, carve
from medtransfer.data.table import SampleTable
from medtransfer.errors import ConfigError
from medtransfer.run.seeding import derive_seed

REPEATS = 3
MIN_VAL_ROWS = 100  # below this many validation rows ...
MIN_VAL_MINORITY = 15  # ... or this few of the rarest class in them, decisions use repeated splits


def small_validation(table: SampleTable, split: Split) -> bool:
    """Whether one validation split is too small to decide on alone."""
    val = split.indices["val"]
    if len(val) < MIN_VAL_ROWS:
        return True
    if table.task.is_classification:
        counts = np.bincount(table.targets[val].astype(int), minlength=len(table.task.class_names))
        return int(counts.min()) < MIN_VAL_MINORITY
    return False


def decision_tables(table: SampleTable, split: Split, seed: int, repeats: int | None = None) -> list[SampleTable]:
    """The tables the search scores each trial on: ``table`` itself when validation is large enough (or
    ``repeats`` is 1), else ``repeats`` (default ``REPEATS``) copies of its train + validation + test rows with a
    predefined split, the first the original one."""
    if repeats is None:
        repeats = REPEATS if small_validation(table, split) else 1
    if repeats < 1:
        raise ConfigError(f"--val-repeats must be at least 1, not {repeats}.")
    if repeats == 1:
        return [table]
    pool = np.sort(np.concatenate([split.indices["train"], split.indices["val"]]))
    test = split.indices["test"]
    fraction = len(split.indices["val"]) / len(pool)
    tables = []
    for repeat in range(repeats):
        if repeat == 0:
            train, val = split.indices["train"], split.indices["val"]
        else:
            train, val = carve(table, pool, fraction, derive_seed(seed, f"auto-resplit-{repeat}") % 2**32)
        labels = np.empty(len(table), dtype=object)
        labels[train], labels[val], labels[test] = "train", "val", "test"
        keep = np.sort(np.concatenate([train, val, test]))
        tables.append(replace(table, split=labels).subset(keep))
    return tables
