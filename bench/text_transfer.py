"""Clinical text: the IU X-ray reports (normal vs abnormal) on a low-data curve. TF-IDF + logistic regression
(the baseline every text run computes, on the same test rows) vs the packaged MiniLM as a linear probe, fully
fine-tuned, fully fine-tuned after domain-adaptive pretraining on the reports, and SetFit. Each seed draws its
own training subsample and split; choices rest on validation only.

Domain-adaptive pretraining reads the reports without their labels, but never a report that any benchmarked
seed holds in its test split (nor a copy of one): one continued MiniLM serves every seed.

Results are appended to bench/out/text.jsonl as they come, so an interrupted benchmark resumes.

    python -m bench.text_transfer [--sizes 50,100] [--seeds 3]
"""

from __future__ import annotations

import argparse
import platform

import numpy as np

import medtransfer
from bench.common import OUT, by_seed, cell, load_results, mean_sd, paired_difference, run_once, write_section

RESULTS = OUT / "text.jsonl"
DATA = "iu_xray_reports"
DAPT = OUT / "runs" / "text-minilm-dapt"  # the continued MiniLM (weights are not committed: rebuilt here)
DAPT_STEPS = 250
# name: (backbone, strategy, fit settings). Small sets: batches of 16 and at least 150 optimizer steps
FULL = {"batch_size": 16, "min_steps": 150, "epochs": 5}  # 5 validations over the 150 steps
# heads on cached features: 600 steps cost seconds (30 epochs of one batch of 25 reports left the head unfitted)
HEAD = {"epochs": 30, "patience": 6, "min_steps": 600}
ROWS = {
    "MiniLM-L6, linear probe": ("minilm_l6", "linear_probe", HEAD),
    "MiniLM-L6, full fine-tune (lr 0.1× + layer decay 0.8)": ("minilm_l6", "full", FULL),
    "MiniLM-L6 + domain-adaptive pretraining on the reports, full fine-tune": (str(DAPT), "full", FULL),
    "SetFit (MiniLM-L6: contrastive pairs, then the head)": ("minilm_l6", "setfit", HEAD),
}
TFIDF = "TF-IDF + logistic regression"
TAGS = {row: tag for row, tag in zip(ROWS, ("linear probe", "(lr 0.1", "domain-adaptive", "SetFit"), strict=True)}


def test_reports(seeds: int) -> set[str]:
    """Every report any of ``seeds`` holds in its test split, as the leakage audit keys texts."""
    from medtransfer.config import build_config
    from medtransfer.data.text.features import exact_key
    from medtransfer.pipeline import split_for_fit

    held = set()
    for seed in range(seeds):
        table, split, _ = split_for_fit(build_config(data=DATA, seed=seed))
        held |= {exact_key(t) for t in table.subset(split.indices["test"]).inputs}
    return held


def continued_minilm(seeds: int) -> None:
    """MiniLM continued by masked-LM on the reports no benchmarked seed tests on (resumes when interrupted)."""
    if (DAPT / "card.json").is_file():
        return
    from medtransfer.data.catalog import load_dataset
    from medtransfer.data.text.features import exact_key

    held = test_reports(seeds)
    corpus = OUT / "runs" / "text-dapt-corpus.txt"
    corpus.parent.mkdir(parents=True, exist_ok=True)
    kept = [t for t in load_dataset(DATA).inputs if exact_key(t) not in held]
    corpus.write_text("\n".join(" ".join(t.split()) for t in kept) + "\n")
    medtransfer.pretrain("text", str(corpus), DAPT, init="minilm_l6", steps=DAPT_STEPS, batch_size=32, lr=1e-4,
                         max_length=128, heldout=256, eval_every=50, save_every=50, progress=False)  # fmt: skip


def fit_row(row: str, seed: int, size: int) -> dict:
    backbone, strategy, settings = ROWS[row]
    tag = "dapt-" if backbone == str(DAPT) else ""
    out = OUT / "runs" / f"text-{tag}{strategy}-{seed}-{size}"
    result = medtransfer.fit(DATA, backbone=backbone, strategy=strategy, seed=seed, max_train_samples=size or None,
                             lr=1e-3,
                             progress=False, overwrite=True, gallery=False, out=str(out), **settings)  # fmt: skip
    m = result.metrics
    tfidf = next(v for k, v in m["baselines"].items() if k.startswith("TF-IDF"))
    versus = m["versus_baseline"]
    return {"metric": "auroc", "value": m["test"]["auroc"], "val": m["val"]["auroc"], "tfidf": tfidf["auroc"],
            "difference": versus["difference"], "difference_ci": versus["difference_ci"]}  # fmt: skip


