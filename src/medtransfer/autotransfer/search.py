"""``medtransfer auto``: rank the sources, race the shortlist by successive halving on validation, keep the
winner as an ordinary run directory with the leaderboard beside it.

1. ``rank`` scores every offline source on frozen train + val features; the best ``top_k`` by the linear-probe
   score go on (the cheap proxy that holds up on medical data: Juodelyte et al. 2024).
2. Each shortlisted source is fine-tuned for real with each strategy, beside the default architecture trained
   from scratch and the classical model. Rung 0 trains briefly; the best 1 / ETA go on to a rung ``ETA`` times
   longer, and so on. Every decision reads the validation split only.
3. Optuna tunes the best neural trial's learning rate, weight decay, epochs and unfrozen depth, and class
   weights and the modality's levers (images: mixup) (``autotransfer/tune.py``), again on validation, while the
   budget lasts; the mean of the best three trials (``autotransfer/ensemble.py``) and the best trial with the
   modality's test-time views on (``autotransfer/test_time.py``; images: flips) are scored on validation as more
   contestants.
4. The winner (the best on validation, or the classical model where it scores within one standard error of the
   best: ``val_scores.pick_winner``) is trained once more with the test split scored (the only test score of the
   whole search) into ``--out``, with ``leaderboard.csv`` / ``.json`` and the leaderboard in ``metrics.json``
   and the report.

The budget is wall-clock: a trial is started only when its projected time, plus what handing over the leader
would cost (the best trial's re-run, or loading and running the ensemble's members), fits in what is left, and
each fit is told the time it has (Lightning's ``max_time``). Finished trials are kept in ``<out>.trials/``, so an
interrupted search resumes (``--resume``) without redoing them.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from medtransfer.autotransfer.costs import (
    HandoverRows,
    forward_seconds,
    handover_seconds,
    projected_seconds,
    training_seconds,
)
from medtransfer.autotransfer.ensemble import ensemble_row, is_ensemble, write_ensemble_run
from medtransfer.autotransfer.handover_run import write_classical_run
from medtransfer.autotransfer.rank import CLASSICAL, Candidate, rank_candidates
from medtransfer.autotransfer.resplits import decision_tables
from medtransfer.autotransfer.shared_race import SharedRace, shared_storage
from medtransfer.autotransfer.space import (
    ETA,
    RUNGS,
    Trial,
    concat_candidate,
    race_order,
    search_space,
    searched_settings,
    searched_strategies,
    tuned_levers,
)
from medtransfer.autotransfer.test_time import tta_rows
from medtransfer.autotransfer.tune import open_study, tune
from medtransfer.autotransfer.val_scores import classical_row, metric_for, pick_winner, set_val, val_score
from medtransfer.config import FitConfig
from medtransfer.data.modality import get_modality
from medtransfer.data.table import SampleTable
from medtransfer.errors import RunError
from medtransfer.explanations.gallery import CASE_KINDS
from medtransfer.pipeline import FitResult, audit_data, run_fit
from medtransfer.report import render_report
from medtransfer.run.rundir import atomic_write_text

log = logging.getLogger("medtransfer")
SHORTLIST_SCORE = "linear_probe"
COLUMNS = ("trial", "strategy", "rung", "epochs", "metric", "val_score", "val_ci", "val_sd", "seconds", "stage",
           "settings")
TUNE_TRIALS = 6  # Optuna trials on the finalist, budget permitting
WINNER_RULE = "the best validation score; the classical model where it is within one standard error of the best"


@dataclass
class AutoResult:
    """The winner's run (``fit``), the leaderboard and the wall time the search used against its budget."""

    fit: FitResult
    leaderboard: list[dict]
    seconds: float
    budget_s: float

    @property
    def run_dir(self) -> Path:
        return self.fit.run_dir


class Clock:
    """Elapsed seconds against the budget, and what a trial may still spend: the budget less what handing over
    the leader would cost (``handover()``, kept back until the search ends)."""

    def __init__(self, budget_s: float) -> None:
        self.start, self.budget = time.perf_counter(), budget_s
        self.handover: Callable[[], float] = lambda: 0.0

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def affords(self, projected: float) -> bool:
        return self.elapsed + projected + self.handover() <= self.budget

    def left(self, keep_handover: bool = True) -> float:
        return max(1.0, self.budget - self.elapsed - (self.handover() if keep_handover else 0.0))


