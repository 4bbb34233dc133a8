"""The DNA and protein modality plug-ins: one class, two registrations; strings in, token ids out."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from typing import Any

import numpy as np

from medtransfer.data.csv_table import pick_column, read_rows
from medtransfer.data.input_stream import InputStream, batches_of
from medtransfer.data.modality import MODALITIES, Fingerprints
from medtransfer.data.options import ReadOptions
from medtransfer.data.sequences.alphabets import SYMBOLS, guess_kind
from medtransfer.data.sequences.corpora import read_corpus_pieces
from medtransfer.data.sequences.kmers import K, profile_features, simhash
from medtransfer.data.sequences.readers import (
    FASTA_SUFFIXES,
    SEQUENCE_COLUMNS,
    fasta_records,
    read_sequence_csv,
    read_sequence_fasta,
    read_sequence_inputs,
)
from medtransfer.data.table import SampleTable
from medtransfer.data.tokens import SPECIAL_TOKENS, TokenDataset, TokenEncoder
from medtransfer.errors import ConfigError

# the best measured source models in docs/benchmarks.md. Proteins: our transformer distilled from UniRep 256
# equals UniRep 256 itself at 50 peptides (full fine-tune, 5 paired seeds) and fine-tunes ~10× faster on a CPU
DEFAULT_BACKBONES = {"dna": "dna_bert_augustus", "protein": "protein_bert_unirep_distilled"}


class SequenceModality:
    """``kind`` is 'dna' or 'protein': the alphabet, the k of the k-mer profiles and the backbones it fits."""

    token_splitter = "char"
    corpus_exclusion = True  # pretrain --exclude: a dataset's sequences can be cut out of the corpus
    corpus_in_pieces = True  # pretrain --piece-length: long genomes and proteins are cut into pieces
    baseline_estimator = "linear"
    # what the pretraining stage records in its cards: our small DNA encoder stayed at the majority class on
    # splice at 0.1× the head's rate and beat scratch at the full rate (docs/benchmarks.md)
    finetune_rates = {"backbone_lr_scale": 1.0, "layer_decay": 1.0}

    def __init__(self, kind: str) -> None:
        self.name = kind
        self.default_backbone = DEFAULT_BACKBONES[kind]
        self.simple_features_name = f"{K[kind]}-mer frequencies"

    def claims(self, path: Path, opts: ReadOptions) -> bool:
        if path.suffix.lower() in FASTA_SUFFIXES:
            return guess_kind([r.sequence for r in fasta_records(path)[:200]]) == self.name
        if path.suffix.lower() not in (".csv", ".tsv", ".txt") or not path.is_file():
            return False
        header, rows = read_rows(path)
        column = pick_column(header, opts.input_column, SEQUENCE_COLUMNS)
        return column in header and guess_kind([r[column] for r in rows[:200]]) == self.name

    def read(self, path: Path, opts: ReadOptions) -> SampleTable:
        if path.suffix.lower() in FASTA_SUFFIXES:
            return read_sequence_fasta(path, opts, self.name)
        return read_sequence_csv(path, opts, self.name)

    def read_inputs(self, sources: list[Path], skip_invalid: bool = False) -> tuple[list[Any], list[str], list[dict]]:
        files = [p for s in sources for p in (sorted(s.iterdir()) if s.is_dir() else [s])]
        return read_sequence_inputs(files, self.name, skip_invalid=skip_invalid)

    def stream_inputs(self, sources: list[Path], skip_invalid: bool, batch_size: int) -> InputStream:
        return batches_of(self.read_inputs(sources, skip_invalid), batch_size)

    def read_corpus(self, corpus: str, piece_length: int = 510, exclude: tuple[str, ...] = ()) -> tuple[list[str], str]:
        """Unlabelled sequences for pretraining, cut into ``piece_length`` pieces: a named corpus (dna: ``ecoli``,
        ``augustus_splice``; protein: ``uniprot20k``; all from Debian packages) or a FASTA file (optionally .gz),
        with the sequences of ``exclude`` (datasets or FASTA files) cut out."""
        return read_corpus_pieces(corpus, self.name, piece_length, exclude)

    def vocab_for(self, splitter: str) -> list[str]:
        """Every token the splitter can make from the alphabet, so a pretrained model knows tokens its corpus
        happened to lack: each symbol for ``char``; each A/C/G/T k-mer for DNA ``kmerK`` (DNABERT's vocabulary;
        k-mers with N or IUPAC codes read as [UNK])."""
        if splitter == "char":
            return [*SPECIAL_TOKENS, *SYMBOLS[self.name]]
        if splitter.startswith("kmer") and self.name == "dna":
            k = int(splitter.removeprefix("kmer"))
            return [*SPECIAL_TOKENS, *("".join(p) for p in itertools.product("ACGT", repeat=k))]
        raise ConfigError(
            f"{self.name} models are pretrained on char tokens{' or kmer3–kmer6' * (self.name == 'dna')}."
        )

    def input_bytes(self, x: str) -> bytes:
        return x.encode()

    def backbone_kwargs(self, table: SampleTable) -> dict:
        return {}

    def preprocessing(self, card: Any, table: SampleTable, settings: dict) -> dict:
        if not card.tokenizer or card.modality not in (self.name, "any"):
            raise ConfigError(
                f"backbone {card.name} does not read {self.name} sequences: pick a {self.name} backbone "
                "(medtransfer backbones)."
            )
        windows = settings.get("long_inputs") == "window"
        if windows and card.tokenizer.get("fixed_length"):
            raise ConfigError(f"backbone {card.name} reads fixed-length inputs: use --long-inputs truncate.")
        return {"modality": self.name, "tokenizer": {**card.tokenizer, **({"windows": True} if windows else {})}}

    def describe(self, table: SampleTable, pre: dict) -> str:
        tokenizer = pre["tokenizer"]
        cover = TokenEncoder(tokenizer).coverage(table.inputs)
        lengths = [len(s) for s in table.inputs]
        long = f"{cover['truncated']} of {cover['texts']} longer than {tokenizer['max_length']} tokens"
        long += f", read in up to {cover['windows']} windows" if tokenizer.get("windows") else ", truncated"
        return (
            f"{self.name} sequences of {min(lengths)}–{max(lengths)} symbols (median {int(np.median(lengths))}), "
            f"{tokenizer.get('splitter', 'hub')} tokens; {long}; {cover['unknown_tokens']} tokens unknown to the "
            "backbone"
        )

    def fingerprints(self, inputs: list[Any]) -> Fingerprints:
        """Exact: the sequence's hash; near: a SimHash of its k-mer profile."""
        return Fingerprints([hashlib.sha1(s.encode()).hexdigest() for s in inputs], simhash(inputs, self.name))

    def simple_features(self, inputs: list[Any]) -> np.ndarray:
        return profile_features(inputs, self.name)

    def dataset(self, inputs: list[Any], targets: np.ndarray | None, pre: dict, train: bool) -> TokenDataset:
        return TokenDataset(TokenEncoder(pre["tokenizer"]).encode(inputs), targets)


for _kind, _what in (("dna", "DNA: FASTA (label in the header) or CSV with a sequence column"),
                     ("protein", "proteins / peptides: FASTA or CSV with a sequence column")):  # fmt: skip
    MODALITIES.register(_kind, description=_what)(SequenceModality(_kind))
