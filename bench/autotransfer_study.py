"""AutoTransfer's validation study (issue 17): do the transferability scores order the sources as real
fine-tunes do, and does ``auto`` pick a model close to the exhaustive grid's best at a fraction of its compute?

One protocol for every dataset: its own split at the seed, training rows capped at ``--train`` (the small-data
regime auto is for; validation and test as they are). Per seed:

1. **ground truth**: every trial of auto's own search space, with every offline pretrained source of the
   modality (not only a shortlist) × linear probe / full [/ LoRA where the backbone has attention], the
   default architecture from scratch, and the classical model, each at the settings of auto's longest rung,
   fine-tuned for real with validation and test scored;
2. ``rank`` with its default candidates: each score per candidate;
3. ``auto`` within a budget of 25% of that seed's grid seconds;
4. the old default: ``fit`` with the data alone as it was before auto (default backbone, full, 10 epochs);
5. with ``--default-budget``: ``auto`` within ``fit``'s default budget, as a user's plain ``fit`` runs it.

Every step starts from a cold feature cache, so its seconds are what it costs alone. Results go to
``bench/out/autotransfer_study.jsonl`` (resumable); ``bench.autotransfer_study_table`` writes the section.

    MEDTRANSFER_DATA=../shared/data python -m bench.autotransfer_study [--data bace,freesolv] [--seeds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
from pathlib import Path

from bench.common import OUT, load_results, run_once

RESULTS = OUT / "autotransfer_study.jsonl"
SUPERSEDED = OUT / "autotransfer_study-superseded.jsonl"  # steps measured again after a change, kept as they were
GRID_FRACTION = 0.25  # auto's budget: this share of the exhaustive grid's seconds (the target)
DATASETS = ("freesolv", "bace", "bbbp", "clintox", "amp", "splice", "breastmnist", "lipophilicity", "oct4_mafk",
            "pneumonia_small", "ncctg_lung_death_1y", "gbsg2_recurrence_3y", "breast_cancer_wisconsin",
            "iu_xray_reports")  # fmt: skip


def pneumonia_small():
    """PneumoniaMNIST small as the BreastMNIST section measures it (``bench.breastmnist_transfer``): the official
    val split as training data (validation carved from it at the seed), the official test split."""
    from bench.breastmnist_transfer import pneumonia_small as table

    return table()


DERIVED = {"pneumonia_small": pneumonia_small}  # study names whose table a bench module builds


@contextlib.contextmanager
def cold_cache():
    """A fresh, empty feature cache for one step."""
    before = os.environ.get("MEDTRANSFER_CACHE")
    with tempfile.TemporaryDirectory(prefix="mt-study-cache-") as tmp:
        os.environ["MEDTRANSFER_CACHE"] = tmp
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("MEDTRANSFER_CACHE", None)
            else:
                os.environ["MEDTRANSFER_CACHE"] = before


def config(data: str, seed: int, n_train: int, out: Path, **settings):
    from medtransfer.config import build_config

    return build_config(None, data=data, seed=seed, max_train_samples=n_train, progress=False, gallery=False,
                        out=str(out), **settings)  # fmt: skip


def metric_of(table) -> str:
    return "rmse" if table.task.kind == "regression" else "auroc"


def scored(metrics: dict, metric: str) -> dict:
    return {"val": metrics["val"].get(metric), "test": metrics["test"].get(metric)}


def grid_trials(table, ranked: dict) -> list:
    """auto's search space over every pretrained source rank found installed."""
    from medtransfer.autotransfer.rank import CLASSICAL, Candidate
    from medtransfer.autotransfer.search import SHORTLIST_SCORE
    from medtransfer.autotransfer.space import concat_candidate, search_space, searched_settings, searched_strategies
    from medtransfer.data.modality import get_modality

    plugin = get_modality(table.modality)
    sources = [r for r in ranked["rows"] if r["candidate"] != CLASSICAL and not r["candidate"].endswith("@random")]
    lora = frozenset(r["candidate"] for r in sources if r.get("lora"))
    shortlist = [Candidate.parse(r["candidate"]) for r in sources]
    # the concatenated probe reads the sources in the order auto ranks them
    concat = concat_candidate([r["candidate"] for r in sorted(sources, key=lambda r: -r[SHORTLIST_SCORE])], plugin)
    return search_space(shortlist, Candidate(plugin.default_backbone, pretrained=False),
                        searched_settings(table, plugin), lora, searched_strategies(table, plugin),
                        concat=concat)  # fmt: skip


def study(name: str, seed: int, n_train: int, default_budget: bool = False) -> None:
    """One seed of the study on the dataset ``name`` (a built-in one, or a key of ``DERIVED``)."""
    from medtransfer.data.sources import read_data

    table = DERIVED[name]() if name in DERIVED else read_data(name)
    with tempfile.TemporaryDirectory(prefix="mt-study-") as tmp:
        _study(name, table, seed, n_train, Path(tmp), default_budget)


