"""Sequence readers: FASTA (label from the header by a pattern, or from a side CSV joined on the record
id) and CSV (a sequence column + labels).

Every record is normalised and checked against its alphabet at the boundary; a bad record is named by its
file and line and stops the run, or with ``--skip-invalid`` is dropped and listed in dropped.csv. The
similarity clusters become split groups, so near-identical sequences never straddle train and test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medtransfer.data.csv_table import pick_column, read_rows, refuse_invalid, require_column, split_column
from medtransfer.data.labels import targets_from_rows
from medtransfer.data.options import ReadOptions
from medtransfer.data.sequences.alphabets import check_sequence, guess_kind
from medtransfer.data.sequences.kmers import similarity_clusters
from medtransfer.data.table import SampleTable
from medtransfer.errors import DataError

FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".faa", ".fas")
SEQUENCE_COLUMNS = ("sequence", "seq", "dna", "protein", "peptide", "sequences")
LABEL_FALLBACKS = ("label", "target", "y", "class", "activity")
ID_COLUMNS = ("id", "name", "sequence_id", "accession", "record")
SIMILARITY = "similarity cluster (k-mer profile cosine ≥ 0.8)"
DEFAULT_LABEL_PATTERN = r"label=(\S+)"


@dataclass
class FastaRecord:
    name: str  # the header without '>'
    sequence: str
    line: int  # line number of the header


def fasta_records(path: Path) -> list[FastaRecord]:
    """Records of a FASTA file; text before the first header, or a file with no header, is an error."""
    if not path.is_file():
        raise DataError(f"{path} not found. Check the path passed to --data / --input.")
    records: list[FastaRecord] = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (byte {exc.start}); is it a FASTA file?") from exc
    chunks: list[str] = []
    for number, line in enumerate(lines, start=1):
        if line.startswith(">"):
            if records:
                records[-1].sequence = "".join(chunks)
            records.append(FastaRecord(line[1:].strip(), "", number))
            chunks = []
        elif line.strip() and not records:
            raise DataError(f"{path.name}, line {number}: sequence before the first '>' header: not FASTA.")
        elif not line.startswith(";"):
            chunks.append(line.strip())
    if records:
        records[-1].sequence = "".join(chunks)
    if not records:
        raise DataError(f"{path.name} has no FASTA records ('>' header lines).")
    return records


def check_records(
    raw: list[str], where: list[str], kind: str, opts: ReadOptions, path: Path
) -> tuple[list[str | None], list[dict]]:
    """Checked sequences (None where invalid) and the dropped list; invalid records stop the run unless
    ``skip_invalid``."""
    checked, dropped = [], []
    for seq, place in zip(raw, where, strict=True):
        result = check_sequence(seq, kind, opts.iupac)
        checked.append(result.sequence)
        if result.sequence is None:
            dropped.append({"row": place, "input": seq[:200], "reason": result.reason})
    refuse_invalid(path, f"{kind} sequence(s)", [f"{d['row']}: {d['reason']}" for d in dropped], opts.skip_invalid)
    return checked, dropped


def read_sequence_fasta(path: Path, opts: ReadOptions, kind: str | None = None) -> SampleTable:
    """Labelled FASTA: the label is group 1 of ``opts.label_pattern`` searched in each header, or comes from
    the side CSV ``opts.labels_file``."""
    records = fasta_records(path)
    kind = kind or guess_kind([r.sequence for r in records])
    if opts.labels_file:
        return _fasta_with_side_labels(path, records, Path(opts.labels_file), opts, kind)
    pattern = re.compile(opts.label_pattern or DEFAULT_LABEL_PATTERN)
    rows, where = [], []
    for r in records:
        match = pattern.search(r.name)
        if match is None:
            raise DataError(
                f"{path.name}, line {r.line}: header {r.name[:60]!r} has no label matching {pattern.pattern!r}. "
                r"Pass --label-pattern with one group, e.g. '\|(\w+)$' for '>id|label'."
            )
        rows.append({"label": match.group(1), "sequence": r.sequence, "id": r.name.split()[0]})
        where.append(f"line {r.line}")
    return sequence_table(rows, where, ["label"], kind, opts, path, header=None)


def _fasta_with_side_labels(
    path: Path, records: list[FastaRecord], labels_csv: Path, opts: ReadOptions, kind: str
) -> SampleTable:
    """Each record's labels from the CSV row whose id column equals the header's first word."""
    if not labels_csv.is_file():
        raise DataError(f"{labels_csv} not found: check the path passed to --labels.")
    header, label_rows = read_rows(labels_csv)
    id_column = pick_column(header, None, ID_COLUMNS) or header[0]
    wanted = label_columns(labels_csv, header, opts)
    by_id: dict[str, dict] = {}
    for number, row in enumerate(label_rows, start=2):
        key = row[id_column].strip()
        if key in by_id:
            raise DataError(f"{labels_csv.name}, row {number}: id {key!r} appears twice; keep one row per record.")
        by_id[key] = row
    ids = [r.name.split()[0] if r.name else "" for r in records]
    missing = [(r, i) for r, i in zip(records, ids, strict=True) if i not in by_id]
    if missing:
        record, key = missing[0]
        raise DataError(
            f"{path.name}, line {record.line}: record {key!r} has no row in {labels_csv.name} (id column "
            f"{id_column!r}); {len(missing)} of {len(records)} records lack one. Add their labels, or remove them."
        )
    rows = [{**by_id[i], "sequence": r.sequence, "id": i} for r, i in zip(records, ids, strict=True)]
    return sequence_table(rows, [f"line {r.line}" for r in records], wanted, kind, opts, path, header)


def label_columns(path: Path, header: list[str], opts: ReadOptions) -> list[str]:
    """``--label-column`` (comma-separated), or the first conventional label column when left at 'label'."""
    wanted = [c.strip() for c in opts.label_column.split(",")]
    if wanted == ["label"] and "label" not in header:
        wanted = [next((c for c in header if c.lower() in LABEL_FALLBACKS), "label")]
    for c in wanted:
        require_column(path, header, c, "--label-column")
    return wanted


def read_sequence_csv(path: Path, opts: ReadOptions, kind: str | None = None) -> SampleTable:
    header, rows = read_rows(path)
    column = pick_column(header, opts.input_column, SEQUENCE_COLUMNS)
    require_column(path, header, column or "sequence", "--input-column")
    rows = [{**r, "sequence": r[column]} for r in rows]
    kind = kind or guess_kind([r["sequence"] for r in rows])
    wanted = label_columns(path, header, opts)
    return sequence_table(rows, [f"row {i + 2}" for i in range(len(rows))], wanted, kind, opts, path, header)


def sequence_table(
    rows: list[dict], where: list[str], labels: list[str], kind: str, opts: ReadOptions, path: Path, header
) -> SampleTable:
    checked, dropped = check_records([r["sequence"] for r in rows], where, kind, opts, path)
    keep = [i for i, s in enumerate(checked) if s is not None]
    rows = [rows[i] for i in keep]
    targets, task = targets_from_rows(rows, labels, opts.task, path.name)
    sequences = [checked[i] for i in keep]
    ids = [rows[k].get("id") or where[i] for k, i in enumerate(keep)]
    table = SampleTable(kind, sequences, targets, task, ids, None, None, str(path))
    table.groups, table.group_kind = similarity_clusters(sequences, kind, threshold=0.8), SIMILARITY
    if header is not None:
        table.split = split_column(rows, header, opts.split_column, path)
    elif rows and "split" in rows[0]:  # built-in datasets carry their source's split per row
        table.split = np.array([r["split"] for r in rows])
    table.dropped = dropped
    return table


def read_sequence_inputs(
    sources: list[Path], kind: str, iupac: str = "n", skip_invalid: bool = False
) -> tuple[list[str], list[str], list[dict]]:
    """Unlabelled sequences for prediction: FASTA, CSV with a sequence column, or one sequence per line.
    Invalid ones stop with every record named, or with ``skip_invalid`` are left out and returned as dropped."""
    sequences, ids, skipped = [], [], []
    for path in sources:
        if path.suffix.lower() in FASTA_SUFFIXES:
            records = fasta_records(path)
            raw, where = [r.sequence for r in records], [f"line {r.line}" for r in records]
            names = [f"{path.name}:{r.name.split()[0] if r.name else r.line}" for r in records]
        elif path.suffix.lower() == ".csv":
            header, rows = read_rows(path)
            column = pick_column(header, None, SEQUENCE_COLUMNS)
            require_column(path, header, column or "sequence", "a sequence column")
            raw, where = [r[column] for r in rows], [f"row {i + 2}" for i in range(len(rows))]
            names = [f"{path.name}:{w}" for w in where]
        else:
            lines = [(n, line.strip()) for n, line in enumerate(path.read_text().splitlines(), 1) if line.strip()]
            raw, where = [s for _, s in lines], [f"line {n}" for n, _ in lines]
            names = [f"{path.name}:{w}" for w in where]
        checked, dropped = check_records(raw, where, kind, ReadOptions(iupac=iupac, skip_invalid=skip_invalid), path)
        sequences += [s for s in checked if s is not None]
        ids += [n for n, s in zip(names, checked, strict=True) if s is not None]
        skipped += [{**d, "file": path.name} for d in dropped]
    return sequences, ids, skipped