def run_auto(
    cfg: FitConfig,
    budget_s: float,
    top_k: int = 2,
    table: SampleTable | None = None,
    tune_trials: int = TUNE_TRIALS,
    storage: str | None = None,
    on_update: Callable[[str, list[dict], Clock], None] | None = None,
    val_repeats: int | None = None,
) -> AutoResult:
    """Search sources × strategies for ``cfg.data`` within ``budget_s`` seconds; returns the winner's run.

    ``tune_trials``: Optuna trials on the finalist (0: none); ``storage``: the Optuna study's URL (default: a
    journal file in the trials folder); ``on_update(stage, leaderboard, clock)`` is called after every trial
    (the CLI's live view); ``val_repeats``: train / validation splits per trial (default: ``resplits``)."""
    clock = Clock(budget_s)
    update = on_update or (lambda stage, board, clock: None)
    out = cfg.out_dir()
    trials_dir = out.with_name(out.name + ".trials")
    _prepare(out, trials_dir, cfg)
    (table, split), _, _ = audit_data(cfg, table)
    tables = decision_tables(table, split, cfg.seed, val_repeats)  # one, or repeated splits when validation is small
    if len(tables) > 1:
        log.info("auto: validation has %d rows: every trial is judged on the mean of %d train / validation splits",
                 len(split.indices["val"]), len(tables))  # fmt: skip
    plugin = get_modality(table.modality)
    extra = searched_settings(table, plugin, fixed=set(cfg.model_fields_set))
    ranked = rank_candidates(cfg.model_copy(update=extra[0]), None, table, only_pretrained=True)  # as trials read
    order = sorted(ranked.rows, key=lambda r: -r[SHORTLIST_SCORE])
    forward_s = forward_seconds(ranked.rows)  # what each source's forward pass costs: trials' projections scale by it
    # handing over scores val and test (and explains test cases): costs scale from the rows rank and trials timed
    cases = len(CASE_KINDS) * len(table.task.class_names) if cfg.gallery and table.task.is_classification else 0
    handed = HandoverRows(len(split.indices["val"]), len(split.indices["test"]), ranked.n, cases)
    board: list[dict] = []
    clock.handover = lambda: handover_seconds(board, forward_s, handed)
    shortlist = [Candidate.parse(r["candidate"]) for r in order[:top_k]]
    lora = frozenset(r["candidate"] for r in order[:top_k] if r.get("lora"))
    more = searched_strategies(table, plugin)
    concat = concat_candidate([r["candidate"] for r in order], plugin)
    trials = search_space(shortlist, Candidate(plugin.default_backbone, pretrained=False), extra, lora, more, concat)
    update("ranked", [], clock)
    board.append(classical_row(cfg, tables))
    alive = _rung_zero_order(trials, forward_s, trials_dir, cfg.resume)
    race = _shared_race(storage, out, cfg)  # None: this process runs the whole race itself
    for rung in range(RUNGS):
        rows = []
        if race is not None:  # workers divide the rung's trials; every worker gets every row
            run = lambda t, r: _race(t, r, cfg, tables, trials_dir, trials.index(t), clock, board, forward_s)  # noqa: E731
            rows = _shared_rung(race, alive, rung, trials, run)
            board.extend(rows)
            update(f"successive halving, rung {rung + 1} of {RUNGS}", board, clock)
        for trial in alive if race is None else ():  # appended as they come: later trials project from earlier ones
            rows.append(_race(trial, rung, cfg, tables, trials_dir, trials.index(trial), clock, board, forward_s))
            board.append(rows[-1])
            update(f"successive halving, rung {rung + 1} of {RUNGS}", board, clock)
        scored = [(t, r) for t, r in zip(alive, rows, strict=True) if r["val_score"] is not None]
        if len(scored) <= 1 or rung == RUNGS - 1:
            break
        keep = math.ceil(len(scored) / ETA)
        survivors = sorted(scored, key=lambda tr: -tr[1]["val_score"])[:keep]
        for trial, row in scored:
            row["stage"] = f"rung {rung}" + ("" if any(t == trial for t, _ in survivors) else " (pruned)")
        alive = [t for t, _ in survivors]
    shared = shared_storage(storage) if storage else None
    levers = tuned_levers(table, plugin, fixed=set(cfg.model_fields_set))
    _tune_finalist(board, cfg, tables, trials_dir, clock, tune_trials, shared, update, levers)
    ensemble = ensemble_row(board, tables, metric_for(table))  # the best few together: no training to score
    if ensemble is not None:  # the race kept back the time its handover costs
        board.append(ensemble)
        update("ensemble of the best trials", board, clock)
    views = () if "tta" in cfg.model_fields_set else getattr(plugin, "test_time_views", ())
    if tta := tta_rows(board, tables, metric_for(table), views, cfg.seed, clock.affords):
        board += tta
        update("the best trial with test-time augmentation", board, clock)
    winner, best = pick_winner(board)  # the best on validation, or the classical model within one SE of it
    if best is not winner:
        best["stage"] = "best on validation; the classical model is within one standard error and is kept"
        log.info("auto: %s scores best on validation (%.3f), but the classical model (%.3f) is within one "
                 "standard error of it: the classical model is kept", best["trial"], best["val_score"],
                 winner["val_score"])  # fmt: skip

    done: list[FitResult] = []

    def finish() -> dict:
        final, saved = _final_run(winner, board, trials, cfg, table, clock)
        done.append(final)
        for row in board:
            if row is winner:
                row["stage"] = "winner" if row is saved else "best on validation"
            elif row is saved:
                row["stage"] = "saved as the run (best neural trial)"
        _write_leaderboard(final.run_dir, board, clock, budget_s, winner)
        return {"run": str(final.run_dir)}

    if race is None:
        finish()
    else:  # one worker writes the run; every worker reports it
        race.gather(["final"], {"final": finish})
        board = json.loads((out / "leaderboard.json").read_text())["leaderboard"]
    final = done[0] if done else FitResult(out, {}, None, cfg)  # another worker's run: read from its folder
    final.metrics = json.loads((out / "metrics.json").read_text())
    return AutoResult(final, board, clock.elapsed, budget_s)


