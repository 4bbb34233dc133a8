"""Commands that choose for the user: ``auto`` (the search) and ``rank`` (transferability scores); ``fit``
without a backbone or strategy runs the same search (``run_search``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

from medtransfer.cli import Opt, app
from medtransfer.cli_output import show_metrics, show_table


@app.command()
def auto(
    data: Annotated[str, Opt("--data", "-d", help="built-in dataset, folder, CSV, .npz, FASTA or SDF")],
    budget: Annotated[str, Opt(help="wall-clock budget: 90s, 10m, 1h")] = "10m",
    top_k: Annotated[int, Opt(help="sources shortlisted by rank for real fine-tunes")] = 2,
    tune_trials: Annotated[int, Opt(help="Optuna trials on the finalist's lr, weight decay, epochs, depth")] = 6,
    storage: Annotated[str | None, Opt(help="share the race and the tuning with other workers (started with "
                                       "--resume): postgresql://…, sqlite:///…, or journal:PATH on a shared disk")
                       ] = None,  # fmt: skip
    val_repeats: Annotated[int | None, Opt(help="train / val splits each trial is judged on (default: 3 when "
                                           "validation is small, else 1)")] = None,  # fmt: skip
    label_column: Annotated[str | None, Opt()] = None,
    image_size: Annotated[int | None, Opt(help="images: fix the input size instead of searching it")] = None,
    seed: Annotated[int, Opt()] = 0,
    out: Annotated[str | None, Opt("--out", "-o", help="the winner's run directory (default runs/<data>-auto)")] = None,
    resume: Annotated[bool, Opt("--resume", help="continue an interrupted search")] = False,
    overwrite: Annotated[bool, Opt("--overwrite", help="replace an earlier search at --out")] = False,
    progress: Annotated[bool, Opt("--progress/--quiet", help="a live leaderboard, or log lines only")] = True,
) -> None:
    """Choose the source model and the fine-tuning on validation, and keep the winner as a run.

    Rank the sources, race real fine-tunes beside a from-scratch model and the classical one, tune the finalist."""
    given = {"label_column": label_column, "image_size": image_size, "out": out}
    settings = {k: v for k, v in given.items() if v is not None}
    run_search(progress, None, data=data, budget=budget, top_k=top_k, tune_trials=tune_trials, storage=storage,
               val_repeats=val_repeats, seed=seed, resume=resume, overwrite=overwrite, **settings)  # fmt: skip


def run_search(progress: bool, config: Path | None, **settings) -> None:
    """Run the search with a live leaderboard (or, ``progress`` off, log lines only) and print its outcome."""
    from medtransfer.api import auto as api_auto
    from medtransfer.autotransfer.live_view import leaderboard_rows, live_view

    if progress:  # the live view is the progress display: the trials' own bars would tear it
        with live_view(_log_console()) as on_update:
            result = api_auto(config=config, progress=False, on_update=on_update, **settings)
    else:
        result = api_auto(config=config, progress=False, **settings)
    show_table(leaderboard_rows(result.fit.metrics["auto"]["leaderboard"]),
           ("trial", "val", "seconds", "stage"),
           f"chosen on validation in {result.seconds:.0f} s of {result.budget_s:.0f} s; test scored once, for the "
           f"winner: {result.run_dir}  (report: {result.run_dir / 'report.html'})")  # fmt: skip
    show_metrics(result.fit.metrics)


def _log_console():
    """The console log lines print to (the RichHandler's), so a live view and the log share it."""
    from rich.logging import RichHandler

    return next((h.console for h in logging.getLogger().handlers if isinstance(h, RichHandler)), None)


@app.command()
def rank(
    data: Annotated[str, Opt("--data", "-d", help="built-in dataset, folder, CSV, .npz, FASTA or SDF")],
    candidates: Annotated[
        str | None, Opt(help="comma-separated: backbone names, name@random, classical (default: every offline one)")
    ] = None,
    label_column: Annotated[str | None, Opt()] = None,
    image_size: Annotated[int | None, Opt(help="images: input size in px (default: the backbone's)")] = None,
    seed: Annotated[int, Opt()] = 0,
    out: Annotated[Path | None, Opt("--out", "-o", help="folder for rank.json")] = None,
) -> None:
    """Rank candidate source models by transferability scores on frozen features (train + val only)."""
    from medtransfer.api import rank as api_rank

    settings = {"label_column": label_column, "image_size": image_size}
    chosen = [c for c in candidates.split(",") if c.strip()] if candidates else None
    result = api_rank(data, chosen, out, seed=seed, **{k: v for k, v in settings.items() if v is not None})
    names = result["scores"]
    rows = [
        {
            "candidate": r["candidate"],
            **{s: f"{r[s]:.3f} (#{r[s + '_rank']})" for s in names},
            "seconds": f"{r['features_seconds'] + sum(r[s + '_seconds'] for s in names):.1f}",
        }
        for r in result["rows"]
    ]
    where = f" Written: {out / 'rank.json'}" if out else ""
    show_table(rows, ("candidate", *names, "seconds"),
           f"{result['n']} train + val samples; scores cross-validated there, test unread.{where}")  # fmt: skip
