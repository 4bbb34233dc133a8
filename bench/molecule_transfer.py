"""Molecules under a scaffold split: fingerprints + random forest vs own SMILES BERT (pretrained on MOSES /
from scratch), rxnfp's reaction BERT and ChemNet; plus a low-data curve on BBBP.

Every neural row uses the same head and schedule; linear-probe rows train the head on cached embeddings.
Results are appended to bench/out/molecules.jsonl as they come, so an interrupted benchmark resumes.

    python -m bench.molecule_transfer [--seeds 3] [--datasets bbbp,freesolv]
"""

from __future__ import annotations

import argparse
import platform
from functools import partial

import medtransfer
from bench.common import OUT, load_results, mean_sd, run_once, write_section

RESULTS = OUT / "molecules.jsonl"
ROWS = {  # name: (backbone, pretrained, strategy); cheapest and most telling rows first
    "own SMILES BERT, pretrained on MOSES (linear probe)": ("smiles_bert_moses", True, "linear_probe"),
    "own SMILES BERT, from scratch (full)": ("smiles_bert_moses", False, "full"),
    "ChemNet (linear probe)": ("chemnet", True, "linear_probe"),
    "rxnfp reaction BERT (linear probe)": ("rxnfp_bert", True, "linear_probe"),
    "own SMILES BERT, pretrained on MOSES (full fine-tune)": ("smiles_bert_moses", True, "full"),
}
PUBLISHED = {
    "bbbp": "0.69–0.73 (Wu et al. 2018, scaffold split)",
    "freesolv": "RMSE 2.0–2.4 (Wu et al. 2018, random split)",
}


def fit_row(data: str, backbone: str, pretrained: bool, strategy: str, seed: int, max_train: int | None) -> dict:
    epochs = 30 if strategy == "linear_probe" else 15
    result = medtransfer.fit(
        data, backbone=backbone, pretrained=pretrained, strategy=strategy, epochs=epochs, patience=6,
        lr=1e-3 if strategy == "linear_probe" else 3e-4, batch_size=64, seed=seed, max_train_samples=max_train,
        progress=False, overwrite=True,
        out=str(OUT / "runs" / f"{data}-{backbone}-{pretrained}-{strategy}-{seed}-{max_train}"),
    )  # fmt: skip
    test = result.metrics["test"]
    forest = next(v for k, v in result.metrics["baselines"].items() if "random forest" in k)
    key = "auroc" if "auroc" in test else "rmse"
    return {"metric": key, "value": test[key], "forest": forest[key]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", default="bbbp,freesolv")
    parser.add_argument("--curve", default="100,250,500")
    args = parser.parse_args()
    seeds = range(args.seeds)
    for data in args.datasets.split(","):
        for name, (backbone, pretrained, strategy) in ROWS.items():
            for seed in seeds:
                job = partial(fit_row, data, backbone, pretrained, strategy, seed, None)
                run_once(RESULTS, f"{data}|{name}|{seed}|all", job)
    for n in [int(x) for x in args.curve.split(",") if x]:
        for name in ("own SMILES BERT, pretrained on MOSES (linear probe)", "own SMILES BERT, from scratch (full)"):
            backbone, pretrained, strategy = ROWS[name]
            for seed in seeds:
                job = partial(fit_row, "bbbp", backbone, pretrained, strategy, seed, n)
                run_once(RESULTS, f"bbbp|{name}|{seed}|{n}", job)
    write_section("molecules", report(args.datasets.split(","), seeds))


def report(datasets: list[str], seeds) -> str:
    done = load_results(RESULTS)
    lines = [
        "## Molecules: scaffold split (Bemis–Murcko, balanced, seeded), test set",
        "",
        f"`python -m bench.molecule_transfer --seeds {len(seeds)}` on {platform.machine()} CPU, 2 threads;",
        "mean ± sd over seeds.",
        "Each seed is its own scaffold split, so the sd includes split variance. The forest row is the Morgan",
        "fingerprint (r=2, 2048 bits) + 500-tree random forest baseline computed inside the same runs.",
        "",
    ]
    for data in datasets:
        rows = [r for k, r in done.items() if k.startswith(f"{data}|") and k.endswith("|all")]
        if not rows:
            continue
        metric = rows[0]["metric"]
        lines += [f"### {data} (test {metric.upper()}; published: {PUBLISHED.get(data, 'n/a')})", "",
                  "| model | " + metric + " |", "|---|---|"]  # fmt: skip
        forest = [
            r["forest"]
            for k, r in done.items()
            if k.startswith(f"{data}|own SMILES BERT, pretrained on MOSES (linear") and k.endswith("|all")
        ]
        lines.append(f"| Morgan fingerprints + random forest | {mean_sd(forest)} |")
        for name in ROWS:
            vals = [done[k]["value"] for k in done if k.startswith(f"{data}|{name}|") and k.endswith("|all")]
            lines.append(f"| {name} | {mean_sd(vals)} |")
        lines.append("")
    curve = sorted({int(k.rsplit("|", 1)[1]) for k in done if k.startswith("bbbp|") and not k.endswith("|all")})
    if curve:
        lines += ["### BBBP low-data curve (test AUROC; training molecules subsampled, stratified)", "",
                  "| training molecules | pretrained (linear probe) | from scratch (full) | fingerprints + RF |",
                  "|---|---|---|---|"]  # fmt: skip
        for n in curve:
            pre = [
                r for k, r in done.items() if k.startswith("bbbp|own SMILES BERT, pretrained") and k.endswith(f"|{n}")
            ]
            scr = [
                r for k, r in done.items() if k.startswith("bbbp|own SMILES BERT, from scratch") and k.endswith(f"|{n}")
            ]
            lines.append(f"| {n} | {mean_sd([r['value'] for r in pre])} | {mean_sd([r['value'] for r in scr])} | "
                         f"{mean_sd([r['forest'] for r in pre])} |")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    main()
