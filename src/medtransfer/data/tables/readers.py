"""Table readers: a CSV (or Parquet) whose columns are features and label(s), with the schema inferred.

Every column that is not a label, id, group or split column is a feature; cells that are empty, NA, NaN,
null or ? are missing and stay missing. A label cell that is missing stops the run naming its rows.
"""

from __future__ import annotations

from pathlib import Path

from medtransfer.data.csv_table import GROUP_COLUMNS, pick_column, read_rows, require_column, split_column
from medtransfer.data.labels import targets_from_rows
from medtransfer.data.options import ReadOptions
from medtransfer.data.table import SampleTable
from medtransfer.data.tables.rows import cell
from medtransfer.errors import DataError

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet")
LABEL_FALLBACKS = ("label", "target", "y", "class", "outcome", "diagnosis")
ID_COLUMNS = ("id", "patient_id", "subject_id", "record_id")


def raw_rows(path: Path) -> tuple[list[str], list[dict[str, str | None]]]:
    """Header and rows of a CSV or Parquet file, each cell its text or None when missing."""
    if path.suffix.lower() == ".parquet":
        try:
            import pandas as pd

            frame = pd.read_parquet(path)
        except ImportError as exc:
            raise DataError(f"reading {path.name} needs pyarrow: pip install pyarrow (or save it as CSV).") from exc
        header = [str(c) for c in frame.columns]
        return header, [{h: cell(v) for h, v in zip(header, r, strict=True)} for r in frame.itertuples(index=False)]
    header, rows = read_rows(path)
    return header, [{h: cell(r[h]) for h in header} for r in rows]


def label_columns(path: Path, header: list[str], opts: ReadOptions) -> list[str]:
    wanted = [c.strip() for c in opts.label_column.split(",")]
    if wanted == ["label"] and "label" not in header:
        wanted = [next((c for c in header if c.lower() in LABEL_FALLBACKS), "label")]
    for c in wanted:
        require_column(path, header, c, "--label-column")
    return wanted


def has_label_column(header: list[str], opts: ReadOptions) -> bool:
    wanted = [c.strip() for c in opts.label_column.split(",")]
    if wanted == ["label"]:
        return any(c.lower() in LABEL_FALLBACKS for c in header)
    return all(c in header for c in wanted)


def read_table(path: Path, opts: ReadOptions) -> SampleTable:
    header, rows = raw_rows(path)
    labels = label_columns(path, header, opts)
    group_col = pick_column(header, opts.group_column, GROUP_COLUMNS)
    id_col = pick_column(header, None, ID_COLUMNS)
    reserved = {*labels, opts.split_column, group_col, id_col}
    features = [h for h in header if h not in reserved]
    if not features:
        raise DataError(f"{path.name} has no feature columns besides {', '.join(sorted(c for c in reserved if c))}.")
    text_rows = [{h: "" if r[h] is None else r[h] for h in header} for r in rows]
    targets, task = targets_from_rows(text_rows, labels, opts.task, path.name)
    inputs = [{h: r[h] for h in features} for r in rows]
    ids = [(r[id_col] if id_col else None) or f"row {i + 2}" for i, r in enumerate(rows)]
    table = SampleTable("table", inputs, targets, task, ids, None, None, str(path))
    if group_col:
        table.groups, table.group_kind = [r[group_col] or "(missing)" for r in rows], group_col
    table.split = split_column(text_rows, header, opts.split_column, path)
    if opts.subgroup_columns:
        columns = [c.strip() for c in opts.subgroup_columns.split(",")]
        for c in columns:
            require_column(path, header, c, "--subgroup-column")
        table.attributes = {c: [r[c] or "(missing)" for r in rows] for c in columns}
    return table


def read_table_inputs(sources: list[Path]) -> tuple[list[dict], list[str], list[dict]]:
    """Unlabelled rows for prediction: every column but an id column; the model keeps the ones it was
    trained on (and names any it lacks)."""
    inputs, ids = [], []
    for path in sources:
        header, rows = raw_rows(path)
        id_col = pick_column(header, None, ID_COLUMNS)
        inputs += [{h: v for h, v in r.items() if h != id_col} for r in rows]
        ids += [f"{path.name}:{r[id_col] if id_col and r[id_col] else f'row {i + 2}'}" for i, r in enumerate(rows)]
    return inputs, ids, []
