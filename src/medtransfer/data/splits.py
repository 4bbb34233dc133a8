"""Train / validation / test splits: predefined when the source has them, else stratified or group-aware."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from medtransfer.data.table import SPLITS, SampleTable
from medtransfer.errors import ConfigError, DataError


@dataclass
class Split:
    """Row indices per split and a sentence that says how they were made (for the report)."""

    indices: dict[str, np.ndarray]
    method: str

    def sizes(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.indices.items()}


def make_split(table: SampleTable, val_fraction: float, test_fraction: float, seed: int) -> Split:
    """Use the table's own split where present, carving any missing val / test split out of train."""
    if not (0 < val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ConfigError("--val-fraction and --test-fraction must be in (0, 1) and sum to less than 1.")
    if table.split is not None:
        return _from_predefined(table, val_fraction, test_fraction, seed)
    rest, test = carve(table, np.arange(len(table)), test_fraction, seed)
    train, val = carve(table, rest, val_fraction / (1 - test_fraction), seed + 1)
    how = f"split by {table.group_kind} (no group in two splits)" if table.groups else _strategy_word(table)
    return Split({"train": train, "val": val, "test": test}, f"{how}, random, seed {seed}")


def _from_predefined(table: SampleTable, val_fraction: float, test_fraction: float, seed: int) -> Split:
    idx = {s: np.where(table.split == s)[0] for s in SPLITS}
    if len(idx["train"]) == 0:
        raise DataError(f"{table.source}: the predefined split has no 'train' rows.")
    made = []
    if len(idx["test"]) == 0 and test_fraction > 0:
        idx["train"], idx["test"] = carve(table, idx["train"], test_fraction, seed)
        made.append("test")
    if len(idx["val"]) == 0:
        idx["train"], idx["val"] = carve(table, idx["train"], val_fraction, seed + 1)
        made.append("val")
    method = "predefined split of the source"
    if made:
        method += f"; {' and '.join(made)} carved from train ({_strategy_word(table)}, seed {seed})"
    return Split(idx, method)


def carve(table: SampleTable, pool: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split ``pool`` into (keep, taken) with ``fraction`` taken, by group when groups exist."""
    if fraction == 0:
        return pool, pool[:0]
    if table.groups is not None:
        return _carve_groups(table, pool, fraction, seed)
    stratify = table.targets[pool] if table.task.is_classification else None
    try:
        keep, taken = train_test_split(pool, test_size=fraction, random_state=seed, stratify=stratify)
    except ValueError as exc:
        raise DataError(
            f"{table.source}: cannot split {len(pool)} examples with {fraction:.0%} held out ({exc}). "
            "Add examples, or give a split column."
        ) from exc
    return np.sort(keep), np.sort(taken)


def _carve_groups(table: SampleTable, pool: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Whole groups held out until ``fraction`` of the *samples* is reached (balanced scaffold split).

    Groups larger than half the held-out size stay in the kept part, so one huge group (the benzene
    scaffold, a patient with hundreds of images) cannot make the held-out split mostly one group; the rest
    are visited in a seeded random order. Sample counts, not group counts, hit the target.
    """
    groups = np.array(table.groups, dtype=object)[pool]
    names, inverse, counts = np.unique(groups.astype(str), return_inverse=True, return_counts=True)
    if len(names) < 2:
        raise DataError(
            f"{table.source}: a split by {table.group_kind} needs at least 2 distinct groups; this data has "
            f"{len(names)}. Pass --split random (or a split column) to split by sample instead."
        )
    target = fraction * len(pool)
    order = np.random.default_rng(seed).permutation(len(names))
    taken_groups, total = [], 0
    for g in order:
        if counts[g] > target / 2 or total + counts[g] > target * 1.05:
            continue
        taken_groups.append(g)
        total += counts[g]
        if total >= target * 0.95:
            break
    if not taken_groups:  # every group is large: hold out the smallest one
        taken_groups = [int(np.argmin(counts))]
    taken = np.isin(inverse, taken_groups)
    return np.sort(pool[~taken]), np.sort(pool[taken])


def _strategy_word(table: SampleTable) -> str:
    return "stratified" if table.task.is_classification else "plain"


def subsample_train(table: SampleTable, split: Split, max_train: int | None, seed: int) -> Split:
    """Keep ``max_train`` training rows (stratified): the low-data regime, for curves and experiments."""
    train = split.indices["train"]
    if max_train is None or max_train >= len(train):
        return split
    stratify = table.targets[train] if table.task.is_classification else None
    kept, _ = train_test_split(train, train_size=max_train, random_state=seed, stratify=stratify)
    indices = dict(split.indices, train=np.sort(kept))
    return Split(indices, f"{split.method}; train subsampled to {max_train} (stratified, seed {seed})")
