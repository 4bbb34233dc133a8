"""The molecule modality plug-in: SMILES strings in, token ids out, scaffolds as split groups."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from medtransfer.data.csv_table import pick_column
from medtransfer.data.input_stream import InputStream, batches_of
from medtransfer.data.modality import MODALITIES, Fingerprints
from medtransfer.data.molecules.chem import inchikey_of, morgan_fingerprints
from medtransfer.data.molecules.readers import (
    MOLECULE_SUFFIXES,
    SMILES_COLUMNS,
    has_smiles_column,
    read_molecule_csv,
    read_sdf,
    read_smiles_inputs,
)
from medtransfer.data.options import ReadOptions
from medtransfer.data.table import SampleTable
from medtransfer.data.tokens import TokenDataset, TokenEncoder
from medtransfer.errors import ConfigError, DataError


class MoleculeModality:
    name = "molecule"
    default_backbone = "chemnet"  # the best source model on four of five MoleculeNet sets (docs/benchmarks.md)
    token_splitter = "smiles_regex"
    tokenizer_options = {"bracket_fallback": True}  # [C@@H] → C when the vocabulary lacks the bracket atom
    simple_features_name = "Morgan fingerprints (radius 2, 2048 bits)"
    baseline_estimator = "random_forest"

    def claims(self, path: Path, opts: ReadOptions) -> bool:
        if path.suffix.lower() == ".sdf":
            return True
        return path.suffix.lower() in (".csv", ".tsv", ".txt", ".smi") and has_smiles_column(path, opts)

    def read(self, path: Path, opts: ReadOptions) -> SampleTable:
        return read_sdf(path, opts) if path.suffix.lower() == ".sdf" else read_molecule_csv(path, opts)

    def read_inputs(self, sources: list[Path], skip_invalid: bool = False) -> tuple[list[Any], list[str], list[dict]]:
        files = [p for s in sources for p in (sorted(s.iterdir()) if s.is_dir() else [s])]
        unknown = [p for p in files if p.suffix.lower() not in (*MOLECULE_SUFFIXES, ".csv", ".txt")]
        if unknown:
            raise DataError(f"{unknown[0]} is not a molecule file: pass .smi, .txt, .csv (smiles column) or .sdf.")
        return read_smiles_inputs(files, skip_invalid=skip_invalid)

    def stream_inputs(self, sources: list[Path], skip_invalid: bool, batch_size: int) -> InputStream:
        return batches_of(self.read_inputs(sources, skip_invalid), batch_size)

    def read_corpus(self, corpus: str, piece_length: int | None = None) -> tuple[list[str], str]:
        """Unlabelled SMILES for pretraining: ``moses`` (the molsets package's 1.58M) or a file (one molecule
        per text: ``piece_length`` does not apply)."""
        if corpus == "moses":
            spec = importlib.util.find_spec("moses")
            if spec is None or not spec.origin:
                raise DataError("the MOSES corpus ships in molsets: pip install --no-deps molsets==0.3.1.")
            path = Path(spec.origin).parent / "dataset" / "data" / "train.csv.gz"
            note = "MOSES training set (1,584,663 drug-like molecules from ZINC clean leads; MIT licence)"
        else:
            path, note = Path(corpus), f"{Path(corpus).name}"
        if not path.is_file():
            raise DataError(f"corpus {path} not found: pass a .smi / .csv(.gz) file of SMILES, or 'moses'.")
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as fh:
            lines = [line.strip() for line in fh if line.strip()]
        header = lines[0].split(",")
        column = pick_column(header, None, SMILES_COLUMNS)
        if column is not None:  # a CSV: keep its smiles column
            k = header.index(column)
            lines = [line.split(",")[k] for line in lines[1:]]
        else:
            lines = [line.split()[0] for line in lines]
        return lines, note

    def input_bytes(self, x: str) -> bytes:
        return x.encode()

    def backbone_kwargs(self, table: SampleTable) -> dict:
        return {}

    def preprocessing(self, card: Any, table: SampleTable, settings: dict) -> dict:
        if not card.tokenizer:
            raise ConfigError(
                f"backbone {card.name} does not read SMILES: pick a molecule backbone (medtransfer backbones)."
            )
        if settings.get("long_inputs") == "window":  # a window of a SMILES string is not a molecule
            raise ConfigError(
                "--long-inputs window is for DNA and protein; SMILES longer than the model are truncated."
            )
        return {"modality": self.name, "tokenizer": card.tokenizer}

    def describe(self, table: SampleTable, pre: dict) -> str:
        cover = TokenEncoder(pre["tokenizer"]).coverage(table.inputs)
        unknown = cover["unknown_tokens"] / max(1, cover["tokens"])
        return (
            f"canonical SMILES, {pre['tokenizer']['splitter']} tokens (vocabulary {len(pre['tokenizer']['vocab'])}); "
            f"{unknown:.1%} of tokens unknown to the backbone, {cover['truncated']} of {cover['texts']} truncated at "
            f"{pre['tokenizer']['max_length']}"
        )

    def fingerprints(self, inputs: list[Any]) -> Fingerprints:
        """InChIKeys: one key per molecule whatever SMILES spelled it (tautomers, charges layer included)."""
        return Fingerprints([inchikey_of(s) for s in inputs])

    def simple_features(self, inputs: list[Any]) -> np.ndarray:
        return morgan_fingerprints(inputs)

    def dataset(self, inputs: list[Any], targets: np.ndarray | None, pre: dict, train: bool) -> TokenDataset:
        return TokenDataset(TokenEncoder(pre["tokenizer"]).encode(inputs), targets)


MODALITIES.register("molecule", description="molecules: CSV with a smiles column, .smi, .sdf (RDKit)")(
    MoleculeModality()
)
