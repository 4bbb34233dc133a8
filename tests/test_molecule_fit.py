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
