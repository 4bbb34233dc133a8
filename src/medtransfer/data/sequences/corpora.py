"""Unlabelled DNA and protein corpora for the pretraining stage: named ones from Debian packages, or a FASTA file.

Two layouts are read: FASTA (optionally .gz), and AUGUSTUS splice-site files (``dss <sequence>`` /
``ass <sequence>`` lines, ``#`` comments). Their dss / ass tags are dropped: masked-LM pretraining sees the
sequences only."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medtransfer.data.debian import debian_file
from medtransfer.data.sequences.alphabets import check_sequence
from medtransfer.errors import DataError

MIN_PIECE = 16  # shorter pieces (genome tails) teach the masked LM nothing
COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


@dataclass(frozen=True)
class NamedCorpus:
    package: str  # the Debian package that ships the files
    files: tuple[str, ...]  # paths inside the package
    note: str  # what it is, its size and licence: copied into the model card
    min_length: int = MIN_PIECE


_AUGUSTUS = "usr/share/augustus/config/species"
NAMED_CORPORA = {
    "dna": {
        "ecoli": NamedCorpus("bowtie-examples", ("usr/share/doc/bowtie/examples/genomes/NC_008253.fna.gz",),
                             "Escherichia coli 536 genome (NCBI RefSeq NC_008253, 4.94 Mb; public domain), "
                             "from the Debian package bowtie-examples"),
        # every window holds an exon-intron boundary: the eukaryotic gene grammar a bacterial genome lacks
        "augustus_splice": NamedCorpus(
            "augustus-data",
            (f"{_AUGUSTUS}/maize/maize_splicefile.txt.gz", f"{_AUGUSTUS}/schistosoma/schistosoma_splicefile.txt",
             f"{_AUGUSTUS}/brugia/brugia_splicefile", f"{_AUGUSTUS}/galdieria/galdieria_splicefile"),
            "49,841 windows of 15–82 nt around donor and acceptor splice sites of maize, Schistosoma mansoni, "
            "Brugia malayi and Galdieria sulphuraria (AUGUSTUS training sets, 2.65 Mb; Artistic licence), from "
            "the Debian package augustus-data; no primate sequence",
            min_length=15),  # maize's donor windows: 5 nt of exon, 10 of intron
    },
    "protein": {
        "uniprot20k": NamedCorpus("mmseqs2-examples", ("usr/share/doc/mmseqs2/example-data/DB.fasta.gz",),
                                  "20,000 UniProtKB sequences (9.1M residues; CC BY 4.0), from the Debian "
                                  "package mmseqs2-examples"),
    },
}  # fmt: skip


def corpus_files(corpus: str, kind: str) -> tuple[list[Path], NamedCorpus]:
    """The files of a named corpus (fetched on first use) or the one file ``corpus`` names, and its description."""
    named = NAMED_CORPORA[kind].get(corpus) or NamedCorpus("", (corpus,), Path(corpus).name)
    paths = [debian_file(named.package, f) if named.package else Path(f) for f in named.files]
    for path in paths:
        if not path.is_file():
            raise DataError(
                f"corpus {path} not found: pass a FASTA file (.fa / .fasta, optionally .gz) or one of "
                f"{', '.join(NAMED_CORPORA[kind])}."
            )
    return paths, named


def raw_sequences(path: Path) -> list[str]:
    """Every sequence in a FASTA or an AUGUSTUS splice-site file, unvalidated."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        text = fh.read()
    if text.lstrip().startswith(">"):
        blocks = text.split("\n>")
        return ["".join(b.split("\n", 1)[1].split()) for b in blocks if "\n" in b]
    fields = (line.split() for line in text.splitlines())
    return [f[1] for f in fields if len(f) >= 2 and f[0].lower() in ("dss", "ass")]


def read_corpus_pieces(
    corpus: str, kind: str, piece_length: int, exclude: tuple[str, ...] = ()
) -> tuple[list[str], str]:
    """Valid sequences cut into consecutive ``piece_length`` pieces (a genome becomes many, so every position is
    seen), and the corpus's note for the model card. Every occurrence of an ``exclude`` source's sequences (a
    built-in dataset or a FASTA file; DNA on either strand) is cut out first, so a benchmark's test sequences
    are never pretrained on."""
    paths, named = corpus_files(corpus, kind)
    sequences = [c for p in paths for c in (check_sequence(raw, kind).sequence for raw in raw_sequences(p)) if c]
    note = named.note
    if exclude:
        sequences, cut = cut_out(sequences, excluded_sequences(exclude, kind), kind)
        note += f"; {cut:,} occurrences of sequences from {', '.join(exclude)} cut out"
    pieces = [s[i : i + piece_length] for s in sequences for i in range(0, len(s), piece_length)]
    return [p for p in pieces if len(p) >= named.min_length], note


def excluded_sequences(sources: tuple[str, ...], kind: str) -> set[str]:
    """The valid sequences of each source: a built-in dataset's name or a FASTA file."""
    from medtransfer.data.catalog import DATASETS, load_dataset, load_plugins

    load_plugins()
    found: set[str] = set()
    for source in sources:
        if source in DATASETS:
            found.update(load_dataset(source).inputs)
        elif Path(source).is_file():
            found.update(c for c in (check_sequence(r, kind).sequence for r in raw_sequences(Path(source))) if c)
        else:
            raise DataError(f"--exclude {source}: not a built-in dataset or a FASTA file.")
    return found


def cut_out(sequences: list[str], unwanted: set[str], kind: str) -> tuple[list[str], int]:
    """``sequences`` with every occurrence of ``unwanted`` (and, for DNA, their reverse complements) removed: each
    sequence splits into the pieces around them. Returns the pieces and the number of occurrences cut."""
    text = "|".join(sequences)
    keep = np.ones(len(text), dtype=bool)
    targets = unwanted | ({s.translate(COMPLEMENT)[::-1] for s in unwanted} if kind == "dna" else set())
    cut = 0
    for target in targets:
        at = text.find(target)
        while at >= 0:
            keep[at : at + len(target)] = False
            cut += 1
            at = text.find(target, at + 1)
    symbols = np.frombuffer(text.encode("ascii"), dtype=np.uint8).copy()
    symbols[~keep] = ord("|")
    kept = symbols.tobytes().decode("ascii")
    return [s for s in kept.split("|") if s], cut
