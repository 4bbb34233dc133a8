"""Molecule readers: CSV / SMILES files (a SMILES column + label columns) and SDF, validated with RDKit.

Every SMILES is sanitised and canonicalised at the boundary; invalid ones are listed with their row and
RDKit's reason, and either stop the run or, with ``--skip-invalid``, are dropped and listed in dropped.csv.
Scaffolds become the split groups, so the default split keeps each Bemis–Murcko scaffold in one split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medtransfer.data.csv_table import (
    GROUP_COLUMNS,
    describe_rows,
    is_missing,
    parse_float,
    pick_column,
    read_rows,
    refuse_invalid,
    require_column,
    split_column,
)
from medtransfer.data.labels import targets_from_rows
from medtransfer.data.molecules.chem import molecule_from_block, parse_smiles, scaffold_of, to_smiles
from medtransfer.data.options import ReadOptions
from medtransfer.data.table import SampleTable
from medtransfer.data.task import TaskSpec
from medtransfer.errors import DataError

SMILES_COLUMNS = ("smiles", "canonical_smiles", "smi", "mol", "molecule")
LABEL_FALLBACKS = ("label", "target", "y", "activity", "value")
MOLECULE_SUFFIXES = (".smi", ".sdf")
SCAFFOLD = "Bemis–Murcko scaffold"


def has_smiles_column(path: Path, opts: ReadOptions) -> bool:
    header, _ = read_rows(path)
    return pick_column(header, opts.input_column, SMILES_COLUMNS) in header


def read_molecule_csv(path: Path, opts: ReadOptions) -> SampleTable:
    """A CSV with a SMILES column and one label column (or several: multi-task, empty cells = missing)."""
    header, rows = read_rows(path)
    return molecule_table_from_rows(header, rows, path, opts)


def molecule_table_from_rows(
    header: list[str], rows: list[dict[str, str]], path: Path, opts: ReadOptions
) -> SampleTable:
    """The table of CSV ``rows`` (row numbers count the header as row 1, as a spreadsheet shows them)."""
    smiles_col = pick_column(header, opts.input_column, SMILES_COLUMNS)
    require_column(path, header, smiles_col or "smiles", "--input-column")
    label_columns = _label_columns(path, header, opts.label_column)
    parsed, dropped = _parse_rows([r[smiles_col] for r in rows], path, opts, first_row=2)
    keep = [i for i in range(len(rows)) if parsed[i] is not None]
    rows = [rows[i] for i in keep]
    targets, task = _targets(rows, label_columns, opts, path.name)
    group_col = pick_column(header, opts.group_column, GROUP_COLUMNS)
    if group_col:
        require_column(path, header, group_col, "--group-column")
    table = _molecule_table([parsed[i] for i in keep], targets, task, path, [f"row {i + 2}" for i in keep])
    if group_col:
        table.groups, table.group_kind = [r[group_col] for r in rows], "group"
    table.split, table.dropped = split_column(rows, header, opts.split_column, path), dropped
    return table


def read_sdf(path: Path, opts: ReadOptions) -> SampleTable:
    """An SDF file whose records carry the label as a data field (``> <label>``)."""
    smiles, fields, ids, dropped = sdf_records(path)
    _handle_invalid(dropped, path, opts, "record")
    label_columns = _label_columns(path, sorted({k for r in fields for k in r}), opts.label_column)
    rows = [{c: r.get(c, "") for c in label_columns} for r in fields]
    targets, task = _targets(rows, label_columns, opts, path.name)
    parsed = [parse_smiles(s, opts.strip_salts).canonical for s in smiles]
    table = _molecule_table(parsed, targets, task, path, ids)
    table.dropped = dropped
    return table


def sdf_records(path: Path) -> tuple[list[str], list[dict[str, str]], list[str], list[dict]]:
    """(SMILES, data fields, ids, unreadable records with their first line) of an SDF file."""
    records = [r for r in path.read_text(errors="replace").split("$$$$") if r.strip()]
    if not records:
        raise DataError(f"{path} holds no SDF records. Check the file, or pass a CSV with a smiles column.")
    smiles, fields, ids, dropped, line = [], [], [], [], 1
    for k, record in enumerate(records):
        mol = molecule_from_block(record.lstrip("\n"))
        data = _sdf_fields(record)
        if mol is None:
            dropped.append({"row": k + 1, "line": line, "input": data["_Name"], "reason": "RDKit cannot read it"})
        else:
            smiles.append(to_smiles(mol))
            fields.append(data)
            ids.append(f"record {k + 1}")
        line += record.count("\n")
    return smiles, fields, ids, dropped


def _sdf_fields(record: str) -> dict[str, str]:
    lines = record.strip("\n").splitlines()
    fields = {"_Name": lines[0].strip() if lines else ""}
    for i, text in enumerate(lines):
        if text.startswith(">") and "<" in text and i + 1 < len(lines):
            fields[text[text.index("<") + 1 : text.rindex(">")]] = lines[i + 1].strip()
    return fields


def _label_columns(path: Path, header: list[str], label_column: str) -> list[str]:
    wanted = [c.strip() for c in label_column.split(",")]
    if wanted == ["label"] and "label" not in header:
        wanted = [next((c for c in header if c.lower() in LABEL_FALLBACKS), "label")]
    for c in wanted:
        require_column(path, header, c, "--label-column")
    return wanted


def _parse_rows(
    smiles: list[str], path: Path, opts: ReadOptions, first_row: int, unit: str = "row"
) -> tuple[list[str | None], list[dict]]:
    parsed, dropped = [], []
    for i, s in enumerate(smiles):
        result = parse_smiles(s, opts.strip_salts)
        parsed.append(result.canonical)
        if result.canonical is None:
            dropped.append({"row": i + first_row, "input": s[:200], "reason": result.reason})
    _handle_invalid(dropped, path, opts, unit)
    return parsed, dropped


def _handle_invalid(dropped: list[dict], path: Path, opts: ReadOptions, unit: str) -> None:
    problems = [f"{unit} {d['row']} {d['input']!r}: {d['reason']}" for d in dropped]
    refuse_invalid(path, "molecule(s)", problems, opts.skip_invalid)


def _targets(rows: list[dict[str, str]], columns: list[str], opts: ReadOptions, source: str):
    """Single-label targets as usual; several columns are multi-task 0/1 labels with empty cells missing."""
    if len(columns) == 1:
        task = opts.task or _infer_numeric_task(rows, columns[0])
        return targets_from_rows(rows, columns, task, source)
    targets = np.full((len(rows), len(columns)), np.nan, dtype=np.float32)
    bad = []
    for i, r in enumerate(rows):
        for j, c in enumerate(columns):
            if is_missing(r[c]):
                continue
            try:
                targets[i, j] = parse_float(r[c])
            except ValueError:
                bad.append(i + 2)
    not_binary = ~np.isnan(targets) & (targets != 0) & (targets != 1)
    bad = sorted(set(bad) | {int(i) + 2 for i in np.where(not_binary.any(axis=1))[0]})
    if bad:
        raise DataError(
            f"{source}: multi-task labels {columns} must be 0, 1 or empty; rows {describe_rows(bad)} are not."
        )
    return targets, TaskSpec("multilabel", tuple(columns))


def _infer_numeric_task(rows: list[dict[str, str]], column: str) -> str | None:
    """Regression when the labels are numbers other than a handful of integers (pIC50, logS, ...)."""
    values = [r[column] for r in rows if not is_missing(r[column])]
    try:
        numbers = np.array([parse_float(v) for v in values])
    except ValueError:
        return None
    if len(np.unique(numbers)) > 10 or not np.all(numbers == np.round(numbers)):
        return "regression"
    return None


def _molecule_table(
    smiles: list[str], targets: np.ndarray, task: TaskSpec, source: Path, ids: list[str]
) -> SampleTable:
    scaffolds = [scaffold_of(s) for s in smiles]
    return SampleTable("molecule", smiles, targets, task, ids, scaffolds, None, str(source), group_kind=SCAFFOLD)


def read_smiles_inputs(
    sources: list[Path], strip_salts: bool = False, skip_invalid: bool = False
) -> tuple[list[str], list[str], list[dict]]:
    """Unlabelled molecules for prediction: .smi / .txt (one SMILES per line), CSV with a smiles column, SDF.
    Invalid ones stop with every row named, or with ``skip_invalid`` are left out and returned as dropped."""
    opts = ReadOptions(strip_salts=strip_salts, skip_invalid=skip_invalid)
    smiles, ids, skipped = [], [], []
    for path in sources:
        if path.suffix.lower() == ".sdf":
            found, _, found_ids, dropped = sdf_records(path)
            _handle_invalid(dropped, path, opts, "record")
            smiles += [parse_smiles(s, strip_salts).canonical for s in found]
            ids += [f"{path.name}:{i}" for i in found_ids]
            skipped += [{**d, "file": path.name} for d in dropped]
            continue
        if path.suffix.lower() == ".csv":
            header, rows = read_rows(path)
            column = pick_column(header, None, SMILES_COLUMNS)
            require_column(path, header, column or "smiles", "a smiles column")
            lines, first = [r[column] for r in rows], 2
        else:
            lines, first = [t.split()[0] if t.split() else "" for t in path.read_text().splitlines()], 1
        unit = "row" if first == 2 else "line"
        parsed, dropped = _parse_rows(lines, path, opts, first, unit)
        smiles += [s for s in parsed if s is not None]
        ids += [f"{path.name}:{unit} {i + first}" for i, s in enumerate(parsed) if s is not None]
        skipped += [{**d, "file": path.name} for d in dropped]
    return smiles, ids, skipped
