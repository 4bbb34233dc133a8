"""Find leakage between splits from modality fingerprints (exact keys and near-duplicate hashes) and groups.

Runs before every fit. ``--on-leak error`` stops, ``warn`` records it in the run, ``fix`` moves every
leaking sample into the split of the first copy, training first (so test shrinks, never grows) and says so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field

import numpy as np

from medtransfer.data.table import SampleTable
from medtransfer.errors import DataError

ORDER = ("train", "val", "test")
NEAR_FRACTION = 0.02  # perceptual hashes differing in at most 2% of their bits are near-duplicates


@dataclass
class LeakageReport:
    """What the audit found: pairs of row ids across splits, shared groups and conflicting labels."""

    exact_duplicates: list[dict] = field(default_factory=list)
    near_duplicates: list[dict] = field(default_factory=list)
    shared_groups: list[dict] = field(default_factory=list)
    conflicting_labels: list[dict] = field(default_factory=list)
    repeated_inputs: int = 0  # rows whose input (same key: content hash, InChIKey, ...) occurs earlier too
    moved: list[dict] = field(default_factory=list)

    @property
    def leaks(self) -> int:
        return len(self.exact_duplicates) + len(self.near_duplicates) + len(self.shared_groups)

    def summary(self) -> str:
        parts = [
            f"{len(self.exact_duplicates)} exact and {len(self.near_duplicates)} near-duplicate pairs across splits",
            f"{len(self.shared_groups)} groups in two splits",
            f"{self.repeated_inputs} repeated inputs, {len(self.conflicting_labels)} with conflicting labels",
        ]
        text = "; ".join(parts)
        return text + (f"; {len(self.moved)} samples moved to remove leakage" if self.moved else "")

    def to_dict(self) -> dict:
        return {**asdict(self), "summary": self.summary(), "leaks": self.leaks}


def audit_split(
    table: SampleTable, splits: dict[str, np.ndarray], exact: list[str], near: np.ndarray | None
) -> LeakageReport:
    """Audit ``splits`` (row indices) of ``table`` given per-row exact keys and optional packed-bit near hashes."""
    where = np.empty(len(table), dtype=object)
    for name, idx in splits.items():
        where[idx] = name
    report = LeakageReport()
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(exact):
        if where[i] is not None:
            by_key[key].append(i)
    report.repeated_inputs = sum(len(rows) - 1 for rows in by_key.values())
    for rows in by_key.values():
        if len({where[i] for i in rows}) > 1:
            report.exact_duplicates += _pairs(table, where, rows)
        if table.task.is_classification and len({int(table.targets[i]) for i in rows}) > 1:
            report.conflicting_labels.append(
                {
                    "ids": [table.ids[i] for i in rows],
                    "labels": [table.task.class_names[int(table.targets[i])] for i in rows],
                }
            )
    if near is not None:
        report.near_duplicates = _near_pairs(table, where, near, exact)
    if table.groups is not None:
        by_group: dict[str, set[str]] = defaultdict(set)
        for i, g in enumerate(table.groups):
            if where[i] is not None:
                by_group[g].add(where[i])
        report.shared_groups = [{"group": g, "splits": sorted(s)} for g, s in by_group.items() if len(s) > 1]
    return report


def _pairs(table: SampleTable, where: np.ndarray, rows: list[int]) -> list[dict]:
    first = min(rows, key=lambda i: ORDER.index(where[i]))
    return [
        {"a": table.ids[first], "a_split": where[first], "b": table.ids[i], "b_split": where[i]}
        for i in rows
        if where[i] != where[first]
    ]


def _near_pairs(table: SampleTable, where: np.ndarray, near: np.ndarray, exact: list[str]) -> list[dict]:
    """Hamming distance between packed-bit hashes of rows in different splits (exact copies excluded)."""
    bits = np.unpackbits(near, axis=1).astype(bool)
    limit = int(NEAR_FRACTION * bits.shape[1])
    out = []
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        ia, ib = np.flatnonzero(where == a), np.flatnonzero(where == b)
        if len(ia) == 0 or len(ib) == 0:
            continue
        for start in range(0, len(ib), 64):  # blocks bound memory: |a| × 64 × bits
            block = ib[start : start + 64]
            dist = (bits[ia][:, None, :] != bits[block][None, :, :]).sum(axis=2)
            for r, c in zip(*np.nonzero(dist <= limit), strict=True):
                i, j = ia[r], block[c]
                if exact[i] != exact[j]:
                    out.append(
                        {"a": table.ids[i], "a_split": a, "b": table.ids[j], "b_split": b, "hamming": int(dist[r, c])}
                    )
    return out


def resolve_leaks(
    table: SampleTable, splits: dict[str, np.ndarray], report: LeakageReport, policy: str
) -> dict[str, np.ndarray]:
    """Apply ``policy``: ``error`` raises, ``warn`` keeps the splits, ``fix`` moves leaking rows (reported)."""
    if report.leaks == 0 or policy == "warn":
        return splits
    if policy == "error":
        raise DataError(
            f"leakage between splits: {report.summary()}. See the listed ids (medtransfer audit --data ...); "
            "fix the data, or pass --on-leak fix to move duplicates into one split, or --on-leak warn."
        )
    where = {}
    for name, idx in splits.items():
        where.update({int(i): name for i in idx})
    row_of = {sample_id: i for i, sample_id in enumerate(table.ids)}
    for pair in report.exact_duplicates + report.near_duplicates:
        i = row_of[pair["b"]]
        if where[i] != pair["a_split"]:
            report.moved.append({"id": pair["b"], "from": where[i], "to": pair["a_split"]})
            where[i] = pair["a_split"]
    if report.shared_groups and table.groups is not None:
        target = {g["group"]: min(g["splits"], key=ORDER.index) for g in report.shared_groups}  # earliest split
        for i, g in enumerate(table.groups):
            if g in target and i in where and where[i] != target[g]:
                report.moved.append({"id": table.ids[i], "from": where[i], "to": target[g]})
                where[i] = target[g]
    return {name: np.array(sorted(i for i, s in where.items() if s == name), dtype=int) for name in splits}
