"""``--seeds N``: N complete runs (``<out>/seed-<k>/``) and their aggregate, mean ± sd with every seed listed."""

from __future__ import annotations

import statistics
from pathlib import Path

from medtransfer.config import FitConfig
from medtransfer.data.table import SampleTable
from medtransfer.pipeline import FitResult, run_fit
from medtransfer.run.rundir import atomic_write_text
from medtransfer.transfer_gain import run_with_scratch

SPLITS = ("val", "test")


def run_seeds(cfg: FitConfig, table: SampleTable | None = None) -> FitResult:
    """Fit seeds ``cfg.seed … cfg.seed + cfg.seeds − 1``; returns the last run with the aggregate metrics."""
    import json

    out = cfg.out_dir()
    results = []
    fit_one = run_with_scratch if cfg.compare_scratch else run_fit  # a scratch twin per seed, paired by seed
    for k in range(cfg.seeds):
        seed = cfg.seed + k
        seed_cfg = cfg.model_copy(update={"seed": seed, "seeds": 1, "out": str(out / f"seed-{seed}")})
        results.append(fit_one(seed_cfg, table))
    metrics = aggregate([r.metrics for r in results], [cfg.seed + k for k in range(cfg.seeds)])
    if cfg.compare_scratch:
        metrics["transfer_gain"] = aggregate_gain([r.metrics["transfer_gain"] for r in results], metrics["seeds"])
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2))
    atomic_write_text(out / "report.html", _summary_html(out.name, metrics))
    last = results[-1]
    return FitResult(out, metrics, last.model, cfg)


def aggregate(per_seed: list[dict], seeds: list[int]) -> dict:
    """Mean of each metric per split, its sample sd as ``<metric>_sd``, and each seed's own numbers."""
    out: dict = {"task": per_seed[0]["task"], "seeds": seeds}
    for split in SPLITS:
        names = [m for m in per_seed[0].get(split, {}) if not m.endswith("_ci")]
        values = {m: [p[split][m] for p in per_seed if m in p.get(split, {})] for m in names}
        out[split] = {}
        for m, v in values.items():
            out[split][m] = statistics.mean(v)
            if len(v) > 1:
                out[split][f"{m}_sd"] = statistics.stdev(v)
        out[f"{split}_per_seed"] = {
            str(s): {m: p[split][m] for m in names if m in p[split]}
            for s, p in zip(seeds, per_seed, strict=True)
            if split in p
        }
    return out


def aggregate_gain(gains: list[dict], seeds: list[int]) -> dict:
    """Pretrained − scratch over seeds: each seed's paired difference, their mean ± sd and how many favour transfer."""
    from medtransfer.evaluation.compare import LOWER_IS_BETTER

    metric = gains[0]["metric"]
    diffs = [g["difference"] for g in gains]
    sign = -1 if metric in LOWER_IS_BETTER else 1
    return {
        "metric": metric,
        "difference": statistics.mean(diffs),
        "difference_sd": statistics.stdev(diffs) if len(diffs) > 1 else None,
        "seeds_favouring_transfer": sum(sign * d > 0 for d in diffs),
        "per_seed": {str(s): {"difference": g["difference"], "difference_ci": g["difference_ci"],
                              "verdict": g["verdict"]} for s, g in zip(seeds, gains, strict=True)},  # fmt: skip
        "verdict": f"transfer ahead on {sum(sign * d > 0 for d in diffs)} of {len(diffs)} seeds",
    }


def _summary_html(name: str, metrics: dict) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "report" / "templates"), autoescape=select_autoescape(["html"])
    )
    return env.get_template("seeds.html").render(name=name, metrics=metrics)
