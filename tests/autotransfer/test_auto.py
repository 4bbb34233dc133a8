"""medtransfer auto on small real-shaped data: decisions on validation, one test score, budget, resume, seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import medtransfer

pytestmark = pytest.mark.slow
SETTINGS = {"image_size": 32, "batch_size": 16, "progress": False, "top_k": 1, "head_hidden": 16, "tune_trials": 2,
            "val_repeats": 1}  # the planted set's 20 validation rows would call for 3 splits: one test below has them


def test_auto_races_on_validation_and_scores_test_once_for_the_winner(npz_data, tmp_path, monkeypatch):
    from medtransfer.autotransfer import search

    classical = search.classical_row
    monkeypatch.setattr(search, "classical_row", lambda cfg, tables: {**classical(cfg, tables), "val_score": 0.0})
    result = medtransfer.auto(npz_data, budget="10m", out=str(tmp_path / "auto"), **SETTINGS)
    board = json.loads((result.run_dir / "leaderboard.json").read_text())
    trials = {r["trial"] for r in board["leaderboard"]}
    assert "classical" in trials and any("@random/full" in t for t in trials)  # always in the race
    assert any(t.endswith("/linear_probe") for t in trials) and board["chosen_on"] == "validation"
    winner = next(r for r in board["leaderboard"] if r["stage"] == "winner")
    assert winner["val_score"] == max(r["val_score"] for r in board["leaderboard"] if r["val_score"] is not None)
    for trial_dir in Path(str(result.run_dir) + ".trials").glob("*-*"):  # no trial read the test split
        assert "test" not in json.loads((trial_dir / "metrics.json").read_text())
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert "test" in metrics and metrics["auto"]["winner"] == board["winner"] == winner["trial"]
    assert (result.run_dir / "leaderboard.csv").read_text().startswith("trial,strategy,rung")
    # Optuna tuned the best neural trial of the race, on validation, with its study in the trials folder
    race = [r for r in board["leaderboard"] if r["stage"] != "tuned (Optuna)" and r["trial"] != "classical"
            and not r["trial"].startswith("ensemble of")]  # fmt: skip
    finalist = max((r for r in race if r["val_score"] is not None), key=lambda r: r["val_score"])
    tuned = [r for r in board["leaderboard"] if r["trial"].startswith(finalist["trial"] + " (tuned")]
    assert len(tuned) == 2 and all(r["val_score"] is not None for r in tuned)
    assert len({r["settings"]["lr"] for r in tuned}) == 2
    assert all({"mixup", "class_weights"} <= set(r["settings"]) for r in tuned)  # the image levers, tuned too
    assert (Path(str(result.run_dir) + ".trials") / "optuna.journal").is_file()
    assert "AutoTransfer leaderboard" in (result.run_dir / "report.html").read_text()
    probs = medtransfer.load(result.run_dir).predict_proba(list(np.load(npz_data)["test_images"][:3]))
    assert probs.shape == (3, 2)
    # one seed, the same leaderboard; an interrupted (here: finished) search resumes without redoing trials
    from medtransfer import pipeline

    trained = []
    original = pipeline.train_model
    monkeypatch.setattr(pipeline, "train_model", lambda *a, **k: trained.append(1) or original(*a, **k))
    again = medtransfer.auto(npz_data, budget="10m", out=str(tmp_path / "auto"), resume=True, **SETTINGS)
    assert trained == []
    same = [(r["trial"], r["rung"], r["val_score"]) for r in again.leaderboard]
    assert same == [(r["trial"], r["rung"], r["val_score"]) for r in result.leaderboard]


def test_where_the_classical_model_wins_the_user_gets_it_as_the_run(npz_data, tmp_path):
    """The planted square is linearly separable on pixels: the classical model reaches validation AUROC 1."""
    result = medtransfer.auto(npz_data, budget="10m", out=str(tmp_path / "auto"), **SETTINGS)
    board = json.loads((result.run_dir / "leaderboard.json").read_text())
    assert board["winner"] == "classical"
    model = json.loads((result.run_dir / "model" / "model.json").read_text())
    assert model["kind"] == "classical" and (result.run_dir / "model" / "classical.skops").is_file()
    images = list(np.load(npz_data)["test_images"][:4])
    loaded = medtransfer.load(result.run_dir)
    assert loaded.predict_proba(images).shape == (4, 2) and len(loaded.predict(images)) == 4
    saved = [r for r in (result.run_dir / "predictions.csv").read_text().splitlines()[1:] if ",test," in r]
    assert len(saved) == 20 and "Classical model." in (result.run_dir / "report.html").read_text()
    with pytest.raises(medtransfer.MedtransferError, match="classical model"):
        medtransfer.explain(result.run_dir, [tmp_path], method="occlusion")


def test_a_tiny_budget_is_kept(npz_data, tmp_path):
    # the whole search takes 9-13 s here (less once torch is warm): 4 s leave out the trials projected not to fit
    # (the source's full fine-tune, projected from the scratch one by their forward passes: autotransfer/costs.py)
    result = medtransfer.auto(npz_data, budget="4s", out=str(tmp_path / "auto"), **SETTINGS)
    assert result.seconds <= 4 * 1.1 + 5  # the final run gets what is left, at least a second, and its scoring
    assert any(r["stage"] == "skipped: budget" for r in result.leaderboard)


def test_a_trial_whose_first_split_shows_the_rest_cannot_fit_is_stopped_unscored(npz_data, tmp_path):
    from medtransfer.autotransfer.resplits import decision_tables
    from medtransfer.autotransfer.search import Clock, _fit_trial
    from medtransfer.config import FitConfig
    from medtransfer.pipeline import audit_data

    cfg = FitConfig(data=str(npz_data), out=str(tmp_path / "run"), **{k: v for k, v in SETTINGS.items()
                    if k not in ("top_k", "tune_trials", "val_repeats")})  # fmt: skip
    (table, split), _, _ = audit_data(cfg, None)
    tables = decision_tables(table, split, cfg.seed, 3)
    settings = {"backbone": "test_efficientnet", "pretrained": False, "strategy": "full", "epochs": 1}
    row = {"trial": "test_efficientnet@random/full", "val_score": None, "seconds": 0.0, "stage": "rung 0",
           "metric": "auroc", "rung": 0}  # fmt: skip
    clock = Clock(0.5)  # the first split alone takes longer than the whole budget: two more cannot fit
    _fit_trial(row, settings, tmp_path / "trials" / "00-r0", cfg, tables, clock, [])
    assert row["stage"] == "stopped: budget (after 1 of 3 splits)" and row["val_score"] is None
    assert row["seconds"] > 0 and "run" not in row  # no ensemble or test-time view reads a trial left unscored
    assert (tmp_path / "trials" / "00-r0").is_dir() and not (tmp_path / "trials" / "00-r0-s1").exists()
    roomy = dict(row, stage="rung 0")
    _fit_trial(roomy, settings, tmp_path / "trials" / "01-r0", cfg, tables, Clock(600.0), [])
    assert roomy["val_score"] is not None and roomy["val_sd"] is not None  # with room, all three splits ran


def test_an_interrupted_search_resumes_without_redoing_finished_trials(npz_data, tmp_path, monkeypatch):
    from medtransfer import pipeline
    from medtransfer.autotransfer import search

    real, calls = search.run_fit, []

    def interrupted(cfg, table):  # the third trial is interrupted (Ctrl-C) after two have finished
        calls.append(cfg.out)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(cfg, table)

    monkeypatch.setattr(search, "run_fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        medtransfer.auto(npz_data, budget="10m", out=str(tmp_path / "auto"), **SETTINGS)
    monkeypatch.setattr(search, "run_fit", real)
    trained, train = [], pipeline.train_model
    monkeypatch.setattr(pipeline, "train_model", lambda *a, **k: trained.append(1) or train(*a, **k))
    result = medtransfer.auto(npz_data, budget="10m", out=str(tmp_path / "auto"), resume=True, **SETTINGS)
    fitted = [r for r in result.leaderboard if r.get("run")]
    winner = result.fit.metrics["auto"]["winner"]
    final = 0 if winner == "classical" or winner.startswith("ensemble of") else 1  # the winner trained once more
    assert len(fitted) > 2 and len(trained) == len(fitted) - 2 + final


def test_a_small_validation_split_is_repeated_and_the_test_rows_never_move(npz_data, tmp_path):
    """20 validation rows: each trial is judged on the mean of 3 train / val splits of the same 80 rows."""
    import csv

    settings = {**SETTINGS, "tune_trials": 0}
    del settings["val_repeats"]
    result = medtransfer.auto(npz_data, budget="10m", out=str(tmp_path / "auto"), **settings)
    fitted = [r for r in result.leaderboard if r["val_score"] is not None]
    assert fitted and all(r["val_sd"] is not None for r in fitted)  # the classical row too
    trials = Path(str(result.run_dir) + ".trials")
    first = sorted(p for p in trials.iterdir() if p.name.endswith("-r0"))[0]
    val_ids = []
    for folder in (first, first.with_name(first.name + "-s1"), first.with_name(first.name + "-s2")):
        assert "test" not in json.loads((folder / "metrics.json").read_text())
        rows = list(csv.DictReader((folder / "predictions.csv").read_text().splitlines()))
        val_ids.append({r["id"] for r in rows if r["split"] == "val"})
    test_ids = {r["id"] for r in csv.DictReader((result.run_dir / "predictions.csv").read_text().splitlines())
                if r["split"] == "test"}  # fmt: skip
    assert len({frozenset(v) for v in val_ids}) == 3 and all(len(v) == 20 for v in val_ids)
    assert not any(v & test_ids for v in val_ids) and len(test_ids) == 20
