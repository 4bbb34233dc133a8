"""Text readers: a CSV with a text column, JSON Lines, or a folder of ``.txt`` files per class.

Every text is checked at the boundary: an empty text, a file that is not UTF-8 or a JSON line that does not
parse is named by its file and row (or line) and stops the run, or with ``--skip-invalid`` is dropped and
listed in dropped.csv. Unless the data names its own groups, near-copies of a text (the leakage audit's
threshold) share a split group, so no report is in training and, copied, in test.
"""

from __future__ import annotations

import json
from pathlib import Path

from medtransfer.data.csv_table import (
    GROUP_COLUMNS,
    pick_column,
    read_rows,
    refuse_invalid,
    require_column,
    split_column,
)
from medtransfer.data.labels import targets_from_rows
from medtransfer.data.options import ReadOptions
from medtransfer.data.table import SampleTable
from medtransfer.data.text.deid import warn_identifiers
from medtransfer.data.text.features import near_copy_clusters
from medtransfer.errors import DataError

TEXT_COLUMNS = ("text", "report", "note", "notes", "report_text", "note_text", "findings", "impression")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
LABEL_FALLBACKS = ("label", "labels", "target", "y", "class", "diagnosis")
NEAR_COPIES = "near-copy cluster (word n-gram SimHash within 5 of 256 bits)"


def text_column(header: list[str], opts: ReadOptions) -> str | None:
    return pick_column(header, opts.input_column, TEXT_COLUMNS)