def _prepare(out: Path, trials_dir: Path, cfg: FitConfig) -> None:
    if cfg.resume:
        return
    if (out.exists() or trials_dir.exists()) and not cfg.overwrite:
        raise RunError(
            f"{out} (or {trials_dir}) holds an earlier search: --resume continues it, --overwrite replaces it."
        )
    shutil.rmtree(trials_dir, ignore_errors=True)


def _rung_zero_order(trials: list[Trial], forward_s: dict[str, float], trials_dir: Path, resume: bool) -> list[Trial]:
    """The contestants in ``race_order`` by what their passes cost at rank's forward seconds, kept in the trials
    folder: a resumed search runs (and lists) them in the order it first chose, whatever rank's timings are the
    second time (a warm feature cache times loading, not computing)."""
    path = trials_dir / "race_order.json"
    contestants = {t.label: t for t in trials if not t.classical}
    if resume and path.is_file():
        labels = json.loads(path.read_text())
        if sorted(labels) == sorted(contestants):
            return [contestants[label] for label in labels]
    order = race_order(list(contestants.values()), lambda t: training_seconds(t, 0, forward_s))
    trials_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps([t.label for t in order]))
    return order


def _shared_race(storage: str | None, out: Path, cfg: FitConfig) -> SharedRace | None:
    """The race shared through ``storage`` (None without one); a fresh search (not --resume) drops its old claims."""
    if storage is None:
        return None
    race = SharedRace(shared_storage(storage), f"medtransfer-auto-{out.name}")
    if not cfg.resume:
        race.forget()
    return race


def _shared_rung(race: SharedRace, alive: list[Trial], rung: int, trials: list[Trial], run) -> list[dict]:
    """Every row of the rung, in contestant order, whichever worker ran each (``run(trial, rung)`` runs one here)."""
    keys = [f"r{rung}/t{trials.index(t):02d}" for t in alive]
    return race.gather(keys, {k: (lambda t=t: run(t, rung)) for k, t in zip(keys, alive, strict=True)})


def _race(
    trial: Trial, rung: int, cfg: FitConfig, tables, trials_dir: Path, index: int, clock: Clock, board, forward_s
) -> dict:
    """Fit ``trial`` at ``rung`` (validation scored only) unless the budget cannot take it."""
    settings = trial.fit_settings(rung)
    row = {"trial": trial.label, "strategy": trial.strategy, "rung": rung, "epochs": settings["epochs"],
           "metric": metric_for(tables[0]), "val_score": None, "val_ci": None, "seconds": 0.0,
           "stage": f"rung {rung}"}  # fmt: skip
    projected = projected_seconds(trial, rung, board, forward_s, len(tables))
    if not clock.affords(projected):
        row["stage"] = "skipped: budget"
        return row
    return _fit_trial(row, settings, trials_dir / f"{index:02d}-r{rung}", cfg, tables, clock, board)


def _fit_trial(row: dict, settings: dict, out: Path, cfg: FitConfig, tables, clock: Clock, board) -> dict:
    """Fit one trial with validation scored only, within the time the budget leaves it, on each of the
    decision ``tables`` (its score: their mean, with their spread); fills in ``row``. A trial whose splits so far
    show that the rest cannot fit is stopped there, unscored: its projection was too short (the first of its
    kind is projected from forward passes alone, and NCCTG's first MiniLM fine-tune took twice that)."""
    started, scores, runs = time.perf_counter(), [], []
    for repeat, table in enumerate(tables):
        spent = time.perf_counter() - started
        if repeat and not clock.affords(spent / repeat * (len(tables) - repeat)):
            row.update(seconds=spent, stage=f"stopped: budget (after {repeat} of {len(tables)} splits)")
            log.info("auto: %s stopped after %d of %d splits (%.0f s): the rest would overrun the budget",
                     row["trial"], repeat, len(tables), spent)  # fmt: skip
            return row
        trial_cfg = cfg.model_copy(update={
            **settings, "score_test": False, "gallery": False, "seeds": 1, "compare_scratch": False,
            "max_seconds": clock.left(), "out": str(out.with_name(out.name + (f"-s{repeat}" if repeat else ""))),
        })  # fmt: skip
        result = run_fit(trial_cfg, table)
        scores.append(val_score(result.metrics["val"], row["metric"]))
        runs.append(result.run_dir)
    row["seconds"] = time.perf_counter() - started
    set_val(row, scores)
    row.update(run=str(runs[0]), settings=settings)
    log.info("auto: %s, rung %d: val %s %.3f (%.0f s)", row["trial"], row["rung"], row["metric"], row["val_score"],
             row["seconds"])  # fmt: skip
    return row


