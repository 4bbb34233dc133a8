"""Read a delimited text file with its encoding, BOM and delimiter handled, and name columns on error."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from medtransfer.data.table import SPLITS
from medtransfer.errors import DataError

MISSING = {"", "na", "nan", "none", "null", "?"}
GROUP_COLUMNS = ("group", "patient_id", "patient", "subject_id")


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows (dicts) of ``path``; delimiter sniffed among , ; tab |; UTF-8 with or without BOM."""
    if not path.is_file():
        raise DataError(f"{path} not found. Check the path passed to --data / --input.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (byte {exc.start}). Save it as UTF-8 CSV.") from exc
    if not text.strip():
        raise DataError(f"{path} is empty. It needs a header row and at least one data row.")
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(text.splitlines(), dialect=dialect)
    header = [h.strip() for h in (reader.fieldnames or [])]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:  # a dict per row would keep only the last of them, silently
        raise DataError(
            f"{path.name}: column(s) {', '.join(repr(h) for h in twice)} appear twice in the header. Rename or remove "
            "the copies so each column name is unique."
        )
    reader.fieldnames = header
    rows, ragged = [], []
    for r in reader:
        if None in r or None in r.values():  # more fields than the header (extra ones under None), or fewer
            fields = sum(r[h] is not None for h in header) + len(r.get(None) or [])
            ragged.append(f"line {reader.line_num} ({fields} fields)")
        rows.append({k: (v or "").strip() for k, v in r.items() if k is not None})
    if ragged:
        more = f" (+{len(ragged) - 5} more)" if len(ragged) > 5 else ""
        raise DataError(
            f"{path.name}: {len(ragged)} row(s) do not have the header's {len(header)} fields: "
            f"{', '.join(ragged[:5])}{more}. A field holding the delimiter, a quote or a line break must be quoted "
            '("like, this"); fix those rows or remove them.'
        )
    return header, rows


def require_column(path: Path, header: list[str], column: str, flag: str) -> None:
    if column not in header:
        raise DataError(
            f"column {column!r} not found in {path.name}; columns are: {', '.join(header)}. "
            f"Pass {flag} with one of them."
        )


def pick_column(header: list[str], explicit: str | None, candidates: tuple[str, ...]) -> str | None:
    if explicit:
        return explicit
    lowered = {h.lower(): h for h in header}
    return next((lowered[c] for c in candidates if c in lowered), None)


def is_missing(value: str) -> bool:
    return value.strip().lower() in MISSING


def rows_missing(rows: list[dict[str, str]], column: str) -> list[int]:
    """1-based data-row numbers (the header is row 1, so data rows start at 2) whose ``column`` is empty."""
    return [i + 2 for i, r in enumerate(rows) if is_missing(r.get(column, ""))]


def parse_float(value: str) -> float:
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(value)
    return x


def describe_rows(rows: list[int]) -> str:
    return ", ".join(map(str, rows[:10])) + (f" … (+{len(rows) - 10})" if len(rows) > 10 else "")


def split_column(rows: list[dict[str, str]], header: list[str], column: str, path: Path) -> np.ndarray | None:
    """Predefined split per row from ``column`` (train / val / test; valid and validation mean val)."""
    if column not in header:
        return None
    values = np.array([r[column].lower() for r in rows])
    values[values == "valid"] = "val"
    values[values == "validation"] = "val"
    bad = sorted(set(values) - set(SPLITS))
    if bad:
        raise DataError(f"{path.name}: column {column!r} has values {bad}; use train, val or test.")
    return values


def refuse_invalid(path: Path, what: str, problems: list[str], skip_invalid: bool) -> None:
    """Stop with the first invalid records named (``problems``: "row 4 'C1CC': unclosed ring", ...) unless
    ``--skip-invalid`` asked to drop them."""
    if not problems or skip_invalid:
        return
    more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
    raise DataError(
        f"{path.name}: {len(problems)} invalid {what}: {'; '.join(problems[:5])}{more}. Fix them, or pass "
        "--skip-invalid to leave them out (each is listed in dropped.csv)."
    )
