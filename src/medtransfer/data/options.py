"""How to read a source: column names and the task, validated once at the boundary."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from medtransfer.data.task import TaskKind


class ReadOptions(BaseModel):
    """Columns of tabular sources; ``task`` overrides the inferred task kind."""

    model_config = ConfigDict(extra="forbid")

    label_column: str = "label"
    path_column: str | None = None  # None: the first of path / image / file / filename
    input_column: str | None = None  # string modalities: None means smiles / sequence / ... by modality
    group_column: str | None = None  # None: 'group' or 'patient_id' when present
    split_column: str = "split"
    subgroup_columns: str | None = None  # comma-separated attribute columns (sex, site, ...)
    task: TaskKind | None = None
    skip_invalid: bool = False  # drop invalid records (listed in the run's dropped.csv) instead of stopping
    strip_salts: bool = False  # molecules: keep the largest organic fragment
    label_pattern: str | None = None  # FASTA: regex whose group 1 is the label in each header (label=(\S+))
    labels_file: str | None = None  # FASTA: a side CSV of labels, joined on the record id (the header's first word)
    iupac: Literal["n", "keep", "error"] = "n"  # DNA ambiguity codes: to N, kept, or refused
    modality: str | None = None  # read as this modality instead of the first that claims the file