def decode(path: Path) -> str:
    """A text file's contents; not UTF-8 is an error naming the file and the byte."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path} is not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r}). Re-save it as "
            "UTF-8 (e.g. iconv -f latin1 -t utf-8), or leave it out."
        ) from exc


def jsonl_rows(path: Path) -> list[dict[str, str]]:
    """One JSON object per non-empty line, values as strings; a line that does not parse is named."""
    rows = []
    for number, line in enumerate(decode(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path.name}, line {number}: not JSON ({exc.msg}, column {exc.colno}).") from exc
        if not isinstance(obj, dict):
            found = type(obj).__name__
            raise DataError(f"{path.name}, line {number}: one JSON object per line is needed, not a {found}.")
        rows.append({str(k): "" if v is None else str(v) for k, v in obj.items()} | {"_where": f"line {number}"})
    if not rows:
        raise DataError(f"{path} has no JSON lines.")
    return rows


def label_columns(path: Path, header: list[str], opts: ReadOptions) -> list[str]:
    """``--label-column`` (comma-separated), or the first conventional label column when left at 'label'."""
    wanted = [c.strip() for c in opts.label_column.split(",")]
    if wanted == ["label"] and "label" not in header:
        wanted = [next((c for c in header if c.lower() in LABEL_FALLBACKS), "label")]
    for c in wanted:
        require_column(path, header, c, "--label-column")
    return wanted


def read_text_records(path: Path, opts: ReadOptions) -> SampleTable:
    """A CSV or JSON Lines file: a text column (``text``, ``report``, ``note`` … or ``--input-column``) and
    label column(s); optional group, split and subgroup columns as for every CSV."""
    if path.suffix.lower() in JSONL_SUFFIXES:
        rows = jsonl_rows(path)
        header = list(dict.fromkeys(k for r in rows for k in r if k != "_where"))
        rows = [{h: r.get(h, "") for h in header} | {"_where": r["_where"]} for r in rows]
    else:
        header, rows = read_rows(path)
        rows = [r | {"_where": f"row {i + 2}"} for i, r in enumerate(rows)]
    column = text_column(header, opts)
    require_column(path, header, column or "text", "--input-column")
    rows = [{**r, "_text": r[column]} for r in rows]
    return text_table(rows, label_columns(path, header, opts), opts, path, header)


def read_text_folder(root: Path, opts: ReadOptions) -> SampleTable:
    """``root/<class>/*.txt``: one document per file, its class the sub-folder's name."""
    rows = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for file in sorted(folder.glob("*.txt")):
            try:
                text = decode(file)
            except DataError as exc:
                if not opts.skip_invalid:
                    raise
                text, reason = "", str(exc)
            else:
                reason = ""
            rows.append({"label": folder.name, "_text": text, "_reason": reason, "id": f"{folder.name}/{file.name}",
                         "_where": f"{folder.name}/{file.name}"})  # fmt: skip
    if not rows:
        raise DataError(f"{root} has no class sub-folders holding .txt files.")
    return text_table(rows, ["label"], opts, root, None)


def checked_texts(rows: list[dict], opts: ReadOptions, path: Path) -> tuple[list[int], list[dict]]:
    """Indices of the rows whose text is usable, and the dropped ones (empty, unreadable) with their reason."""
    dropped = []
    for r in rows:
        reason = r.get("_reason") or ("empty text" if not r["_text"].strip() else "")
        if reason:
            dropped.append({"row": r["_where"], "input": r["_text"][:200], "reason": reason})
    refuse_invalid(path, "text(s)", [f"{d['row']}: {d['reason']}" for d in dropped], opts.skip_invalid)
    bad = {d["row"] for d in dropped}
    return [i for i, r in enumerate(rows) if r["_where"] not in bad], dropped


def text_table(rows: list[dict], labels: list[str], opts: ReadOptions, path: Path, header: list[str] | None
               ) -> SampleTable:  # fmt: skip
    keep, dropped = checked_texts(rows, opts, path)
    rows = [rows[i] for i in keep]
    targets, task = targets_from_rows(rows, labels, opts.task, path.name)
    texts = [r["_text"].strip() for r in rows]
    ids = [r.get("id") or r["_where"] for r in rows]
    table = SampleTable("text", texts, targets, task, ids, None, None, str(path))
    group_col = pick_column(header, opts.group_column, GROUP_COLUMNS) if header else None
    if group_col:
        require_column(path, header, group_col, "--group-column")
        table.groups, table.group_kind = [r[group_col] for r in rows], group_col
    else:
        table.groups, table.group_kind = near_copy_clusters(texts), NEAR_COPIES
    if header is not None:
        table.split = split_column(rows, header, opts.split_column, path)
        if opts.subgroup_columns:
            columns = [c.strip() for c in opts.subgroup_columns.split(",")]
            for c in columns:
                require_column(path, header, c, "--subgroup-column")
            table.attributes = {c: [r[c] or "(missing)" for r in rows] for c in columns}
    table.dropped = dropped
    warn_identifiers(texts, [r["_where"] for r in rows], path.name)
    return table


def read_text_inputs(sources: list[Path], skip_invalid: bool = False) -> tuple[list[str], list[str], list[dict]]:
    """Unlabelled texts for prediction: a ``.txt`` file is one document; a CSV or JSON Lines file holds one
    per row in its text column. Empty or unreadable ones stop the run, or with ``skip_invalid`` are left out."""
    texts, ids, skipped = [], [], []
    opts = ReadOptions(skip_invalid=skip_invalid)
    for path in sources:
        if path.suffix.lower() in (".csv", ".tsv", *JSONL_SUFFIXES):
            rows = jsonl_rows(path) if path.suffix.lower() in JSONL_SUFFIXES else [
                r | {"_where": f"row {i + 2}"} for i, r in enumerate(read_rows(path)[1])]  # fmt: skip
            header = list(rows[0]) if rows else []
            column = text_column(header, opts)
            require_column(path, header, column or "text", "a text column (text, report or note)")
            rows = [{**r, "_text": r[column]} for r in rows]
            names = [f"{path.name}:{r.get('id') or r['_where']}" for r in rows]
        else:
            try:
                text, reason = decode(path), ""
            except DataError as exc:
                if not skip_invalid:
                    raise
                text, reason = "", str(exc)
            rows, names = [{"_text": text, "_where": path.name, "_reason": reason}], [path.name]
        keep, dropped = checked_texts(rows, opts, path)
        texts += [rows[i]["_text"].strip() for i in keep]
        ids += [names[i] for i in keep]
        skipped += [{**d, "file": path.name} for d in dropped]
    return texts, ids, skipped
