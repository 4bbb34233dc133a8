"""The clinical table modality plug-in: rows in; a row serialized as text for a language model out, and the
columns themselves for the gradient-boosted trees beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from medtransfer.data.input_stream import InputStream, batches_of
from medtransfer.data.modality import MODALITIES, Fingerprints, all_modalities
from medtransfer.data.options import ReadOptions
from medtransfer.data.table import SampleTable
from medtransfer.data.tables.readers import TABLE_SUFFIXES, has_label_column, raw_rows, read_table, read_table_inputs
from medtransfer.data.tables.rows import infer_schema, row_features, serialize
from medtransfer.data.text.features import exact_key
from medtransfer.data.text.plugin import TEXT_MODALITIES
from medtransfer.data.tokens import TokenDataset, TokenEncoder
from medtransfer.errors import ConfigError, DataError


class TableModality:
    name = "table"
    default_backbone = "minilm_l6"  # rows read as text ("age: 63; sex: F; …") by the text encoder
    simple_features_name = "the columns (numbers as they are, categories hashed, missing kept)"
    baseline_estimator = "gbdt"
    reads_backbones_of = ("text",)  # cross-domain transfer: a language model reads the serialized row

    def claims(self, path: Path, opts: ReadOptions) -> bool:
        """A CSV or Parquet file with a label column and other columns, that no other modality claims (a column
        of image paths, SMILES, sequences or texts makes it theirs)."""
        if path.suffix.lower() not in TABLE_SUFFIXES or not path.is_file():
            return False
        header, _ = raw_rows(path)
        if len(header) < 2 or not has_label_column(header, opts):
            return False
        return not any(m.claims(path, opts) for m in all_modalities() if m.name != self.name)

    def read(self, path: Path, opts: ReadOptions) -> SampleTable:
        return read_table(path, opts)

    def read_inputs(self, sources: list[Path], skip_invalid: bool = False) -> tuple[list[Any], list[str], list[dict]]:
        return read_table_inputs([p for s in sources for p in (sorted(s.glob("*.csv")) if s.is_dir() else [s])])

    def stream_inputs(self, sources: list[Path], skip_invalid: bool, batch_size: int) -> InputStream:
        return batches_of(self.read_inputs(sources, skip_invalid), batch_size)

    def input_bytes(self, x: dict) -> bytes:
        return serialize(dict(sorted(x.items()))).encode()

    def backbone_kwargs(self, table: SampleTable) -> dict:
        return {}

    def preprocessing(self, card: Any, table: SampleTable, settings: dict) -> dict:
        if not card.tokenizer or card.modality not in TEXT_MODALITIES:
            raise ConfigError(
                f"backbone {card.name} does not read text, and a table row is read as text: pick a text backbone "
                "(medtransfer backbones), e.g. minilm_l6."
            )
        columns = list(table.inputs[0]) if table.inputs else []
        return {"modality": self.name, "tokenizer": card.tokenizer, "columns": columns}

    def describe(self, table: SampleTable, pre: dict) -> str:
        schema = "; ".join(c.describe() for c in infer_schema(table.inputs))
        texts = [serialize(r) for r in table.inputs]
        cover = TokenEncoder(pre["tokenizer"]).coverage(texts)
        return (
            f"{len(pre['columns'])} columns: {schema}. Each row read as text ('column: value; …', missing cells left "
            f"out); {cover['truncated']} of {cover['texts']} rows longer than {pre['tokenizer']['max_length']} tokens"
        )

    def fingerprints(self, inputs: list[Any]) -> Fingerprints:
        """Exact: the row's cells (column order ignored)."""
        return Fingerprints([exact_key(serialize(dict(sorted(r.items())))) for r in inputs])

    def simple_features(self, inputs: list[Any]) -> np.ndarray:
        return row_features(inputs)

    def dataset(self, inputs: list[Any], targets: np.ndarray | None, pre: dict, train: bool) -> TokenDataset:
        columns = pre["columns"]
        lacking = sorted({c for r in inputs for c in columns if c not in r})
        if lacking:
            raise DataError(f"the model reads columns {', '.join(repr(c) for c in lacking)}, which the inputs lack.")
        texts = [serialize({c: r[c] for c in columns}) for r in inputs]
        return TokenDataset(TokenEncoder(pre["tokenizer"]).encode(texts), targets)


MODALITIES.register("table", description="clinical tables: CSV / Parquet of feature columns and a label")(
    TableModality()
)
