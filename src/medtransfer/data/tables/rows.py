"""A table row as data: the column schema, the row as text for a language model (TabLLM's "list"
serialization, Hegselmann et al. 2023), and the hand-made features of the gradient-boosted trees.

A row is a dict of column → cell text, ``None`` where the value is missing; missing stays missing (no
imputation): the text leaves the column out, the trees see NaN and learn where missing rows go.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from medtransfer.data.csv_table import is_missing

SEPARATOR, ASSIGN = "; ", ": "


def as_number(value: str | None) -> float | None:
    """The cell as a finite number, or None when it is missing or not a number."""
    if value is None:
        return None
    try:
        x = float(value)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def cell(value: object) -> str | None:
    """A raw cell (CSV text, a pandas value) as its text, None when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():  # a whole number a float column holds (63.0): as written
        return str(int(value))
    text = str(value).strip()
    return None if is_missing(text) else text


@dataclass
class Column:
    name: str
    kind: str  # "numeric" (every present value is a number) or "categorical"
    missing: int
    levels: int  # distinct present values

    def describe(self) -> str:
        gaps = f", {self.missing} missing" if self.missing else ""
        return f"{self.name} ({self.kind}{f', {self.levels} levels' if self.kind == 'categorical' else ''}{gaps})"


def infer_schema(rows: list[dict[str, str | None]]) -> list[Column]:
    """Each column's kind, missing count and number of levels, from the rows' inputs alone (no labels)."""
    columns = []
    for name in rows[0] if rows else []:
        present = [r[name] for r in rows if r.get(name) is not None]
        numeric = bool(present) and all(as_number(v) is not None for v in present)
        columns.append(Column(name, "numeric" if numeric else "categorical", len(rows) - len(present),
                              len(set(present))))  # fmt: skip
    return columns


def serialize(row: dict[str, str | None]) -> str:
    """'age: 63; sex: F; …' over the present cells, in the row's column order."""
    return SEPARATOR.join(f"{k}{ASSIGN}{v}" for k, v in row.items() if v is not None)


def parse(text: str, columns: list[str]) -> dict[str, str | None]:
    """The row ``serialize`` wrote (columns it left out are missing)."""
    found = dict(part.split(ASSIGN, 1) for part in text.split(SEPARATOR) if ASSIGN in part)
    return {c: found.get(c) for c in columns}


def level_code(value: str) -> float:
    """A category's code in (0, 1]: a hash, so distinct levels get distinct codes (a collision is a 2^-24 chance)
    that a tree can split apart, with no level list fitted on any split."""
    return (int.from_bytes(hashlib.blake2b(value.encode(), digest_size=3).digest()) + 1) / 2**24


def row_features(rows: list[dict[str, str | None]]) -> np.ndarray:
    """(n, 2 × columns) float32, columns in name order: per column its number and its category code, each NaN
    when the cell is missing or of the other kind. Stateless: the same row always gives the same features."""
    names = sorted({k for r in rows for k in r})
    out = np.full((len(rows), 2 * len(names)), np.nan, dtype=np.float32)
    for i, r in enumerate(rows):
        for j, name in enumerate(names):
            value = r.get(name)
            number = as_number(value)
            if number is not None:
                out[i, 2 * j] = number
            elif value is not None:
                out[i, 2 * j + 1] = level_code(value)
    return out
