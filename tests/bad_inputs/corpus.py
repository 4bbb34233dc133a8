"""The bad-input corpus: each case writes its files and names the CLI arguments and what the error must say.

Generated at test time (nothing binary is committed). ``CASES`` must each end in one ``error:`` line
naming the file / row and the fix, exit 2, no traceback, and no run directory. ``HANDLED`` are inputs
that look odd but are valid (16-bit, palette, BOM, other delimiters) and must be read correctly.
Used by tests/bad_inputs/test_bad_inputs.py and bench/reliability.py.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class BadInput:
    name: str
    build: Callable[[Path], list[str]]  # writes files under the folder, returns the fit arguments
    needles: tuple[str, ...]  # substrings the one error line must contain


def _png(path: Path, value: int = 128, size: int = 16, mode: str = "L") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(value)
    Image.fromarray(rng.integers(0, 255, (size, size), dtype=np.uint8), mode=mode).save(path)
    return path


def _image_folder(root: Path, per_class: int = 4) -> Path:
    for label in ("benign", "malignant"):
        for i in range(per_class):
            _png(root / label / f"{i}.png", value=i + 10 * (label == "malignant"))
    return root


def _csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def _truncated(d: Path) -> list[str]:
    root = _image_folder(d / "imgs")
    good = (root / "benign" / "0.png").read_bytes()
    (root / "benign" / "broken.png").write_bytes(good[: len(good) // 2])
    return ["--data", str(root)]


def _corrupt_jpeg(d: Path) -> list[str]:
    root = _image_folder(d / "imgs")
    (root / "malignant" / "noise.jpg").write_bytes(b"\xff\xd8\xff\xe0" + np.random.default_rng(0).bytes(500))
    return ["--data", str(root)]


def _wrong_extension(d: Path) -> list[str]:
    root = _image_folder(d / "imgs")
    (root / "benign" / "notes.png").write_text("radiologist notes, not an image")
    return ["--data", str(root)]


def _zero_bytes(d: Path) -> list[str]:
    root = _image_folder(d / "imgs")
    (root / "benign" / "empty.png").write_bytes(b"")
    return ["--data", str(root)]


def _enormous_image(d: Path) -> list[str]:
    """A 60-byte PNG whose header declares 100,000 × 100,000 pixels (a decompression bomb)."""
    root = _image_folder(d / "imgs")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")
    (root / "malignant" / "bomb.png").write_bytes(png)
    return ["--data", str(root)]


def _empty_class(d: Path) -> list[str]:
    root = _image_folder(d / "imgs")
    (root / "atypical").mkdir()
    return ["--data", str(root)]


def _one_example_class(d: Path) -> list[str]:
    root = _image_folder(d / "imgs")
    _png(root / "atypical" / "only.png")
    return ["--data", str(root)]


def _missing_label_column(d: Path) -> list[str]:
    _image_folder(d / "imgs")
    path = _csv(d / "labels.csv", "path,diagnosis\nimgs/benign/0.png,benign\nimgs/malignant/0.png,malignant\n")
    return ["--data", str(path)]


def _image_csv(d: Path, cells: Callable[[str, int], str], header: str = "path,label", extra: str = "") -> list[str]:
    """The image folder and labels.csv listing it: one row per image, ``cells(class, i)`` after its path."""
    _image_folder(d / "imgs")
    rows = [f"imgs/{c}/{i}.png,{cells(c, i)}" for c in ("benign", "malignant") for i in range(4)]
    return ["--data", str(_csv(d / "labels.csv", f"{header}\n" + "\n".join(rows) + "\n" + extra))]


def _missing_image_file(d: Path) -> list[str]:
    return _image_csv(d, lambda c, i: c, extra="imgs/gone.png,benign\n")


def _nan_labels(d: Path) -> list[str]:
    return _image_csv(d, lambda c, i: "" if i == 2 else c)


def _not_utf8(d: Path) -> list[str]:
    return ["--data", str(_csv(d / "labels.csv", "path,label\nimágenes/1.png,benigno\n", encoding="latin-1"))]


def _empty_csv(d: Path) -> list[str]:
    return ["--data", str(_csv(d / "labels.csv", ""))]


def _header_only_smiles(d: Path) -> list[str]:
    return ["--data", str(_csv(d / "mols.csv", "smiles,label\n")), "--backbone", "test_smiles_bert"]


def _one_scaffold(d: Path) -> list[str]:
    rows = [f"{'C' * (i + 1)}O,{i % 2}" for i in range(12)]  # acyclic: all share the empty scaffold
    return [
        "--data",
        str(_csv(d / "mols.csv", "smiles,label\n" + "\n".join(rows) + "\n")),
        "--backbone",
        "test_smiles_bert",
    ]


def _invalid_smiles(d: Path) -> list[str]:
    rows = ["CCO,1", "c1ccccc1,0", "C1CC,1", "CCN,0", "N(C)(C)(C)(C)C,1"]
    return [
        "--data",
        str(_csv(d / "mols.csv", "smiles,label\n" + "\n".join(rows) + "\n")),
        "--backbone",
        "test_smiles_bert",
    ]


def _enormous_smiles(d: Path) -> list[str]:
    rows = ["CCO,1", "c1ccccc1,0", "C" * 5000 + ",1", "CCN,0"]
    return [
        "--data",
        str(_csv(d / "mols.csv", "smiles,label\n" + "\n".join(rows) + "\n")),
        "--backbone",
        "test_smiles_bert",
    ]


def _all_invalid_skipped(d: Path) -> list[str]:
    path = _csv(d / "mols.csv", "smiles,label\nC1CC,1\nXX,0\n")
    return ["--data", str(path), "--skip-invalid", "--backbone", "test_smiles_bert"]


def _bad_multitask_value(d: Path) -> list[str]:
    path = _csv(d / "tox.csv", "smiles,a,b\nCCO,1,0\nCCN,2,\nCCC,0,1\n")
    return ["--data", str(path), "--label-column", "a,b", "--backbone", "test_smiles_bert"]


def _image_backbone_on_molecules(d: Path) -> list[str]:
    rows = [f"C1{'C' * (i + 2)}1,{i % 2}" for i in range(12)]  # 12 ring sizes: 12 scaffolds
    return ["--data", str(_csv(d / "mols.csv", "smiles,label\n" + "\n".join(rows) + "\n")), "--backbone", "test_resnet"]


def _unknown_config_key(d: Path) -> list[str]:
    config = _csv(d / "cfg.yaml", "data: breastmnist\nlearning_rate: 0.1\n")
    return ["-c", str(config)]


def _fasta(path: Path, records: list[tuple[str, str]]) -> Path:
    return _csv(path, "".join(f">{h}\n{seq}\n" for h, seq in records))


def _dna_records(n: int = 12) -> list[tuple[str, str]]:
    rng = np.random.default_rng(3)
    return [(f"s{i} label={i % 2}", "".join(rng.choice(list("ACGT"), 40))) for i in range(n)]


def _unknown_nucleotide(d: Path) -> list[str]:
    records = _dna_records()
    records[4] = ("s4 label=0", "ACGTACGTQACGT")
    return ["--data", str(_fasta(d / "seqs.fa", records)), "--backbone", "test_dna_bert"]


def _empty_fasta_record(d: Path) -> list[str]:
    records = _dna_records()
    records[2] = ("s2 label=0", "")
    return ["--data", str(_fasta(d / "seqs.fa", records)), "--backbone", "test_dna_bert"]


def _fasta_without_labels(d: Path) -> list[str]:
    records = [(f"chr1:{i}-{i + 40}", seq) for i, (_, seq) in enumerate(_dna_records())]
    return ["--data", str(_fasta(d / "seqs.fa", records)), "--backbone", "test_dna_bert"]


def _protein_backbone_on_dna(d: Path) -> list[str]:
    return ["--data", str(_fasta(d / "seqs.fa", _dna_records())), "--backbone", "test_protein_bert"]


def _bad_residue(d: Path) -> list[str]:
    rng = np.random.default_rng(4)
    rows = [f"{''.join(rng.choice(list('ACDEFGHIKLMNPQRSTVWY'), 20))},{i % 2}" for i in range(12)]
    rows[6] = "MKTAYIAK#QRQ,0"
    return ["--data", str(_csv(d / "pep.csv", "sequence,label\n" + "\n".join(rows) + "\n")),
            "--backbone", "test_protein_bert"]  # fmt: skip


def _record_missing_from_side_labels(d: Path) -> list[str]:
    records = [(f"s{i}", seq) for i, (_, seq) in enumerate(_dna_records())]
    labels = _csv(d / "labels.csv", "id,label\n" + "".join(f"s{i},{i % 2}\n" for i in range(12) if i != 7))
    return ["--data", str(_fasta(d / "seqs.fa", records)), "--labels", str(labels), "--backbone", "test_dna_bert"]


def _cls_pooling_on_a_cnn(d: Path) -> list[str]:
    return ["--data", str(_fasta(d / "seqs.fa", _dna_records())), "--backbone", "dna_cnn", "--pooling", "cls"]


def _single_class_folder(d: Path) -> list[str]:
    root = d / "imgs"
    for i in range(6):
        _png(root / "benign" / f"{i}.png", value=i)
    return ["--data", str(root)]


def _one_class_csv(d: Path) -> list[str]:
    return _image_csv(d, lambda c, i: "tumour")


def _one_class_fasta(d: Path) -> list[str]:
    records = [(f"s{i} label=exon", seq) for i, (_, seq) in enumerate(_dna_records())]
    return ["--data", str(_fasta(d / "seqs.fa", records)), "--backbone", "test_dna_bert"]


def _all_empty_label_column(d: Path) -> list[str]:
    return _image_csv(d, lambda c, i: "")


def _duplicate_columns(d: Path) -> list[str]:
    return _image_csv(d, lambda c, i: f"{c},{c}", header="path,label,label")


def _aligned_lowercase_dna(d: Path) -> list[str]:
    records = [(h, seq.lower()[:10] + "--" + seq.lower()[10:30] + "." + seq.lower()[30:]) for h, seq in _dna_records()]
    return ["--data", str(_fasta(d / "aligned.fa", records)), "--backbone", "test_dna_bert"]


CASES = [
    BadInput("truncated PNG", _truncated, ("broken.png", "Fix or remove")),
    BadInput("corrupt JPEG", _corrupt_jpeg, ("noise.jpg",)),
    BadInput("text file named .png", _wrong_extension, ("notes.png", "wrong extension")),
    BadInput("zero-byte file", _zero_bytes, ("empty.png", "0 bytes")),
    BadInput("enormous image (decompression bomb)", _enormous_image, ("bomb.png", "Downscale")),
    BadInput("empty class folder", _empty_class, ("atypical", "empty")),
    BadInput("one-example class", _one_example_class, ("'atypical' (1)", "fewer than 2")),
    BadInput("CSV without the label column", _missing_label_column, ("'label' not found", "--label-column")),
    BadInput("CSV naming a missing image", _missing_image_file, ("gone.png", "not found")),
    BadInput("labels with NaN / empty cells", _nan_labels, ("rows 4, 8", "'label'")),
    BadInput("CSV not in UTF-8", _not_utf8, ("labels.csv", "UTF-8")),
    BadInput("empty CSV", _empty_csv, ("labels.csv", "empty")),
    BadInput("SMILES CSV with no rows", _header_only_smiles, ("mols.csv has no examples",)),
    BadInput("molecules sharing one scaffold", _one_scaffold, ("needs at least 2 distinct groups", "--split random")),
    BadInput("invalid SMILES", _invalid_smiles, ("row 4 'C1CC': unclosed ring", "row 6", "--skip-invalid")),
    BadInput("enormous SMILES", _enormous_smiles, ("row 4", "5000 characters", "limit")),
    BadInput("every SMILES invalid, --skip-invalid", _all_invalid_skipped, ("no examples",)),
    BadInput("multi-task label not 0/1", _bad_multitask_value, ("rows 3 are not", "0, 1 or empty")),
    BadInput("image backbone on molecules", _image_backbone_on_molecules, ("reads image data", "molecule backbone")),
    BadInput("unknown config key", _unknown_config_key, ("learning_rate",)),
    BadInput("unknown nucleotide", _unknown_nucleotide, ("seqs.fa", "line 9", "unknown nucleotide 'Q'", "--skip")),
    BadInput("empty FASTA record", _empty_fasta_record, ("seqs.fa", "line 5: empty sequence")),
    BadInput("FASTA headers without labels", _fasta_without_labels, ("line 1", "--label-pattern")),
    BadInput("protein backbone on DNA", _protein_backbone_on_dna, ("reads protein data", "dna backbone")),
    BadInput("unknown amino acid", _bad_residue, ("pep.csv", "row 8", "unknown amino acid '#'")),
    BadInput(
        "FASTA record missing from --labels",
        _record_missing_from_side_labels,
        ("seqs.fa, line 15", "'s7' has no row in labels.csv", "1 of 12"),
    ),  # fmt: skip
    BadInput("--pooling cls on a CNN", _cls_pooling_on_a_cnn, ("--pooling cls", "dna_cnn", "pools its own way")),
    BadInput("image folder with a single class", _single_class_folder, ("only 'benign'", "at least two classes")),
    BadInput("CSV whose labels are one class", _one_class_csv, ("single class 'tumour'", "at least two")),
    BadInput("FASTA whose labels are one class", _one_class_fasta, ("seqs.fa", "single class 'exon'", "at least two")),
    BadInput("label column all empty", _all_empty_label_column, ("'label'", "no value")),
    BadInput("duplicate column names", _duplicate_columns, ("labels.csv", "'label'", "twice")),
    BadInput("aligned lower-case DNA (gaps)", _aligned_lowercase_dna,
             ("aligned.fa", "alignment gap '-', '.'", "unaligned DNA sequence")),  # fmt: skip
]


def _sixteen_bit(d: Path) -> tuple[str, int]:
    root = _image_folder(d / "imgs")
    ramp = (np.arange(256, dtype=np.uint16).reshape(16, 16) * 200).astype(np.uint16)
    Image.fromarray(ramp).save(root / "benign" / "sixteen.png")  # mode I;16
    return str(root), 9


def _palette(d: Path) -> tuple[str, int]:
    root = _image_folder(d / "imgs")
    Image.fromarray(np.arange(256, dtype=np.uint8).reshape(16, 16)).convert("P").save(root / "benign" / "pal.png")
    return str(root), 9


def _bom_semicolon(d: Path) -> tuple[str, int]:
    _image_folder(d / "imgs")
    rows = [f"imgs/{c}/{i}.png;{c}" for c in ("benign", "malignant") for i in range(4)]
    return str(_csv(d / "labels.csv", "\ufeffpath;label\n" + "\n".join(rows) + "\n")), 8


def _tab_smiles(d: Path) -> tuple[str, int]:
    rows = [f"{'C' * (i + 1)}O\t{i % 2}" for i in range(10)]
    return str(_csv(d / "mols.csv", "smiles\tlabel\n" + "\n".join(rows) + "\n")), 10


HANDLED: dict[str, Callable[[Path], tuple[str, int]]] = {
    "16-bit PNG": _sixteen_bit,
    "palette PNG": _palette,
    "CSV with BOM and ';' delimiter": _bom_semicolon,
    "tab-delimited SMILES": _tab_smiles,
}
