"""Clinical tables: the reader keeps missing values and categorical columns, the schema is inferred, rows
serialize to text and back, and the trees' features are stateless."""

from __future__ import annotations

import numpy as np
import pytest

from medtransfer.data.options import ReadOptions
from medtransfer.data.sources import read_data
from medtransfer.data.tables.rows import infer_schema, parse, row_features, serialize
from medtransfer.errors import DataError

CSV = """patient_id,age,sex,smoker,crp,outcome
p1,63,F,yes,12.5,sepsis
p2,71,M,no,,well
p3,NA,F,,3.1,well
p4,55,M,yes,40,sepsis
p5,48,F,no,1.2,well
p6,80,M,ex,25,sepsis
"""


def test_a_csv_of_features_and_a_label_is_a_table_with_missing_values_kept(tmp_path):
    path = tmp_path / "labs.csv"
    path.write_text(CSV)
    table = read_data(path)
    assert table.modality == "table" and table.task.class_names == ("sepsis", "well")
    assert table.inputs[1] == {"age": "71", "sex": "M", "smoker": "no", "crp": None}
    assert table.inputs[2]["age"] is None and table.inputs[2]["smoker"] is None
    assert table.groups == ["p1", "p2", "p3", "p4", "p5", "p6"]  # patient_id: no patient in two splits
    schema = {c.name: c for c in infer_schema(table.inputs)}
    assert schema["age"].kind == "numeric" and schema["age"].missing == 1
    assert schema["sex"].kind == "categorical" and schema["sex"].levels == 2
    assert schema["smoker"].describe() == "smoker (categorical, 3 levels, 1 missing)"


def test_other_modalities_keep_their_csvs(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("note,age,label\nsmall effusion,63,a\nclear lungs,50,b\n" * 3)
    assert read_data(path).modality == "text"
    path.write_text("age,crp\n63,1\n")
    with pytest.raises(DataError, match="no reader"):
        read_data(path)  # no label column: not a table either


def test_parquet_reads_as_the_same_table(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    (tmp_path / "labs.csv").write_text(CSV)
    frame = pd.read_csv(tmp_path / "labs.csv")
    frame.to_parquet(tmp_path / "labs.parquet")
    table = read_data(tmp_path / "labs.parquet")
    assert table.modality == "table" and table.inputs[1]["crp"] is None and table.inputs[0]["age"] == "63"


def test_a_missing_label_is_named(tmp_path):
    path = tmp_path / "gap.csv"
    path.write_text(CSV.replace("p5,48,F,no,1.2,well", "p5,48,F,no,1.2,"))
    with pytest.raises(DataError, match=r"rows 6 have no value in column 'outcome'"):
        read_data(path)


def test_rows_serialize_as_text_and_back():
    row = {"age": "63", "sex": "F", "crp": None, "smoker": "ex-smoker (10 y)"}
    text = serialize(row)
    assert text == "age: 63; sex: F; smoker: ex-smoker (10 y)"  # a missing cell is left out, not imputed
    assert parse(text, list(row)) == row


def test_tree_features_keep_missing_as_nan_and_do_not_depend_on_column_order():
    rows = [{"age": "63", "sex": "F"}, {"sex": "M", "age": None}, {"age": "50", "sex": "F"}]
    x = row_features(rows)  # columns age, sex: (age number, age code, sex number, sex code)
    assert x.shape == (3, 4) and np.isnan(x[1, 0]) and x[0, 0] == 63 and np.isnan(x[0, 2])
    assert x[0, 3] == x[2, 3] != x[1, 3] and 0 < x[1, 3] <= 1  # sex F vs M: one code per level
    assert np.array_equal(row_features([{"sex": "F", "age": "63"}]), x[:1], equal_nan=True)


def test_lightgbm_baseline_learns_with_missing_values():
    pytest.importorskip("lightgbm")
    from medtransfer.data.task import TaskSpec
    from medtransfer.evaluation.baselines import classical_probs
    from medtransfer.evaluation.metrics import compute_metrics

    rng = np.random.default_rng(0)
    crp = rng.gamma(2, 10, size=400)
    y = (crp + rng.normal(0, 5, size=400) > 25).astype(int)
    rows = [{"crp": None if rng.random() < 0.2 else f"{c:.1f}", "sex": str(rng.choice(["F", "M"]))} for c in crp]
    x = row_features(rows)
    task = TaskSpec("binary", ("0", "1"))
    probs = classical_probs(task, x[:300], y[:300], x[300:], estimator="gbdt", seed=0)
    assert compute_metrics(task, y[300:], probs)[0]["auroc"] > 0.75


def test_breast_cancer_wisconsin_is_built_in():
    table = read_data("breast_cancer_wisconsin", ReadOptions())
    assert len(table) == 569 and table.class_counts() == {"malignant": 212, "benign": 357}
    assert table.task.class_names[table.task.positive_index] == "malignant"
    assert serialize(table.inputs[0]).startswith("mean radius: 17.99; mean texture: 10.38")


@pytest.mark.parametrize(
    "name, file, time, event, horizon, dropped_column",
    [("gbsg2_recurrence_3y", "gbsg2.csv", "time", "cens", 1095, None),
     ("ncctg_lung_death_1y", "lung.csv", "time", "status", 365, "inst")],
)
def test_survival_tables_become_outcomes_at_a_horizon(name, file, time, event, horizon, dropped_column):
    """Counted against the study's own CSV: an event by the horizon is positive, follow-up past it event-free is
    negative, and censoring before it is left out (named in dropped), never read as a negative."""
    import csv
    import importlib.util

    from medtransfer.data.sequences.datasets import package_file

    if importlib.util.find_spec("lifelines") is None:  # a data wheel, installed without its dependencies
        pytest.skip("pip install --no-deps lifelines==0.30.0")
    with open(package_file("lifelines", f"datasets/{file}", "")) as fh:
        raw = list(csv.DictReader(fh))
    events = sum(float(r[time]) <= horizon and r[event] == "1" for r in raw)
    unknown = sum(float(r[time]) <= horizon and r[event] != "1" for r in raw)
    table = read_data(name, ReadOptions())
    assert len(table) == len(raw) - unknown and int(table.targets.sum()) == events
    assert len(table.dropped) == unknown and all("outcome unknown" in d["reason"] for d in table.dropped)
    assert table.task.class_names[table.task.positive_index].startswith(("recurrence", "death"))
    assert time not in table.inputs[0] and event not in table.inputs[0] and dropped_column not in table.inputs[0]
    assert any(v is None for row in table.inputs for v in row.values()) == (name == "ncctg_lung_death_1y")
