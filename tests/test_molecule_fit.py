"""Molecules end to end through the CLI: invalid rows stop cleanly or are dropped and listed; fit beats chance."""

from __future__ import annotations

import csv
import json

import pytest

from tests.test_cli import assert_clean_failure, run_cli

pytest.importorskip("rdkit")


@pytest.fixture
def bbbp_slice(tmp_path):
    """800 real BBBP molecules with two invalid SMILES planted at known rows."""
    from medtransfer.data.sources import read_data

    table = read_data("bbbp")
    rows = [(s, int(t)) for s, t in zip(table.inputs[:800], table.targets[:800], strict=True)]
    rows[10] = ("C1CC", rows[10][1])  # unclosed ring → CSV row 12
    rows[500] = ("N(C)(C)(C)(C)C", rows[500][1])  # pentavalent nitrogen → CSV row 502
    path = tmp_path / "bbbp_slice.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["smiles", "p_np"])
        writer.writerows(rows)
    return path


def test_invalid_smiles_stop_before_any_run_directory(tmp_path, bbbp_slice):
    out = tmp_path / "run"
    res = run_cli("fit", "--data", str(bbbp_slice), "--label-column", "p_np", "--backbone", "test_smiles_bert",
                  "--out", str(out))  # fmt: skip
    assert_clean_failure(res, "bbbp_slice.csv", "row 12 'C1CC': unclosed ring", "row 502", "--skip-invalid")
    assert not out.exists() and not out.with_name("run.partial").exists()


@pytest.mark.slow
def test_fit_on_bbbp_slice_beats_chance_and_lists_dropped_rows(tmp_path, bbbp_slice):
    out = tmp_path / "run"
    args = ["--backbone", "test_smiles_bert", "--strategy", "full", "--epochs", "4", "--no-progress"]
    res = run_cli(
        "fit", "--data", str(bbbp_slice), "--label-column", "p_np", *args, "--skip-invalid", "--out", str(out)
    )
    assert res.returncode == 0, res.stderr
    dropped = list(csv.DictReader((out / "dropped.csv").read_text().splitlines()))
    assert [d["row"] for d in dropped] == ["12", "502"] and "unclosed ring" in dropped[0]["reason"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["auroc"] > 0.6
    forest = [k for k in metrics["baselines"] if "Morgan" in k and "random forest" in k]
    assert forest and metrics["baselines"][forest[0]]["auroc"] > 0.6
    summary = json.loads((out / "data_summary.json").read_text())
    assert "Bemis–Murcko scaffold" in summary["split_method"]
    predictions = list(csv.DictReader((out / "predictions.csv").read_text().splitlines()))
    assert {p["split"] for p in predictions} == {"val", "test"}
    smi = tmp_path / "new.smi"
    smi.write_text("CCO\nc1ccccc1N\n")
    res = run_cli("predict", str(out), "--input", str(smi))
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0].startswith("new.smi:line 1\t")
    smi.write_text("CCO\nC1CC\nc1ccccc1N\n")  # line 2 is invalid
    res = run_cli("predict", str(out), "--input", str(smi))
    assert_clean_failure(res, "line 2 'C1CC'", "--skip-invalid")
    res = run_cli("predict", str(out), "--input", str(smi), "--skip-invalid", "--out", str(tmp_path / "p.csv"))
    assert res.returncode == 0, res.stderr
    predicted = [r["id"] for r in csv.DictReader((tmp_path / "p.csv").read_text().splitlines())]
    assert predicted == ["new.smi:line 1", "new.smi:line 3"]
    invalid = list(csv.DictReader((tmp_path / "p.invalid.csv").read_text().splitlines()))
    assert [(d["file"], d["row"]) for d in invalid] == [("new.smi", "2")]


@pytest.fixture
def two_assays(tmp_path):
    """A Tox21-shaped table from real data: BBBP molecules labelled for BBBP only, BACE molecules for BACE only,
    and the other cell left empty (not tested), as in an assay panel where each assay saw a subset."""
    from medtransfer.data.sources import read_data

    rows = []
    for name, column in (("bbbp", 0), ("bace", 1)):
        table = read_data(name)
        for smiles, target in zip(table.inputs[:160], table.targets[:160], strict=True):
            cells = ["", ""]
            cells[column] = str(int(target))
            rows.append([smiles, *cells])
    path = tmp_path / "assays.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["smiles", "BBBP", "BACE"])
        writer.writerows(rows)
    return path


@pytest.mark.slow
def test_missing_multitask_labels_are_masked_in_metrics_predictions_and_compare(tmp_path, two_assays):
    import numpy as np
    from sklearn.metrics import f1_score, roc_auc_score

    import medtransfer

    settings = {"backbone": "test_smiles_bert", "strategy": "full", "epochs": 2, "head_hidden": 8,
                "label_column": "BBBP,BACE", "progress": False, "gallery": False}  # fmt: skip
    result = medtransfer.fit(str(two_assays), out=str(tmp_path / "run"), **settings)
    lines = (result.run_dir / "predictions.csv").read_text().splitlines()
    rows = [r for r in csv.DictReader(lines) if r["split"] == "test"]
    assert {r["label_BACE"] for r in rows} == {"", "0", "1"}  # missing cells stay missing
    aurocs, f1s = [], []
    for name in ("BBBP", "BACE"):
        seen = [r for r in rows if r[f"label_{name}"] != ""]
        y = np.array([int(r[f"label_{name}"]) for r in seen])
        p = np.array([float(r[f"prob_{name}"]) for r in seen])
        aurocs.append(roc_auc_score(y, p))
        f1s.append(f1_score(y, p >= 0.5, zero_division=0))
    test = result.metrics["test"]
    assert test["auroc"] == pytest.approx(np.mean(aurocs)) and test["f1"] == pytest.approx(np.mean(f1s))
    assert test["auroc_ci"][0] <= test["auroc"] <= test["auroc_ci"][1]
    compared = medtransfer.compare(result.run_dir, result.run_dir)["paired_bootstrap"]
    assert compared["auroc"]["a"] == pytest.approx(test["auroc"]) and compared["auroc"]["difference"] == 0
