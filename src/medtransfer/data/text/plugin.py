"""The clinical text modality plug-in: reports and notes in, WordPiece token ids out; TF-IDF beside every model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from medtransfer.data.csv_table import read_rows
from medtransfer.data.input_stream import InputStream, batches_of
from medtransfer.data.modality import MODALITIES, Fingerprints
from medtransfer.data.options import ReadOptions
from medtransfer.data.table import SampleTable
from medtransfer.data.text.corpus import read_text_corpus
from medtransfer.data.text.features import exact_key, ngram_counts, simhash
from medtransfer.data.text.readers import (
    JSONL_SUFFIXES,
    read_text_folder,
    read_text_inputs,
    read_text_records,
    text_column,
)
from medtransfer.data.tokens import TokenDataset, TokenEncoder
from medtransfer.errors import ConfigError

TEXT_MODALITIES = ("text", "any")  # the backbones whose tokens are words


class TextModality:
    name = "text"
    default_backbone = "minilm_l6"
    simple_features_name = "TF-IDF of word 1–2-grams and character 3–5-grams"
    baseline_estimator = "tfidf_linear"
    # pretraining continues a pretrained encoder (domain-adaptive): its WordPiece vocabulary is kept
    pretrain_from = "minilm_l6"

    def claims(self, path: Path, opts: ReadOptions) -> bool:
        if path.is_dir():
            return any(p.is_file() for p in path.glob("*/*.txt"))
        if path.suffix.lower() in JSONL_SUFFIXES:
            return True
        if path.suffix.lower() not in (".csv", ".tsv") or not path.is_file():
            return False
        header, _ = read_rows(path)
        return text_column(header, opts) in header

    def read(self, path: Path, opts: ReadOptions) -> SampleTable:
        return read_text_folder(path, opts) if path.is_dir() else read_text_records(path, opts)

    def read_inputs(self, sources: list[Path], skip_invalid: bool = False) -> tuple[list[Any], list[str], list[dict]]:
        files = [p for s in sources for p in (sorted(s.rglob("*.txt")) if s.is_dir() else [s])]
        return read_text_inputs(files, skip_invalid=skip_invalid)

    def stream_inputs(self, sources: list[Path], skip_invalid: bool, batch_size: int) -> InputStream:
        return batches_of(self.read_inputs(sources, skip_invalid), batch_size)

    def search_strategies(self, table: SampleTable) -> tuple[str, ...]:
        """AutoTransfer also races SetFit on single-label text (the few-shot recipe made for sentence encoders)."""
        return ("setfit",) if table.task.kind in ("binary", "multiclass") else ()

    def read_corpus(self, corpus: str, piece_length: int | None = None) -> tuple[list[str], str]:
        """Unlabelled reports or notes for ``pretrain --modality text`` (see ``read_text_corpus``)."""
        return read_text_corpus(corpus)

    def input_bytes(self, x: str) -> bytes:
        return x.encode()

    def backbone_kwargs(self, table: SampleTable) -> dict:
        return {}

    def preprocessing(self, card: Any, table: SampleTable, settings: dict) -> dict:
        if not card.tokenizer or card.modality not in TEXT_MODALITIES:
            raise ConfigError(
                f"backbone {card.name} does not read text: pick a text backbone (medtransfer backbones), e.g. "
                "minilm_l6, or hf:<BERT folder or hub name>."
            )
        windows = settings.get("long_inputs") == "window"
        return {"modality": self.name, "tokenizer": {**card.tokenizer, **({"windows": True} if windows else {})}}

    def describe(self, table: SampleTable, pre: dict) -> str:
        tokenizer = pre["tokenizer"]
        cover = TokenEncoder(tokenizer).coverage(table.inputs)
        words = [len(t.split()) for t in table.inputs]
        long = f"{cover['truncated']} of {cover['texts']} longer than {tokenizer['max_length']} tokens"
        long += f", read in up to {cover['windows']} windows" if tokenizer.get("windows") else ", truncated"
        return (
            f"texts of {min(words)}–{max(words)} words (median {int(np.median(words))}), "
            f"{tokenizer.get('splitter', 'hub')} tokens; {long}; {cover['unknown_tokens']} of {cover['tokens']} "
            "tokens unknown to the backbone"
        )

    def fingerprints(self, inputs: list[Any]) -> Fingerprints:
        """Exact: the text with case, spacing and punctuation ignored; near: a SimHash of its word n-grams."""
        return Fingerprints([exact_key(t) for t in inputs], simhash(inputs))

    def simple_features(self, inputs: list[Any]) -> np.ndarray:
        return ngram_counts(inputs)

    def dataset(self, inputs: list[Any], targets: np.ndarray | None, pre: dict, train: bool) -> TokenDataset:
        return TokenDataset(TokenEncoder(pre["tokenizer"]).encode(inputs), targets)


MODALITIES.register("text", description="clinical text: CSV / JSON Lines with a text column, or .txt files per class")(
    TextModality()
)
