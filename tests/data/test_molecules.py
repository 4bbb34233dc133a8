"""Molecule reading: invalid / empty / exotic SMILES, SDF, multi-task, scaffold split, corpus, baseline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medtransfer.data.molecules.chem import morgan_fingerprints, parse_smiles, scaffold_of
from medtransfer.data.molecules.readers import read_molecule_csv, read_sdf, read_smiles_inputs
from medtransfer.data.options import ReadOptions
from medtransfer.data.sources import read_data
from medtransfer.data.splits import make_split
from medtransfer.errors import DataError

pytest.importorskip("rdkit")

CISPLATIN = "[NH3][Pt]([NH3])(Cl)Cl"
LONG_CHAIN = "C" * 200  # a 200-atom molecule
EXOTIC = [
    CISPLATIN,
    "[Na+].[Cl-]",
    "C[C@@H](O)[C@H](N)C(=O)O",
    "F/C=C/F",
    "[13CH4]",
    "[O-][N+](=O)c1ccccc1",
    LONG_CHAIN,
]


def write_csv(path, rows, header="smiles,label"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_exotic_smiles_are_read_and_canonical():
    for smiles in EXOTIC:
        parsed = parse_smiles(smiles)
        assert parsed.canonical, (smiles, parsed.reason)
        assert parse_smiles(parsed.canonical).canonical == parsed.canonical  # canonical is a fixed point
    assert parse_smiles("[Na+].[Cl-].c1ccccc1O", strip_salts=True).canonical == "Oc1ccccc1"


@pytest.mark.parametrize(
    ("smiles", "reason"),
    [
        ("C1CC", "unclosed ring"),
        ("N(C)(C)(C)(C)C", "valence"),
        ("c1cccc1", "kekulize"),
        ("", "empty"),
        ("CXC", "syntax"),
    ],
)
def test_invalid_smiles_carry_rdkit_reason(smiles, reason):
    parsed = parse_smiles(smiles)
    assert parsed.canonical is None and reason in parsed.reason.lower()


def test_invalid_rows_stop_the_read_naming_row_and_reason(tmp_path):
    path = write_csv(tmp_path / "mols.csv", ["CCO,1", "C1CC,0", "c1ccccc1,0", ",1", "CCN,1"])
    with pytest.raises(DataError) as err:
        read_molecule_csv(path, ReadOptions())
    message = str(err.value)
    assert "2 invalid" in message and "row 3 'C1CC': unclosed ring" in message and "row 5" in message
    assert "--skip-invalid" in message


def test_skip_invalid_drops_and_lists_them(tmp_path):
    path = write_csv(tmp_path / "mols.csv", ["CCO,1", "C1CC,0", "c1ccccc1,0", "CCN,1", *[f"{s},0" for s in EXOTIC]])
    table = read_molecule_csv(path, ReadOptions(skip_invalid=True))
    assert len(table) == 3 + len(EXOTIC) and [d["row"] for d in table.dropped] == [3]
    assert table.ids[0] == "row 2" and table.ids[2] == "row 5"


def test_multitask_labels_keep_missing_cells_as_nan(tmp_path):
    rows = ["CCO,1,,0", "CCN,0,1,", "c1ccccc1,,0,1", "CCC,1,1,1"]
    path = write_csv(tmp_path / "tox.csv", rows, header="smiles,NR-AR,SR-p53,NR-AhR")
    table = read_molecule_csv(path, ReadOptions(label_column="NR-AR,SR-p53,NR-AhR"))
    assert table.task.kind == "multilabel" and table.targets.shape == (4, 3)
    assert np.isnan(table.targets).sum() == 3 and np.nansum(table.targets) == 6


def test_masked_multitask_loss_ignores_missing_labels():
    from medtransfer.data.task import TaskSpec
    from medtransfer.train.losses import task_loss

    task = TaskSpec("multilabel", ("a", "b", "c"))
    outputs = torch.randn(4, 3, requires_grad=True)
    targets = torch.tensor([[1, np.nan, 0], [0, 1, np.nan], [np.nan, 0, 1], [1, 1, 1]], dtype=torch.float32)
    task_loss(task, outputs, targets).backward()
    assert torch.all(outputs.grad[torch.isnan(targets)] == 0)
    assert torch.all(outputs.grad[~torch.isnan(targets)] != 0)
    changed = targets.clone()
    changed[torch.isnan(targets)] = 1.0  # any value in a missing cell: the loss must not see it
    assert task_loss(task, outputs, targets).item() != task_loss(task, outputs, changed).item()
    known = ~torch.isnan(targets)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(outputs[known], targets[known])
    assert torch.isclose(task_loss(task, outputs, targets), expected)


def test_numeric_labels_are_regression(tmp_path):
    path = write_csv(tmp_path / "sol.csv", [f"{'C' * (i + 1)}O,{-0.37 * i:.2f}" for i in range(12)], "smiles,logS")
    table = read_molecule_csv(path, ReadOptions(label_column="logS"))
    assert table.task.kind == "regression" and table.targets.dtype.kind == "f"


def test_sdf_records_with_label_field(tmp_path):
    from rdkit import Chem

    blocks = []
    for smiles, label in [("CCO", 1), ("c1ccccc1", 0), ("CCN", 1), ("CCCl", 0)]:
        mol = Chem.MolFromSmiles(smiles)
        mol.SetProp("_Name", smiles)
        mol.SetProp("active", str(label))
        blocks.append(Chem.MolToMolBlock(mol) + "> <active>\n" + str(label) + "\n\n")
    path = tmp_path / "mols.sdf"
    path.write_text("$$$$\n".join(blocks) + "$$$$\n")
    table = read_sdf(path, ReadOptions(label_column="active"))
    assert table.inputs == ["CCO", "c1ccccc1", "CCN", "CCCl"] and table.targets.tolist() == [1, 0, 1, 0]
    smiles, ids, dropped = read_smiles_inputs([path])
    assert smiles == table.inputs and ids[0] == "mols.sdf:record 1" and dropped == []


def test_scaffold_split_puts_no_scaffold_in_two_splits():
    table = read_data("bbbp")
    split = make_split(table, 0.1, 0.1, seed=3)
    seen = {}
    for name, idx in split.indices.items():
        for i in idx:
            assert seen.setdefault(table.groups[i], name) == name
    sizes = split.sizes()
    assert abs(sizes["test"] - 0.1 * len(table)) < 0.02 * len(table)  # sample fractions, not group fractions
    assert "Bemis–Murcko scaffold" in split.method
    assert scaffold_of("c1ccccc1CCN") == "c1ccccc1" and scaffold_of("CCO") == ""


def test_duplicates_and_conflicting_labels_are_reported(tmp_path):
    from medtransfer.config import build_config
    from medtransfer.pipeline import audit_data

    rows = [f"{s},{i % 2}" for i, s in enumerate(["CCO", "OCC", "CCN", "c1ccccc1", "Oc1ccccc1", "CCCC"] * 4)]
    path = write_csv(tmp_path / "dups.csv", rows)
    report = audit_data(build_config(None, data=str(path), split="random"))[1]
    assert report.repeated_inputs == 24 - 5  # CCO and OCC are one molecule
    assert any(set(c["labels"]) == {"0", "1"} for c in report.conflicting_labels)


def test_fingerprint_baseline_matches_direct_sklearn():
    from sklearn.ensemble import RandomForestClassifier

    from medtransfer.data.task import TaskSpec
    from medtransfer.evaluation.baselines import classical_probs

    table = read_data("bbbp").subset(np.arange(400))
    x = morgan_fingerprints(table.inputs)
    task = TaskSpec("binary", ("0", "1"))
    ours = classical_probs(task, x[:300], table.targets[:300], x[300:], "random_forest", seed=4)
    direct = RandomForestClassifier(n_estimators=500, n_jobs=-1, random_state=4).fit(x[:300], table.targets[:300])
    np.testing.assert_allclose(ours, direct.predict_proba(x[300:]))


def test_builtin_datasets_load_with_their_tasks():
    assert read_data("freesolv").task.kind == "regression"
    hiv_like = read_data("clintox")
    assert hiv_like.task.kind == "binary" and hiv_like.modality == "molecule"
