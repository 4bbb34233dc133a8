"""Clinical tables end to end: rows read as text by a (tiny) language model beside LightGBM on the columns,
explained per column; the saved model predicts new rows whatever their column order, and names a column
it lacks."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import medtransfer
from medtransfer.data.catalog import load_dataset
from medtransfer.errors import DataError

pytestmark = pytest.mark.slow


def test_breast_cancer_rows_as_text_beside_lightgbm(tmp_path):
    pytest.importorskip("lightgbm")
    result = medtransfer.fit("breast_cancer_wisconsin", backbone="test_text_bert", strategy="full", epochs=2,
                             batch_size=32, progress=False, out=str(tmp_path / "run"))  # fmt: skip
    trees = next(v for k, v in result.metrics["baselines"].items() if "LightGBM" in k)
    assert trees["auroc"] > 0.95  # trees on 30 clean numeric columns: the bar any transfer must clear
    assert 0 <= result.metrics["test"]["auroc"] <= 1
    gallery = (result.run_dir / "explanations" / "gallery" / "gallery.json").read_text()
    assert '"unit": "column"' in gallery  # one attribution per column, drawn as bars

    table = load_dataset("breast_cancer_wisconsin")
    columns = list(table.inputs[0])
    path = tmp_path / "new.csv"
    with open(path, "w", newline="") as fh:  # columns reversed, and a diagnosis column the model never read
        writer = csv.writer(fh)
        writer.writerow(["id", "diagnosis", *reversed(columns)])
        for i in (0, 1):
            writer.writerow([f"c{i}", "?", *(table.inputs[i][c] for c in reversed(columns))])
    rows = medtransfer.predict(result.run_dir, [path])
    direct = medtransfer.load(result.run_dir).predict_proba(table.inputs[:2])
    assert [r["id"] for r in rows] == ["new.csv:c0", "new.csv:c1"]
    assert np.allclose([r["prob_malignant"] for r in rows], direct[:, list(table.task.class_names).index("malignant")],
                       atol=1e-5)  # fmt: skip
    (tmp_path / "short.csv").write_text("mean radius,mean texture\n17.99,10.38\n")
    with pytest.raises(DataError, match="the model reads columns .*'worst area'"):
        medtransfer.predict(result.run_dir, [tmp_path / "short.csv"])
