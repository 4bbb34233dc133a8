"""A multi-label classical model (one forest per label) saved as a run without pickle, loaded and predicted."""

from __future__ import annotations

import json

import numpy as np

import medtransfer
from medtransfer.autotransfer.handover_run import write_classical_run
from medtransfer.config import build_config
from medtransfer.evaluation.classical_model import fit_classical


def test_a_multilabel_classical_run_loads_and_predicts_as_it_scored(tmp_path):
    from medtransfer.data.sources import read_data

    table = read_data("bbbp")
    rng = np.random.default_rng(0)
    lines = ["smiles,BBBP,half_known,never"]
    for i, (smiles, y) in enumerate(zip(table.inputs[:300], table.targets[:300], strict=True)):
        half = "" if i % 2 else str(int(rng.random() < 0.4))  # every other cell not measured
        lines.append(f"{smiles},{int(y)},{half},0")  # "never": one class only, kept as its rate
    data = tmp_path / "panel.csv"
    data.write_text("\n".join(lines) + "\n")
    cfg = build_config(None, data=str(data), label_column="BBBP,half_known,never", out=str(tmp_path / "run"),
                       progress=False, gallery=False)  # fmt: skip
    result = write_classical_run(cfg)
    meta = json.loads((result.run_dir / "model" / "model.json").read_text())
    assert [("file" in e, e.get("constant")) for e in meta["labels"]] == [(True, None), (True, None), (False, 0.0)]
    assert not list((result.run_dir / "model").glob("*.pkl"))
    loaded = medtransfer.load(result.run_dir)
    smiles = list(table.inputs[300:310])
    probs = loaded.predict_proba(smiles)
    assert probs.shape == (10, 3) and np.all(probs[:, 2] == 0.0) and probs.min() >= 0 and probs.max() <= 1
    expected = result.model.predict_features(loaded.modality.simple_features(smiles))
    assert np.allclose(probs, expected)
    import csv

    from sklearn.metrics import roc_auc_score

    rows = [r for r in csv.DictReader((result.run_dir / "predictions.csv").read_text().splitlines())
            if r["split"] == "test"]  # fmt: skip
    y, p = [int(r["label_BBBP"]) for r in rows], [float(r["prob_BBBP"]) for r in rows]
    assert roc_auc_score(y, p) > 0.6  # the forest on fingerprints learns the real label


def test_per_label_models_skip_unmeasured_cells():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((80, 4))
    y = np.stack([(x[:, 0] > 0).astype(float), np.where(np.arange(80) % 3 == 0, np.nan, (x[:, 1] > 0))], axis=1)
    from medtransfer.data.task import TaskSpec

    model = fit_classical(TaskSpec("multilabel", ("a", "b")), x, y, "planted", "linear", seed=0)
    assert model.estimator[1].n_features_in_ == 4 and len(model.estimator) == 2
    probs = model.predict_features(x)
    assert ((probs[:, 0] > 0.5) == (x[:, 0] > 0)).mean() > 0.9 and ((probs[:, 1] > 0.5) == (x[:, 1] > 0)).mean() > 0.9
