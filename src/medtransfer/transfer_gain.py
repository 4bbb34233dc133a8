"""``--compare-scratch``: the same architecture trained from scratch, and the transfer gain with its CI."""

from __future__ import annotations

import json

from medtransfer.compare_runs import compare_runs
from medtransfer.config import FitConfig
from medtransfer.data.table import SampleTable
from medtransfer.evaluation.compare import direction, headline
from medtransfer.pipeline import FitResult, run_fit
from medtransfer.report.html import render_report
from medtransfer.run.rundir import atomic_write_text


def run_with_scratch(cfg: FitConfig, table: SampleTable | None = None) -> FitResult:
    """Fit ``cfg``, then a from-scratch twin into ``<out>-scratch``; add ``transfer_gain`` to the first run.

    The twin trains every weight (``strategy=full``) from random init: a frozen random backbone under a probe
    would be a much weaker straw man than "the same architecture trained from scratch"."""
    main = run_fit(cfg, table)
    twin = cfg.model_copy(
        update={"pretrained": False, "strategy": "full", "compare_scratch": False, "out": f"{main.run_dir}-scratch"}
    )
    scratch = run_fit(twin, table)
    comparison = compare_runs(main.run_dir, scratch.run_dir)["paired_bootstrap"]
    metric = headline(comparison)
    gain = {"metric": metric, "scratch_run": str(scratch.run_dir), **comparison[metric]}
    gain["verdict"] = verdict(metric, gain["difference_ci"])
    main.metrics["transfer_gain"] = gain
    atomic_write_text(main.run_dir / "metrics.json", json.dumps(main.metrics, indent=2))
    render_report(main.run_dir)
    return main


def verdict(metric: str, ci: list[float] | None) -> str:
    """Words for a pretrained − scratch difference interval; negative transfer is said plainly."""
    if ci is None:
        return "undetermined: the difference could not be resampled"
    return {
        "better": "transfer helps: the pretrained model beats the same architecture trained from scratch",
        "worse": "negative transfer: the pretrained model is worse than the same architecture trained from scratch",
        "unclear": "no clear difference between pretrained and from-scratch training on this test set",
    }[direction(metric, ci)]