def table(sizes: list[int]) -> str:
    done = load_results(RESULTS)
    header = ("| training reports | row | **val AUROC** (chooses) | test AUROC (mean ± sd) | n "
              "| model − TF-IDF on test, paired over seeds (95% t) "
              "| seeds whose own paired bootstrap CI excludes 0 (model better) |")
    lines = [header, "|---|---|---|---|---|---|---|"]
    for size in sizes:
        tfidf: dict[str, float] = {}
        for row in ROWS:
            tfidf.update(by_seed(done, DATA, row, str(size), "tfidf"))
        if tfidf:
            lines.append(f"| {size or 'all'} | {TFIDF} | – | {cell(list(tfidf.values()))} | – | – |")
        for row in ROWS:
            value = by_seed(done, DATA, row, str(size))
            if not value:
                continue
            diff = [value[s] - tfidf[s] for s in value]
            cis = by_seed(done, DATA, row, str(size), "difference_ci")
            wins = sum(lo > 0 for lo, _ in cis.values())
            paired = paired_difference(diff) if len(diff) > 1 else f"{diff[0]:+.3f}"
            val = mean_sd(list(by_seed(done, DATA, row, str(size), "val").values()))
            lines.append(f"| {size or 'all'} | {row} | {val} | {cell(list(value.values()))} | {paired} "
                         f"| {wins} of {len(cis)} |")
    return "\n".join(lines)


def reproduce(sizes: list[int], seeds: int) -> str:
    """The commands that produced the table: one per set of rows run, with the sizes it was run at."""
    done = load_results(RESULTS)
    by_rows: dict[tuple[str, ...], list[str]] = {}
    for size in sizes:
        rows = tuple(r for r in ROWS if by_seed(done, DATA, r, str(size)))
        by_rows.setdefault(rows, []).append(str(size))
    commands = []
    for rows, run_sizes in by_rows.items():
        only = "" if len(rows) == len(ROWS) else f' --rows "{",".join(TAGS[r] for r in rows)}"'
        commands.append(f"python -m bench.text_transfer --sizes {','.join(run_sizes)} --seeds {seeds}{only}")
    return "with `MEDTRANSFER_DATA=../shared/data` set, " + "; ".join(f"`{c}`" for c in commands)


def dapt_note() -> str:
    log = (DAPT / "pretrain_log.csv").read_text().splitlines()
    first, last = (line.split(",") for line in (log[1], log[-1]))
    return f"held-out masked-LM loss {float(first[2]):.2f} → {float(last[2]):.2f}, {float(last[3]) / 60:.0f} min"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="50,100")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rows", default="", help="only the rows whose name contains one of these (comma-separated)")
    parser.add_argument("--write-only", action="store_true", help="write the docs section from the results so far")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]  # run in the order given; the table sorts them
    if args.write_only:
        return write_docs(args)
    continued_minilm(args.seeds)
    for size in sizes:
        for seed in range(args.seeds):
            for row in [r for r in ROWS if not args.rows or any(w in r for w in args.rows.split(","))]:
                run_once(RESULTS, f"{DATA}|{row}|{seed}|{size}", lambda r=row, s=seed, n=size: fit_row(r, s, n))
            write_docs(args)


def write_docs(args: argparse.Namespace) -> None:
    walls = [r["wall_s"] for r in load_results(RESULTS).values()]
    sizes = sorted((int(s) for s in args.sizes.split(",")), key=lambda n: n or float("inf"))  # 0: all
    write_section("text", f"""### Clinical text: IU X-ray reports, normal vs abnormal (low-data curve)

Training reports drawn at random from the training split per seed; validation (≈565 reports) and test (≈560)
are the full grouped splits of that seed, so every row of a seed is scored on the same test rows. AUROC with
"abnormal" as the positive class. Head lr 1e-3 (backbone 0.1× with layer decay 0.8); full fine-tunes: batches of
16, at least 150 steps, 5 validations, the best-validation epoch kept; probe and SetFit heads (on cached
features): 30 epochs and at least 600 steps, patience 6. "all": the seed's whole training split.
Machine: {platform.processor() or platform.machine()}, 2 CPU cores, no GPU;
median wall time per run {np.median(walls):.0f} s. Domain-adaptive pretraining: MiniLM continued by masked-LM
for {DAPT_STEPS} steps of 32 reports on the reports that no seed below tests on ({dapt_note()}).

{table(sizes)}

Reproduce (size 0: the whole training split): {reproduce(sizes, args.seeds)}""")


if __name__ == "__main__":
    main()