def _study(name: str, table, seed: int, n_train: int, tmp: Path, default_budget: bool) -> None:
    from medtransfer.api import auto, rank
    from medtransfer.autotransfer.handover_run import write_classical_run
    from medtransfer.autotransfer.space import RUNGS
    from medtransfer.data.modality import get_modality
    from medtransfer.pipeline import run_fit

    metric = metric_of(table)
    key = lambda step: f"{name}|{step}|{seed}|{n_train}"  # noqa: E731

    def ranked_step() -> dict:
        with cold_cache():
            started = time.perf_counter()
            result = rank(table, seed=seed, max_train_samples=n_train)
        return {"rows": result["rows"], "scores": result["scores"], "seconds": time.perf_counter() - started}

    ranked = run_once(RESULTS, key("rank"), ranked_step)
    trials = grid_trials(table, ranked)
    for index, trial in enumerate(trials):

        def cell(trial=trial, index=index) -> dict:
            out = tmp / f"cell{index}"
            with cold_cache():
                started = time.perf_counter()
                if trial.classical:
                    result = write_classical_run(config(name, seed, n_train, out), table)
                else:
                    result = run_fit(config(name, seed, n_train, out, **trial.fit_settings(RUNGS - 1)), table)
            return {"trial": trial.label, "metric": metric, **scored(result.metrics, metric),
                    "seconds": time.perf_counter() - started}  # fmt: skip

        run_once(RESULTS, key(f"grid:{trial.label}"), cell)
    done = load_results(RESULTS)
    grid_seconds = sum(done[key(f"grid:{t.label}")]["seconds"] for t in trials)

    def auto_step(budget: float, step: str) -> dict:
        with cold_cache():
            started = time.perf_counter()
            result = auto(table, budget=budget, seed=seed, max_train_samples=n_train, progress=False,
                          gallery=False, out=str(tmp / step))  # fmt: skip
        board = json.loads((result.run_dir / "leaderboard.json").read_text())
        return {"winner": board["winner"], "metric": metric, **scored(result.fit.metrics, metric),
                "seconds": time.perf_counter() - started, "budget_s": budget, "grid_seconds": grid_seconds,
                "leaderboard": board["leaderboard"]}  # fmt: skip

    run_once(RESULTS, key("auto"), lambda: auto_step(GRID_FRACTION * grid_seconds, "auto"))
    if default_budget:  # what a user's plain `fit` spends: on a cheap grid, far more than the study's share
        from medtransfer.api import parse_budget
        from medtransfer.cli import AUTO_BUDGET

        run_once(RESULTS, key("auto_default"), lambda: auto_step(parse_budget(AUTO_BUDGET), "auto_default"))

    def old_default() -> dict:
        backbone = get_modality(table.modality).default_backbone
        with cold_cache():
            started = time.perf_counter()
            result = run_fit(config(name, seed, n_train, tmp / "default", backbone=backbone), table)
        return {"trial": f"{backbone}/full, 10 epochs (fit's defaults before auto)", "metric": metric,
                **scored(result.metrics, metric), "seconds": time.perf_counter() - started}  # fmt: skip

    run_once(RESULTS, key("old_default"), old_default)


def supersede(datasets: list[str], steps: list[str]) -> None:
    """Move the rows of ``steps`` for ``datasets`` out of the results, into SUPERSEDED with the commit now."""
    import subprocess

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    rows = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]
    moved = [r for r in rows if r["key"].split("|")[0] in datasets and r["key"].split("|")[1] in steps]
    with open(SUPERSEDED, "a") as fh:
        fh.writelines(json.dumps({**r, "superseded_at": commit}) + "\n" for r in moved)
    kept = [r for r in rows if r not in moved]
    RESULTS.write_text("".join(json.dumps(r) + "\n" for r in kept))
    print(f"superseded {len(moved)} rows (kept in {SUPERSEDED.name})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=",".join(DATASETS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--train", type=int, default=250, help="training rows per dataset (small-data regime)")
    parser.add_argument("--redo", default="", help="steps to measure again (e.g. auto after a change to the "
                        "search): their rows move to autotransfer_study-superseded.jsonl with the commit")  # fmt: skip
    parser.add_argument("--default-budget", action="store_true", help="also run auto within fit's default "
                        "budget (step auto_default)")  # fmt: skip
    args = parser.parse_args()
    if args.redo:
        supersede(args.data.split(","), args.redo.split(","))
    for data in args.data.split(","):
        for seed in range(args.seeds):
            study(data, seed, args.train, args.default_budget)
            print(f"done: {data} seed {seed}", flush=True)


if __name__ == "__main__":
    main()
