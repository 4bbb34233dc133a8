"""AutoTransfer's validation study, from ``bench/out/autotransfer_study.jsonl`` into docs/benchmarks.md.

Per dataset and seed, with the grid of real fine-tunes as ground truth (``bench/autotransfer_study.py``):
1. each score's weighted Kendall τ (scipy's hyperbolic weights: the top of the order counts most) and
   Spearman ρ against the candidates' fine-tuned test metric, beside what a random order reaches;
2. selection regret (the grid's best test metric minus the chosen one's) of auto, of rank's top-1 (that
   source with its best strategy on validation), of fit's old default and of a random pick;
3. auto's seconds as a fraction of the grid's, and against its budget;
4. auto against the classical model on the same test rows, seed by seed.

    python -m bench.autotransfer_study_table
"""

from __future__ import annotations

import math
import platform
import statistics
from collections import defaultdict

import numpy as np
from scipy.stats import spearmanr, weightedtau

from bench.autotransfer_study import GRID_FRACTION, RESULTS
from bench.common import load_results, mean_sd, write_section

DEFAULT_SCORE = "linear_probe"  # what auto shortlists by
CHANCE_DRAWS = 4000
MIN_SEEDS = 3  # a dataset joins the tables (and the targets) once this many seeds have finished


def oriented(row: dict, split: str = "test") -> float:
    """Higher is better: AUROC as it is, RMSE negated."""
    value = row[split]
    return -value if row["metric"] == "rmse" else value


def regret(chosen: dict, best: dict) -> float:
    """AUROC points below the best; for RMSE, percent above the best RMSE."""
    if chosen["metric"] == "rmse":
        return 100 * (chosen["test"] - best["test"]) / best["test"]
    return best["test"] - chosen["test"]


def seeds_of(done: dict) -> dict[tuple[str, str], dict[str, dict]]:
    """(data, size) → seed → {step: row}, for the seeds whose auto step has finished."""
    out: dict = defaultdict(lambda: defaultdict(dict))
    for key, row in done.items():
        data, step, seed, size = key.split("|")
        out[(data, size)][seed][step] = row
    return {k: {s: steps for s, steps in v.items() if "auto" in steps} for k, v in out.items()}


def candidate_cells(grid: dict[str, dict], candidate: str) -> list[dict]:
    return [r for label, r in grid.items() if label == candidate or label.startswith(candidate + "/")]


def analyse_seed(steps: dict) -> dict:
    grid = {k.removeprefix("grid:"): r for k, r in steps.items() if k.startswith("grid:")}
    best = max(grid.values(), key=oriented)
    chosen_of = {}  # each ranked candidate with cells: its strategy chosen on validation
    for row in steps["rank"]["rows"]:
        cells = candidate_cells(grid, row["candidate"])
        if cells:
            chosen_of[row["candidate"]] = max(cells, key=lambda r: oriented(r, "val"))
    ranked = [r for r in steps["rank"]["rows"] if r["candidate"] in chosen_of]
    truth = [oriented(chosen_of[r["candidate"]]) for r in ranked]
    taus = {}
    for s in steps["rank"]["scores"]:
        values = [r[s] for r in ranked]
        taus[s] = (weightedtau(values, truth).statistic, spearmanr(values, truth).statistic)
    top = max(ranked, key=lambda r: r[DEFAULT_SCORE])["candidate"]
    classical = grid["classical"]
    auto = steps["auto"]
    if auto["metric"] == "rmse":  # percent of the classical model's RMSE that auto takes off
        gain = 100 * (classical["test"] - auto["test"]) / classical["test"]
    else:
        gain = auto["test"] - classical["test"]
    return {
        "n_candidates": len(ranked),
        "taus": taus,
        "regret": {
            "auto": regret(auto, best),
            f"rank top-1 ({DEFAULT_SCORE})": regret(chosen_of[top], best),
            "old default": regret(steps["old_default"], best) if "old_default" in steps else None,
            "auto, fit's default budget": regret(steps["auto_default"], best) if "auto_default" in steps else None,
            "random pick": statistics.mean(regret(r, best) for r in grid.values()),
        },  # fmt: skip
        "grid_seconds": sum(r["seconds"] for r in grid.values()),
        "auto_seconds": auto["seconds"],
        "budget_s": auto["budget_s"],
        "auto_vs_classical": gain,
        "winner": auto["winner"],
        "best": best["trial"],
        "metric": auto["metric"],
    }


