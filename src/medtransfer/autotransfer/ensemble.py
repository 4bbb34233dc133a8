"""The ensemble contestant: the mean of the best few trials' probabilities, judged on validation like the rest.

Its validation score costs no training: each member trial already wrote its validation probabilities
(``predictions.csv``, per decision split). Where it beats every single trial, the run handed over is the
ensemble of those very models (trained on the run's training split, as validated), with test scored once.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from medtransfer.autotransfer.rank import CLASSICAL
from medtransfer.autotransfer.val_scores import set_val, val_score
from medtransfer.config import FitConfig
from medtransfer.data.table import SampleTable
from medtransfer.evaluation.metrics import compute_metrics
from medtransfer.evaluation.predictions import prediction_arrays
from medtransfer.pipeline import FitResult

SIZE = 3  # members: the best trials on validation
PREFIX = "ensemble of "


def is_ensemble(row: dict) -> bool:
    return row["trial"].startswith(PREFIX)


def ensemble_members(board: list[dict]) -> list[dict]:
    """The rows the ensemble would average now: the ``SIZE`` best neural trials on validation, each at its best
    rung."""
    ran = [r for r in board if r.get("run") and r["val_score"] is not None and r["trial"] != CLASSICAL]
    best_of_trial: dict[str, dict] = {}  # one member per trial: its best rung
    for r in sorted(ran, key=lambda r: -r["val_score"]):
        best_of_trial.setdefault(r["trial"], r)
    return list(best_of_trial.values())[:SIZE]


def ensemble_row(board: list[dict], tables: list[SampleTable], metric: str) -> dict | None:
    """The leaderboard row of the mean of the ``SIZE`` best neural trials (two at least, each at its best rung),
    or None."""
    started = time.perf_counter()
    members = ensemble_members(board)
    if len(members) < 2:
        return None
    task = tables[0].task
    scores = []
    for repeat in range(len(tables)):
        arrays = [validation_rows(task, member_dirs(Path(m["run"]), len(tables))[repeat]) for m in members]
        ids = arrays[0][0]
        if any(a[0] != ids for a in arrays):  # members scored other rows: no fair mean
            return None
        mean = np.mean([a[2] for a in arrays], axis=0)
        metrics, _ = compute_metrics(task, arrays[0][1], mean)
        scores.append(val_score(metrics, metric))
    row = {"trial": f"{PREFIX}{len(members)}", "strategy": "mean of probabilities",
           "rung": max(m["rung"] for m in members), "epochs": 0, "metric": metric,
           "seconds": time.perf_counter() - started, "stage": "ensemble",
           "members": [m["trial"] for m in members], "member_runs": [m["run"] for m in members],
           "settings": {"members": [m["trial"] for m in members]}}  # fmt: skip
    set_val(row, scores)
    return row


def write_ensemble_run(cfg: FitConfig, table: SampleTable, row: dict) -> FitResult:
    """The ensemble of ``row``'s member trials as the run at ``cfg.out``, test scored once."""
    from medtransfer.autotransfer.ensemble_model import EnsembleModel, save_ensemble
    from medtransfer.autotransfer.handover_run import write_model_run
    from medtransfer.inference import load

    runs = [Path(r) for r in row["member_runs"]]
    model = EnsembleModel([load(r) for r in runs], list(row["members"]), table.task)
    return write_model_run(
        cfg.model_copy(update={"score_test": True}), table, model,
        lambda folder: save_ensemble(runs, model.labels, table.task, table.modality, folder),
        card={"name": "ensemble", "architecture": model.description, "pretrained": True},
        inputs_described="each member's own preprocessing",
    )  # fmt: skip


def member_dirs(run: Path, repeats: int) -> list[Path]:
    """A trial's run folder for each decision split: ``run`` for the first, ``run-s<k>`` for the others."""
    return [run if k == 0 else run.with_name(f"{run.name}-s{k}") for k in range(repeats)]


def validation_rows(task, run: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(ids, targets, probabilities) of a trial's validation rows, ordered by id."""
    rows = [r for r in csv.DictReader((run / "predictions.csv").read_text().splitlines()) if r["split"] == "val"]
    rows.sort(key=lambda r: r["id"])
    y, probs = prediction_arrays(task, rows)
    return [r["id"] for r in rows], y, probs
