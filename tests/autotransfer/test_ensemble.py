"""The ensemble contestant: scored on validation from its members' own validation probabilities, and where it
wins, handed over as a run that loads, predicts the members' mean and is refused by ONNX export in words."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

import medtransfer
from medtransfer.autotransfer.ensemble import ensemble_row
from medtransfer.data.table import SampleTable
from medtransfer.data.task import TaskSpec
from medtransfer.evaluation.predictions import prediction_rows, write_predictions

TASK = TaskSpec("binary", ("no", "yes"))


def _trial(tmp_path, name: str, probs: np.ndarray, y: np.ndarray, val: float) -> dict:
    run = tmp_path / name
    run.mkdir()
    ids = [f"case{i:02d}" for i in range(len(y))]
    rows = prediction_rows(TASK, ids, "val", y, np.stack([1 - probs, probs], axis=1))
    write_predictions(rows, run / "predictions.csv")
    return {"trial": name, "run": str(run), "val_score": val, "rung": 0}


def test_the_ensemble_is_scored_on_the_mean_of_its_members_validation_probabilities(tmp_path):
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    members = [np.clip(y * 0.3 + rng.random(40) * 0.7, 0, 1) for _ in range(4)]
    board = [_trial(tmp_path, f"t{i}", p, y, roc_auc_score(y, p)) for i, p in enumerate(members)]
    board.append({"trial": "classical", "val_score": 0.99, "rung": 0})  # never a member
    table = SampleTable("molecule", ["C"] * 40, y, TASK, [f"case{i:02d}" for i in range(40)])
    row = ensemble_row(board, [table], "auroc")
    best = sorted(board[:4], key=lambda r: -r["val_score"])[:3]
    assert row["members"] == [r["trial"] for r in best]
    mean = np.mean([members[int(r["trial"][1:])] for r in best], axis=0)
    assert row["val_score"] == pytest.approx(roc_auc_score(y, mean))
    assert ensemble_row(board[:1], [table], "auroc") is None  # one trial is no ensemble


@pytest.mark.slow
def test_a_winning_ensemble_is_the_run_and_predicts_its_members_mean(npz_data, tmp_path, monkeypatch):
    from medtransfer.autotransfer import search

    real = search.ensemble_row  # planted: the ensemble made to win, to test what the user is handed
    monkeypatch.setattr(search, "ensemble_row", lambda *a: {**real(*a), "val_score": 2.0})
    settings = {"image_size": 32, "batch_size": 16, "progress": False, "top_k": 1, "head_hidden": 16,
                "tune_trials": 0, "val_repeats": 1}  # fmt: skip
    result = medtransfer.auto(npz_data, budget="10m", out=str(tmp_path / "auto"), **settings)
    board = json.loads((result.run_dir / "leaderboard.json").read_text())
    assert board["winner"].startswith("ensemble of ")
    meta = json.loads((result.run_dir / "model" / "model.json").read_text())
    assert meta["kind"] == "ensemble" and len(meta["members"]) >= 2
    images = list(np.load(npz_data)["test_images"][:5])
    loaded = medtransfer.load(result.run_dir)
    ensemble = next(r for r in result.leaderboard if r["trial"] == board["winner"])
    member_runs = ensemble["member_runs"]
    assert len(set(ensemble["members"])) == len(member_runs) == len(meta["members"])  # distinct trials
    expected = np.mean([medtransfer.load(r).predict_proba(images) for r in member_runs], axis=0)
    assert np.allclose(loaded.predict_proba(images), expected, atol=1e-6)
    assert "test" in result.fit.metrics and len(loaded.predict(images)) == 5
    with pytest.raises(medtransfer.MedtransferError, match="ensemble of"):
        medtransfer.export(result.run_dir, tmp_path / "onnx")
    bundle = medtransfer.export(result.run_dir, tmp_path / "bundle", format="bundle")
    assert np.allclose(medtransfer.load(bundle).predict_proba(images), expected, atol=1e-6)


def test_probes_of_one_source_share_one_backbone_pass_and_predict_as_each_alone(npz_data, tmp_path, tiny_fit_settings):
    """Each probe of one source used to run the backbone itself at handover (three BERT probes: three passes)."""
    from medtransfer.autotransfer.ensemble_model import EnsembleModel, shared_passes

    fits = {"probe-a": {"strategy": "linear_probe", "lr": 1e-3}, "probe-b": {"strategy": "linear_probe", "lr": 3e-2},
            "full": {"strategy": "full"}}  # fmt: skip
    runs = [medtransfer.fit(npz_data, **{**tiny_fit_settings, "out": str(tmp_path / name), **extra}).run_dir
            for name, extra in fits.items()]  # fmt: skip
    members = [medtransfer.load(run) for run in runs]
    members[1].model.test_time_flip = True  # a mirror view averaged in by one probe: one more pass, over mirror images
    images = list(np.load(npz_data)["test_images"][:7])
    alone = [m.predict_proba(images) for m in members]
    assert not np.allclose(alone[0], alone[1])  # two heads: a shared pass must still give each its own
    ensemble = EnsembleModel(members, list(fits), members[0].task)
    assert shared_passes(ensemble.members) == [[0, 1], [2]]  # the full fine-tune changed its backbone's weights
    calls = []
    for member in members:
        member.model.backbone.register_forward_hook(lambda module, args, out: calls.append(len(args[0])))
    mean = ensemble.predict_inputs(images, members[0].modality)
    assert np.allclose(mean, np.mean(alone, axis=0), atol=1e-6)
    assert sum(calls) == 7 * 3  # the probes' pass and its mirror, and the full fine-tune's own: not 7 * 4
    members[1].model.backbone.head_drop = torch.nn.Dropout(0.5)  # an architecture that differs: no sharing
    assert shared_passes(members) == [[0], [1], [2]]
