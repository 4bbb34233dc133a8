"""Clinical tables: LightGBM on the columns (the baseline every table run computes, on the same test rows) vs
each row serialized as text ("mean radius: 17.99; …") and read by the packaged MiniLM (linear probe), on every
built-in table, on the full training split and on a low-data curve. Each seed draws its own split (and
subsample); choices on validation only.

    python -m bench.table_transfer [--data a,b] [--sizes 0,25,50] [--seeds 3]      (0: the whole training split)
"""

from __future__ import annotations

import argparse
import platform

import numpy as np

import medtransfer
from bench.common import OUT, by_seed, cell, load_results, mean_sd, paired_difference, run_once, write_section

RESULTS = OUT / "tables.jsonl"
DATA = ("breast_cancer_wisconsin", "gbsg2_recurrence_3y", "ncctg_lung_death_1y")
ROW = "rows as text → MiniLM-L6, linear probe"
TREES = "LightGBM on the columns"


def fit_row(data: str, seed: int, size: int) -> dict:
    out = OUT / "runs" / f"table-{data}-probe-{seed}-{size}"
    # the head trains on cached features: 600 steps cost seconds, and 30 epochs of one batch left it unfitted
    result = medtransfer.fit(data, backbone="minilm_l6", strategy="linear_probe", seed=seed, epochs=30,
                             min_steps=600, patience=6, max_train_samples=size or None, progress=False,
                             overwrite=True, gallery=False, out=str(out))  # fmt: skip
    m = result.metrics
    trees = next(v for k, v in m["baselines"].items() if "LightGBM" in k)
    return {"metric": "auroc", "value": m["test"]["auroc"], "val": m["val"]["auroc"], "trees": trees["auroc"],
            "difference_ci": m["versus_baseline"]["difference_ci"]}  # fmt: skip


def table(datasets: list[str], sizes: list[int]) -> str:
    done = load_results(RESULTS)
    lines = ["| table | training rows | row | **val AUROC** (chooses) | test AUROC (mean ± sd) | n "
             "| text probe − trees, paired (95% t) |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for data in datasets:
        for size in sizes:
            value, trees = by_seed(done, data, ROW, str(size)), by_seed(done, data, ROW, str(size), "trees")
            if not value:
                continue
            label = size or "all (70%)"
            diff = [value[s] - trees[s] for s in value]
            lines.append(f"| {data} | {label} | {TREES} | – | {cell(list(trees.values()))} | – |")
            paired = paired_difference(diff) if len(diff) > 1 else f"{diff[0]:+.3f}"
            val = mean_sd(list(by_seed(done, data, ROW, str(size), "val").values()))
            lines.append(f"| {data} | {label} | {ROW} | {val} | {cell(list(value.values()))} | {paired} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=",".join(DATA))
    parser.add_argument("--sizes", default="0,25,50")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--write-only", action="store_true", help="write the docs section from the results so far")
    args = parser.parse_args()
    datasets, sizes = args.data.split(","), [int(s) for s in args.sizes.split(",")]
    if args.write_only:
        return write_docs(args, datasets, sizes)
    for data in datasets:
        for size in sizes:
            for seed in range(args.seeds):
                run_once(RESULTS, f"{data}|{ROW}|{seed}|{size}", lambda d=data, s=seed, n=size: fit_row(d, s, n))
                write_docs(args, datasets, sizes)


def write_docs(args: argparse.Namespace, datasets: list[str], sizes: list[int]) -> None:
    walls = [r["wall_s"] for r in load_results(RESULTS).values()]
    write_section("tables", f"""### Clinical tables: trees vs rows read as text

- breast_cancer_wisconsin: 569 aspirates, 30 numeric columns; "malignant" positive.
- gbsg2_recurrence_3y: 555 node-positive breast cancer patients (686 less 131 censored before 3 years), 8
  columns, three of them categorical; "recurrence or death" positive.
- ncctg_lung_death_1y: 186 advanced lung cancer patients (228 less 42 censored before a year), 7 columns with
  missing cells; "death" positive.

Stratified random split per seed (70 / 15 / 15); "training rows" subsamples the training split. The text probe's
head: at least 600 Adam steps on the cached features, the best validation epoch kept. Machine:
{platform.processor() or platform.machine()}, 2 CPU cores, no GPU; median wall time per run {np.median(walls):.0f} s.

{table(datasets, sizes)}

Reproduce: `python -m bench.table_transfer --data {args.data} --sizes {args.sizes} --seeds {args.seeds}`""")


if __name__ == "__main__":
    main()