def _tune_finalist(board, cfg: FitConfig, tables, trials_dir: Path, clock: Clock, n_trials: int, storage, update,
                   levers: dict[str, tuple]):  # fmt: skip
    """Optuna trials around the best neural trial of the race (see ``tune.py``), with ``levers`` among the
    choices, decided on validation; each goes on ``board`` as it finishes (trials a resumed study already holds,
    at the end)."""
    ran = [r for r in board if r.get("run") and r["val_score"] is not None]
    if n_trials <= 0 or not ran:
        return
    finalist = max(ran, key=lambda r: r["val_score"])
    study = open_study(trials_dir, f"medtransfer-auto-{cfg.out_dir().name}", storage, fresh=not cfg.resume)

    def fit_tuned(settings: dict, number: int) -> dict:
        row = {**{k: finalist[k] for k in ("rung", "metric")}, "trial": f"{finalist['trial']} (tuned {number + 1})",
               "strategy": settings["strategy"], "epochs": settings["epochs"], "val_score": None, "val_ci": None,
               "seconds": 0.0, "stage": "tuned (Optuna)"}  # fmt: skip
        board.append(_fit_trial(row, settings, trials_dir / f"tune-{number:02d}", cfg, tables, clock, board))
        update("tuning the finalist (Optuna)", board, clock)
        return board[-1]

    rows = tune(study, finalist["settings"], finalist, cfg.lr, cfg.seed, n_trials,
                clock.affords, fit_tuned, levers)  # fmt: skip
    board += [r for r in rows if not any(r is b for b in board)]


def _final_run(
    winner: dict, board: list[dict], trials: list[Trial], cfg: FitConfig, table, clock: Clock
) -> tuple[FitResult, dict | None]:
    """The winner trained again with the test split scored, into ``--out``: the search's one test score."""
    if winner["trial"] == CLASSICAL:  # the user gets the classical model
        log.info("auto: the classical model wins on validation (%.3f): it is saved as the run",
                 winner["val_score"])  # fmt: skip
        return write_classical_run(cfg.model_copy(update={"score_test": True}), table), winner
    if is_ensemble(winner):  # its members as they were validated, test scored once
        log.info("auto: the ensemble of %s scores best on validation (%.3f): it is saved as the run",
                 ", ".join(winner["members"]), winner["val_score"])  # fmt: skip
        return write_ensemble_run(cfg, table, winner), winner
    neural = winner
    ran = [r for r in board if r.get("run")]
    if not ran:  # the budget allowed no trial: the first (the best-ranked source's probe) at its shortest
        log.warning("auto: the budget left no time for a trial; the best-ranked source's linear probe is saved")
        neural = {"trial": trials[0].label, "rung": 0, "settings": trials[0].fit_settings(0)}
    update = {**neural["settings"], "score_test": True, "max_seconds": clock.left(keep_handover=False)}
    return run_fit(cfg.model_copy(update=update), table), neural if ran else None


def _write_leaderboard(run_dir: Path, board: list[dict], clock: Clock, budget_s: float, winner: dict) -> None:
    """leaderboard.csv / .json beside the winner's run, and the leaderboard in its metrics.json and report."""
    ordered = sorted(board, key=lambda r: (r["val_score"] is None, -(r["val_score"] or 0.0)))
    summary = {"winner": winner["trial"], "chosen_on": "validation", "rule": WINNER_RULE, "seconds": clock.elapsed,
               "budget_s": budget_s,
               "leaderboard": [{k: r.get(k) for k in COLUMNS} for r in ordered]}  # fmt: skip
    atomic_write_text(run_dir / "leaderboard.json", json.dumps(summary, indent=2))
    with open(run_dir / "leaderboard.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({**r, "settings": json.dumps(r.get("settings"))} for r in ordered)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics["auto"] = summary
    atomic_write_text(run_dir / "metrics.json", json.dumps(metrics, indent=2))
    render_report(run_dir)
