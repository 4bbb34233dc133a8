"""Find leakage between splits from modality fingerprints (exact keys and near-duplicate hashes) and groups.

Runs before every fit. ``--on-leak error`` stops, ``warn`` records it in the run, ``fix`` joins every set of
rows linked by a copy or a shared group (a connected component: A~B~C moves together), moves each set that
spans splits into its earliest split, training first (so test shrinks, never grows), then audits again and
records what is left.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field

import numpy as np

from medtransfer.data.modality import Fingerprints
from medtransfer.data.table import SampleTable
from medtransfer.errors import DataError

ORDER = ("train", "val", "test")


@dataclass
class LeakageReport:
    """What the audit found: pairs of row ids across splits, shared groups and conflicting labels."""

    exact_duplicates: list[dict] = field(default_factory=list)
    near_duplicates: list[dict] = field(default_factory=list)
    shared_groups: list[dict] = field(default_factory=list)
    conflicting_labels: list[dict] = field(default_factory=list)
    repeated_inputs: int = 0  # rows whose input (same key: content hash, InChIKey, ...) occurs earlier too
    moved: list[dict] = field(default_factory=list)
    after_fix: dict | None = None  # the audit of the fixed split (--on-leak fix): what is left, if anything

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
        if self.moved:
            left = self.after_fix["leaks"] if self.after_fix else "?"
            text += f"; {len(self.moved)} samples moved to remove leakage ({left} leaks left after the move)"
        return text

    def to_dict(self) -> dict:
        return {**asdict(self), "summary": self.summary(), "leaks": self.leaks}


def audit_split(table: SampleTable, splits: dict[str, np.ndarray], prints: Fingerprints) -> LeakageReport:
    """Audit ``splits`` (row indices) of ``table`` given its per-row fingerprints."""
    exact, near = prints.exact, prints.near
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
        report.near_duplicates = _near_pairs(table, where, prints)
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


BLOCK_BYTES = 1 << 26  # bound on one XOR block (|a| × step × hash bytes)


def _as_words(near: np.ndarray) -> np.ndarray:
    """Packed-bit hashes as rows of uint64 words (zero-padded): XOR + popcount then runs a word at a time."""
    pad = -near.shape[1] % 8
    padded = np.pad(np.ascontiguousarray(near, dtype=np.uint8), ((0, 0), (0, pad)))
    return padded.view(np.uint64)


def _near_pairs(table: SampleTable, where: np.ndarray, prints: Fingerprints) -> list[dict]:
    """Rows in different splits whose packed-bit hashes are within the Hamming limit, confirmed by the
    modality's own check where it has one (exact copies excluded: they are listed already)."""
    exact = prints.exact
    words = _as_words(prints.near)
    limit = int(prints.near_fraction * prints.near.shape[1] * 8)
    out = []
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        ia, ib = np.flatnonzero(where == a), np.flatnonzero(where == b)
        if len(ia) == 0 or len(ib) == 0:
            continue
        left = words[ia][:, None, :]
        step = max(1, BLOCK_BYTES // (len(ia) * words.itemsize * words.shape[1]))
        for start in range(0, len(ib), step):
            block = ib[start : start + step]
            dist = np.bitwise_count(left ^ words[block][None, :, :]).sum(axis=2, dtype=np.uint16)
            rows, cols = np.nonzero(dist <= limit)
            keep = np.array([exact[ia[r]] != exact[block[c]] for r, c in zip(rows, cols, strict=True)], dtype=bool)
            rows, cols = rows[keep], cols[keep]
            if prints.confirm is not None and len(rows):
                confirmed = prints.confirm(ia[rows], block[cols])
                rows, cols = rows[confirmed], cols[confirmed]
            for r, c in zip(rows, cols, strict=True):
                i, j = ia[r], block[c]
                out.append(
                    {"a": table.ids[i], "a_split": a, "b": table.ids[j], "b_split": b, "hamming": int(dist[r, c])}
                )
    return out


def resolve_leaks(
    table: SampleTable, splits: dict[str, np.ndarray], report: LeakageReport, policy: str, prints: Fingerprints
) -> dict[str, np.ndarray]:
    """Apply ``policy``: ``error`` raises, ``warn`` keeps the splits, ``fix`` moves linked rows together and
    audits the result again (``report.moved``, ``report.after_fix``)."""
    if report.leaks == 0 or policy == "warn":
        return splits
    if policy == "error":
        raise DataError(
            f"leakage between splits: {report.summary()}. See the listed ids (medtransfer audit --data ...); "
            "fix the data, or pass --on-leak fix to move duplicates into one split, or --on-leak warn."
        )
    where = np.full(len(table), None, dtype=object)
    for name, idx in splits.items():
        where[idx] = name
    moved = _move_components(table, where, report)
    fixed = {name: np.flatnonzero(where == name) for name in splits}
    report.moved = moved
    report.after_fix = audit_split(table, fixed, prints).to_dict()
    return fixed


def _move_components(table: SampleTable, where: np.ndarray, report: LeakageReport) -> list[dict]:
    """Join rows linked by an exact or near copy or a shared group; move each linked set into its earliest
    split (in place on ``where``). Returns the moves."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    row_of = {sample_id: i for i, sample_id in enumerate(table.ids)}
    edges = [(row_of[p["a"]], row_of[p["b"]]) for p in report.exact_duplicates + report.near_duplicates]
    if report.shared_groups and table.groups is not None:
        shared = {g["group"] for g in report.shared_groups}
        first: dict[str, int] = {}
        for i, g in enumerate(table.groups):
            if g in shared and where[i] is not None:
                edges.append((first.setdefault(g, i), i))
    n = len(table)
    a, b = (np.array(e, dtype=int) for e in zip(*edges, strict=True)) if edges else (np.zeros(0, int),) * 2
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    moves = []
    for c in np.unique(component[a]) if len(a) else []:
        members = [i for i in np.flatnonzero(component == c) if where[i] is not None]
        target = min((where[i] for i in members), key=ORDER.index)
        for i in members:
            if where[i] != target:
                moves.append({"id": table.ids[i], "from": where[i], "to": target})
                where[i] = target
    return moves
