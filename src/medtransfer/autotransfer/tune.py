"""Optuna on the finalist of successive halving: learning rate, weight decay, epochs and unfrozen depth, and the
levers ``space.tuned_levers`` offers for the data (class weights, the modality's own such as mixup).

Every objective is the finalist's validation score; the test split is never read. The study lives in the
search's trials folder (a journal file) unless ``storage`` names another (``sqlite:///…``, ``postgresql://…``),
so an interrupted search resumes with the trials already told, and several workers may share one study.
Each suggestion comes from a TPE sampler seeded by the run's seed and the trial's number, so one seed gives
the same trials whether or not the search was interrupted in between.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from medtransfer.errors import ConfigError
from medtransfer.run.seeding import derive_seed

log = logging.getLogger("medtransfer")
DEPTHS = ("all", 1, 2, 4)  # backbone blocks trained: "all" is strategy full, a number is partial


def tuned_settings(trial, base: dict, base_lr: float, levers: dict[str, tuple] | None = None) -> dict:
    """One Optuna suggestion around the finalist's fit settings ``base`` (its strategy decides what is tuned),
    with one of the choices of each of ``levers`` (fit option → choices)."""
    epochs = int(base["epochs"])
    settings = {
        **base,
        "lr": trial.suggest_float("lr", base_lr / 10, base_lr * 10, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-1, log=True),
        "epochs": trial.suggest_int("epochs", max(1, epochs // 2), max(2, epochs * 2)),
    }
    # a frozen random backbone is no model and a linear probe has no depth to choose: only fine-tunes of
    # pretrained weights choose how many blocks train
    if base["strategy"] in ("full", "partial") and base.get("pretrained", True):
        depth = trial.suggest_categorical("depth", DEPTHS)
        settings.update({"strategy": "full"} if depth == "all" else {"strategy": "partial", "unfreeze_blocks": depth})
    for name, choices in (levers or {}).items():
        settings[name] = trial.suggest_categorical(name, choices)
    return settings


def open_study(trials_dir: Path, name: str, storage: str | None, fresh: bool):
    """The study at ``storage`` (default: a journal file in ``trials_dir``); ``fresh`` deletes an earlier one."""
    try:
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend
    except ImportError as exc:  # pragma: no cover - optuna ships with the auto extra
        raise ConfigError("tuning the finalist needs Optuna: pip install 'medtransfer[auto]'") from exc

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if storage is None:
        trials_dir.mkdir(parents=True, exist_ok=True)
        storage = JournalStorage(JournalFileBackend(str(trials_dir / "optuna.journal")))
    if fresh and name in {s.study_name for s in optuna.get_all_study_summaries(storage)}:
        optuna.delete_study(study_name=name, storage=storage)
    return optuna.create_study(study_name=name, storage=storage, direction="maximize", load_if_exists=True)


def tune(
    study,
    base: dict,
    base_row: dict,
    base_lr: float,
    seed: int,
    n_trials: int,
    affords: Callable[[float], bool],
    fit_trial: Callable[[dict, int], dict],
    levers: dict[str, tuple] | None = None,
) -> list[dict]:
    """Up to ``n_trials`` tuned fits of the finalist (``base`` settings, ``base_row`` its leaderboard row).

    ``affords(projected_seconds)`` says whether the budget takes one more; ``fit_trial(settings, number)`` fits
    one and returns its leaderboard row; ``levers`` are tuned too (``tuned_settings``). Trials a resumed study
    already holds are returned, not refitted."""
    import optuna

    rows = [t.user_attrs["row"] for t in study.trials if "row" in t.user_attrs]
    seconds_per_epoch = base_row["seconds"] / max(1, base_row["epochs"])
    while len(rows) < n_trials:
        number = len(rows)
        sampler_seed = derive_seed(seed, f"tune-{number}") % 2**32  # numpy takes 32 bits
        study.sampler = optuna.samplers.TPESampler(seed=sampler_seed, n_startup_trials=3)
        trial = study.ask()
        settings = tuned_settings(trial, base, base_lr, levers)
        if not affords(seconds_per_epoch * settings["epochs"]):
            study.tell(trial, state=optuna.trial.TrialState.FAIL)  # asked, never run: not a result
            log.info("auto: tuning stopped after %d trials: the budget takes no more", number)
            break
        started = time.perf_counter()
        row = fit_trial(settings, trial.number)  # the study numbers trials: unique across workers sharing it
        row["seconds"] = time.perf_counter() - started
        trial.set_user_attr("row", row)
        if row["val_score"] is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, row["val_score"])
        rows.append(row)
    return rows