def chance_tau(n: int, seed: int = 0) -> float:
    """The weighted τ a random order of ``n`` candidates exceeds 5% of the time."""
    rng = np.random.default_rng(seed)
    truth = np.arange(n)
    draws = [weightedtau(rng.permutation(n), truth).statistic for _ in range(CHANCE_DRAWS)]
    return float(np.percentile(draws, 95))


def main() -> None:
    begun = {k: v for k, v in seeds_of(load_results(RESULTS)).items() if v}
    studied = {k: v for k, v in begun.items() if len(v) >= MIN_SEEDS}
    partial = [f"{data} ({len(v)} of {MIN_SEEDS} seeds)" for (data, size), v in sorted(begun.items())
               if (data, size) not in studied]  # fmt: skip
    results = {k: [analyse_seed(steps) for _, steps in sorted(seeds.items())] for k, seeds in sorted(studied.items())}
    names = [f"{data} ({len(rs)} seeds, {size} training rows)" for (data, size), rs in results.items()]
    scores = list(dict.fromkeys(s for rs in results.values() for r in rs for s in r["taus"]))
    lines = [
        "## AutoTransfer's validation study (`python -m bench.autotransfer_study`, then `…_table`)",
        "",
        "Ground truth: every trial of auto's search space, with *every* offline pretrained source (not a shortlist)"
        " × linear probe / full / LoRA where the backbone has attention, the default architecture from scratch and"
        " the classical model, each fine-tuned for real at auto's longest-rung settings, validation and test scored."
        f" Then `rank` (default candidates) and `auto` within {GRID_FRACTION:.0%} of that seed's grid seconds, each"
        " from a cold feature cache; and `fit`'s old default (default backbone, full, 10 epochs). Same protocol on"
        " every dataset: its own split at the seed, training rows capped (small data), validation and test whole."
        f" Machine: {platform.machine()}, 2 CPU cores, no GPU. Seeds: n per dataset as named."
        + (f" Not in the tables until {MIN_SEEDS} seeds have finished: {', '.join(partial)}." if partial else ""),
        "",
        "### 1. Do the scores order the candidates as fine-tuning does? Weighted Kendall τ / Spearman ρ",
        "",
        "Per seed, each score's order of the ranked candidates with grid cells (sources, the default architecture"
        " at random weights, the classical features) against their fine-tuned test metric (each source with its"
        " strategy chosen on validation); mean ± sd over seeds. *Chance*: the weighted τ a random order exceeds"
        " 5% of the time for that many candidates.",
        "",
        "| score | " + " | ".join(names) + " | mean over datasets |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for s in scores:
        cells, means = [], []
        for rs in results.values():
            # a score equal for every candidate (no order at all) has no τ: counted, left out of the mean
            defined = [r["taus"][s] for r in rs if s in r["taus"] and not math.isnan(r["taus"][s][0])]
            t, rho = [d[0] for d in defined], [d[1] for d in defined]
            flat = sum(s in r["taus"] and math.isnan(r["taus"][s][0]) for r in rs)
            cell = f"τw {mean_sd(t, 2)} / ρ {mean_sd(rho, 2)}" + (f" ({flat} seed(s): one value for all)" * bool(flat))
            cells.append(cell if t or flat else "– (no regression form)")
            means += [statistics.mean(t)] if t else []
        label = f"{s}{' (default)' * (s == DEFAULT_SCORE)}"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | τw {statistics.mean(means):.2f} |")
    lines.append("| chance (95th percentile of τw) | "
                 + " | ".join(f"{chance_tau(rs[0]['n_candidates']):.2f} ({rs[0]['n_candidates']} candidates)"
                              for rs in results.values()) + " | |")  # fmt: skip
    lines += ["", "### 2. Selection regret (the grid's best test metric − the chosen one's; RMSE sets: % above the"
              " best RMSE), mean ± sd over seeds", "",
              "| choice | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]  # fmt: skip
    for choice in next(iter(results.values()))[0]["regret"]:
        row = [mean_sd([r["regret"][choice] for r in rs if r["regret"][choice] is not None]) for rs in results.values()]
        lines.append(f"| {choice} | " + " | ".join(row) + " |")
    lines += ["", "### 3. Compute, and auto against the classical model on the same test rows", "",
              "| dataset | grid (s) | auto (s) | auto / grid | auto / its budget (max) | auto − classical "
              "(AUROC; RMSE sets: % of the classical RMSE taken off) | seeds auto ≥ classical | auto's picks | "
              "grid's best on test |",
              "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, rs in zip(names, results.values(), strict=True):
        fractions = [r["auto_seconds"] / r["grid_seconds"] for r in rs]
        over = max(r["auto_seconds"] / r["budget_s"] for r in rs)
        gains = [r["auto_vs_classical"] for r in rs]
        lines.append(f"| {name} | {mean_sd([r['grid_seconds'] for r in rs], 0)} | "
                     f"{mean_sd([r['auto_seconds'] for r in rs], 0)} | {mean_sd(fractions, 2)} | {over:.2f} | "
                     f"{mean_sd(gains, 3)} | {sum(g >= 0 for g in gains)} of {len(gains)} | "
                     f"{', '.join(r['winner'] for r in rs)} | {', '.join(r['best'] for r in rs)} |")  # fmt: skip
    lines += ["", *verdicts(results, scores)]
    write_section("autotransfer-study", "\n".join(lines))
    print("\n".join(lines))


def verdicts(results: dict, scores: list[str]) -> list[str]:
    """The issue's targets, each read off the tables above."""
    runs = [r for rs in results.values() for r in rs]
    auc = [r["regret"]["auto"] for r in runs if r["metric"] != "rmse"]
    rmse = [r["regret"]["auto"] for r in runs if r["metric"] == "rmse"]
    fraction = statistics.median(r["auto_seconds"] / r["grid_seconds"] for r in runs)
    over = max(r["auto_seconds"] / r["budget_s"] for r in runs)
    gains = {k[0]: statistics.mean(r["auto_vs_classical"] for r in rs) for k, rs in results.items()}
    behind = [f"{d} ({g:+.3f})" for d, g in gains.items() if g < -0.01 and results_metric(results, d) != "rmse"]
    behind += [f"{d} ({g:+.1f}%)" for d, g in gains.items() if g < -5 and results_metric(results, d) == "rmse"]
    tau = statistics.mean(statistics.mean(r["taus"][DEFAULT_SCORE][0] for r in rs) for rs in results.values())
    met = lambda ok: "met" if ok else "**not met**"  # noqa: E731
    out = ["Targets (issue 17), over the datasets above:", ""]
    if auc:
        m = statistics.median(auc)
        out.append(f"- median regret of auto's pick ≤ 0.01 AUROC: {m:.3f} — {met(m <= 0.01)}")
    if rmse:
        m = statistics.median(rmse)
        out.append(f"- median regret on RMSE sets ≤ 5% of the RMSE: {m:.1f}% — {met(m <= 5)}")
    out += [
        f"- at ≤ 25% of the grid's compute: median {fraction:.2f} — {met(fraction <= 0.25)}",
        f"- the budget kept (never more than 10% over): at most {over:.2f} × the budget — {met(over <= 1.10)}",
        "- on no dataset more than 0.01 AUROC (5% of the RMSE) below the classical model: "
        + (f"behind on {', '.join(behind)} — **not met**" if behind else "met"),
        f"- the default score's ({DEFAULT_SCORE}) mean weighted τ ≥ 0.45: {tau:.2f} — {met(tau >= 0.45)}",
    ]
    return out


def results_metric(results: dict, data: str) -> str:
    return next(rs[0]["metric"] for (d, _), rs in results.items() if d == data)


if __name__ == "__main__":
    main()
