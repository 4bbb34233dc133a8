"""Speed against a peer: the plain timm + PyTorch loop (bench/reference_loop.py) vs ``medtransfer fit --data
breastmnist`` as a user types it (no backbone, no strategy: the search within fit's default budget), on
BreastMNIST's official split, one run, alternating, 3 rounds (round r: seed r; the order rotates each round).

Each contestant runs in its own process (its peak memory is that process's maximum resident set). Per round
the target is the reference loop's best validation AUROC; a contestant reaches it when its handed-over model's
validation AUROC (official validation split) is at least that: for the reference, at the end of its best
epoch; for medtransfer, when its run directory is written (the model is only handed over then). Test AUROC
with medtransfer's own bootstrap CI for both.

    MEDTRANSFER_DATA=../shared/data python -m bench.speed [--rounds 3] [--epochs 10] [--budget 10m]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench.common import OUT, in_child, load_results, mean_sd, run_once, write_section

RESULTS = OUT / "speed.jsonl"
REFERENCE = "plain timm + PyTorch loop (224 px, Adam 1e-3 on all, flips, batch 32)"
DEFAULT = "medtransfer fit --data breastmnist (default: the search)"


def _npz() -> Path:
    from medtransfer.data.catalog import data_dir

    return data_dir() / "medmnist" / "breastmnist.npz"


def _test_metrics(y: np.ndarray, positive: np.ndarray) -> dict:
    from sklearn.metrics import roc_auc_score

    from medtransfer.data.task import TaskSpec
    from medtransfer.evaluation.bootstrap import confidence_intervals

    task = TaskSpec(kind="binary", class_names=("0", "1"))
    probs = np.stack([1 - positive, positive], axis=1)
    return {"auroc": float(roc_auc_score(y, positive)), "auroc_ci": confidence_intervals(task, y, probs)["auroc_ci"]}


def run_reference(seed: int, epochs: int) -> dict:
    from bench.reference_loop import train

    out = train(_npz(), seed, epochs=epochs)
    best = max(range(len(out["curve"])), key=lambda i: out["curve"][i]["val_auroc"])
    return {"val_auroc": out["best_val_auroc"], "reached_s": out["curve"][best]["seconds"], "curve": out["curve"],
            "test": _test_metrics(out["test_labels"], out["test_scores"])}  # fmt: skip


def run_default(seed: int, budget: str) -> dict:
    import medtransfer

    with tempfile.TemporaryDirectory() as tmp:
        result = medtransfer.auto("breastmnist", budget=budget, seed=seed, out=str(Path(tmp) / "run"), progress=False)
    m = result.fit.metrics
    winner = max((r for r in result.leaderboard if r["val_score"] is not None), key=lambda r: r["val_score"])
    return {"val_auroc": m["val"]["auroc"], "test": {"auroc": m["test"]["auroc"], "auroc_ci": m["test"]["auroc_ci"]},
            "winner": winner["trial"], "search_s": result.seconds}  # fmt: skip


def measure(contestant: str, seed: int, args: argparse.Namespace) -> dict:
    """Run one contestant in a child process; its result, wall time and peak resident memory."""
    row = in_child([sys.executable, "-m", "bench.speed", "--one", contestant, "--seed", str(seed),
                    "--epochs", str(args.epochs), "--budget", args.budget])  # fmt: skip
    row.setdefault("reached_s", row["wall_s"])
    return row


def table(rounds: int) -> str:
    done = load_results(RESULTS)
    lines = ["| contestant | n | wall time (s, median) | to the reference's best val AUROC (s, median) | speed-up "
             "(reference ÷ this, median of rounds) | val AUROC | test AUROC (mean ± sd) | test AUROC 95% CI, per "
             "round | peak memory (MB, median) |", "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name in (REFERENCE, DEFAULT):
        rows = {s: done[f"{name}|{s}"] for s in range(rounds) if f"{name}|{s}" in done}
        if not rows:
            continue
        ratios, reached = [], []
        for s, r in rows.items():
            ref = done.get(f"{REFERENCE}|{s}")
            hit = ref is not None and r["val_auroc"] >= ref["val_auroc"] - 1e-12
            reached.append(r["reached_s"] if hit else float("inf"))
            if hit:
                ratios.append(ref["reached_s"] / r["reached_s"])
        cis = "; ".join(f"[{r['test']['auroc_ci'][0]:.3f}, {r['test']['auroc_ci'][1]:.3f}]" for r in rows.values())
        to_target = statistics.median(reached)
        lines.append(
            f"| {name} | {len(rows)} | {statistics.median(r['wall_s'] for r in rows.values()):.0f} "
            f"| {'not reached' if to_target == float('inf') else f'{to_target:.0f}'} "
            f"| {f'{statistics.median(ratios):.2f}×' if ratios else '–'} ({len(ratios)} of {len(rows)} rounds reached) "
            f"| {mean_sd([r['val_auroc'] for r in rows.values()])} "
            f"| {mean_sd([r['test']['auroc'] for r in rows.values()])} "
            f"| {cis} | {statistics.median(r['peak_mb'] for r in rows.values()):.0f} |"
        )
    return "\n".join(lines)


def write_docs(args: argparse.Namespace) -> None:
    write_section("speed", f"""## Speed against a plain timm + PyTorch loop (`python -m bench.speed`)

BreastMNIST, official split (546 / 78 / 156). The peer is `bench/reference_loop.py`: the packaged ImageNet
EfficientNet-Lite0 through timm, torchvision transforms at 224 px with horizontal flips, batch 32, Adam lr 1e-3
on every parameter, cross-entropy, {args.epochs} epochs, the best validation epoch kept. medtransfer: `fit` as a
user types it (no backbone, no strategy: the search, budget {args.budget}). One process per measurement;
rounds alternate the order; round r uses seed r. "To the reference's best val AUROC": the reference at the end
of its best epoch; medtransfer when its run directory is written, if its handed-over model's validation AUROC
(same validation split) is at least the reference's of that round. Machine: {platform.processor() or
platform.machine()}, {os.cpu_count()} CPU cores, no GPU.

{table(args.rounds)}

Reproduce: `MEDTRANSFER_DATA=../shared/data python -m bench.speed --rounds {args.rounds} --epochs {args.epochs} \
--budget {args.budget}`""")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--budget", default="10m")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process: run one contestant
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--write-only", action="store_true")
    args = parser.parse_args()
    if args.one:
        row = run_reference(args.seed, args.epochs) if args.one == REFERENCE else run_default(args.seed, args.budget)
        Path(args.result).write_text(json.dumps(row))
        return
    if not args.write_only:
        order = [REFERENCE, DEFAULT]
        for r in range(args.rounds):
            for name in order[r % 2 :] + order[: r % 2]:
                run_once(RESULTS, f"{name}|{r}", lambda n=name, seed=r: measure(n, seed, args))
            write_docs(args)
    write_docs(args)


if __name__ == "__main__":
    main()
