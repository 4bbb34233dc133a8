"""Unlabelled clinical text for domain-adaptive pretraining: a built-in text dataset (its texts, labels unused),
a CSV / JSON Lines file (its text column), a folder of ``.txt`` files (one document each), or a ``.txt`` file
holding one document per line. Empty documents are left out; exact copies are kept once, so a template report
repeated a thousand times does not dominate the masked-LM loss."""

from __future__ import annotations

from pathlib import Path

from medtransfer.data.catalog import DATASETS, load_dataset, load_plugins
from medtransfer.data.text.readers import JSONL_SUFFIXES, decode, read_text_inputs
from medtransfer.errors import DataError


def read_text_corpus(corpus: str) -> tuple[list[str], str]:
    """The corpus's distinct texts in their order, and a note for the model card saying what they are."""
    path = Path(corpus)
    load_plugins()
    if not path.exists() and corpus in DATASETS:
        if DATASETS.meta(corpus).get("modality") != "text":
            raise DataError(f"corpus {corpus} is a {DATASETS.meta(corpus).get('modality')} dataset, not text.")
        table = load_dataset(corpus)
        texts, note = list(table.inputs), f"the texts of {table.source} (labels unused)"
    elif path.is_dir():
        files = sorted(path.rglob("*.txt"))
        texts, note = read_text_inputs(files, skip_invalid=True)[0], f"{len(files)} .txt files under {path.name}/"
    elif path.suffix.lower() in (".csv", ".tsv", *JSONL_SUFFIXES) and path.is_file():
        texts, note = read_text_inputs([path], skip_invalid=True)[0], f"the text column of {path.name}"
    elif path.is_file():
        texts = [line.strip() for line in decode(path).splitlines() if line.strip()]
        note = f"{path.name} (one document per line)"
    else:
        raise DataError(
            f"corpus {corpus} not found: pass a built-in text dataset (e.g. iu_xray_reports), a CSV / JSON Lines "
            "file with a text column, a folder of .txt files, or a .txt file with one document per line."
        )
    distinct = list(dict.fromkeys(t for t in texts if t))
    if not distinct:
        raise DataError(f"corpus {corpus} holds no text.")
    return distinct, f"{note}: {len(distinct):,} distinct documents"
