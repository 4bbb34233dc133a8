"""Molecules under a scaffold split: fingerprints + random forest vs own SMILES BERT (pretrained on MOSES /
from scratch), rxnfp's reaction BERT and ChemNet; plus a low-data curve on BBBP.

Every neural row uses the same head and schedule; linear-probe rows train the head on cached embeddings.
Results are appended to bench/out/molecules.jsonl as they come, so an interrupted benchmark resumes.

    python -m bench.molecule_transfer [--curve 50,100,250,500]
"""

from __future__ import annotations

import argparse
import platform
from functools import partial

import medtransfer
from bench.common import OUT, cell, load_results, mean_sd, per_split, run_once, values_for, write_section

RESULTS = OUT / "molecules.jsonl"
PRETRAINED_LP = "own SMILES BERT, pretrained on MOSES (linear probe)"
SCRATCH = "own SMILES BERT, from scratch (full)"
ROWS = {  # name: (backbone, pretrained, strategy)
    PRETRAINED_LP: ("smiles_bert_moses", True, "linear_probe"),
    SCRATCH: ("smiles_bert_moses", False, "full"),
    "ChemNet (linear probe)": ("chemnet", True, "linear_probe"),
    "rxnfp reaction BERT (linear probe)": ("rxnfp_bert", True, "linear_probe"),
    "own SMILES BERT, pretrained on MOSES (full fine-tune)": ("smiles_bert_moses", True, "full"),
}
# MoleculeNet (Wu et al. 2018, Chem. Sci. 9:513, Fig./Table of test results): RF row and best model, their split
PUBLISHED = {
    "bbbp": "ROC-AUC RF 0.714, best 0.714 (MoleculeNet, scaffold split)",
    "bace": "ROC-AUC RF 0.867, best 0.867 (MoleculeNet, scaffold split)",
    "clintox": "ROC-AUC RF 0.713, best 0.832 Weave (MoleculeNet, random split, 2 tasks; ours: CT_TOX only)",
    "freesolv": "RMSE RF 2.03, best 1.15 MPNN (MoleculeNet, random split)",
    "lipophilicity": "RMSE RF 0.876, best 0.655 GC (MoleculeNet, random split)",
}
FULL_EPOCHS, FULL_PATIENCE = 10, 4  # the budget of 2 CPU cores; stated in the table header
# small training sets: batches of 16 and at least 300 optimizer steps (at 64 per batch, 10 epochs of 50
# molecules were 10 steps: no model, pretrained or not, had trained)
CURVE_SETTINGS = {"batch_size": 16, "min_steps": 300}


def fit_row(data: str, backbone: str, pretrained: bool, strategy: str, seed: int, max_train: int | None) -> dict:
    probe = strategy == "linear_probe"
    result = medtransfer.fit(
        data, backbone=backbone, pretrained=pretrained, strategy=strategy,
        epochs=30 if probe else FULL_EPOCHS, patience=6 if probe else FULL_PATIENCE,
        lr=1e-3 if probe else 3e-4, seed=seed, max_train_samples=max_train,
        progress=False, overwrite=True, gallery=False, **(CURVE_SETTINGS if max_train else {"batch_size": 64}),
        out=str(OUT / "runs" / f"{data}-{backbone}-{pretrained}-{strategy}-{seed}-{max_train}"),
    )  # fmt: skip
    test = result.metrics["test"]
    forest = next(v for k, v in result.metrics["baselines"].items() if "random forest" in k)
    key = "auroc" if "auroc" in test else "rmse"
    # the validation figure is what a choice between rows may rest on; the test figure is reported
    return {"metric": key, "value": test[key], "val": result.metrics["val"].get(key), "forest": forest[key]}


# (row, datasets, seeds): the comparison that decides "does pretraining pay" first (BBBP, 3 seeds, and
# the low-data curve), then one seed of scratch elsewhere, then the other source models. 2 CPU cores do
# not finish the whole grid in one sitting: the table says how many seeds each cell has.
PLAN = [(0, "bbbp,bace,clintox,freesolv,lipophilicity", 3), (1, "bbbp", 3), ("curve", "bbbp", 3),
        (1, "bace,clintox,freesolv", 1), (2, "bbbp", 3), (3, "bbbp", 3), (2, "bace,clintox,freesolv", 1),
        (3, "bace,clintox,freesolv", 1), (1, "bace,clintox,freesolv", 3), (2, "bace,clintox,freesolv", 3),
        (3, "bace,clintox,freesolv", 3), (2, "lipophilicity", 3), (3, "lipophilicity", 3), (1, "lipophilicity", 1),
        (4, "bbbp", 3), (1, "lipophilicity", 3), (4, "bace,clintox,freesolv", 3), (4, "lipophilicity", 3)]  # fmt: skip
DATASETS = ["bbbp", "bace", "clintox", "freesolv", "lipophilicity"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--curve", default="50,100,250,500")
    args = parser.parse_args()
    names = list(ROWS)
    for row, where, n_seeds in PLAN:
        if row == "curve":
            for n in [int(x) for x in args.curve.split(",") if x]:
                for name in (PRETRAINED_LP, SCRATCH):
                    for seed in range(n_seeds):
                        run_once(RESULTS, f"bbbp|{name}|{seed}|{n}", partial(fit_row, "bbbp", *ROWS[name], seed, n))
                write_section("molecules", report())
            continue
        for data in where.split(","):
            for seed in range(n_seeds):
                run_once(
                    RESULTS, f"{data}|{names[row]}|{seed}|all", partial(fit_row, data, *ROWS[names[row]], seed, None)
                )
            write_section("molecules", report())


def report() -> str:
    done = load_results(RESULTS)
    lines = [
        "## Molecules: scaffold split (Bemis–Murcko, balanced, seeded), test set",
        "",
        f"`python -m bench.molecule_transfer` on {platform.machine()} CPU, 2 threads; mean ± sd over seeds",
        "(n = seeds measured). Each seed is its own scaffold split, so the sd includes split variance.",
        "The forest row is the Morgan fingerprint (r=2, 2048 bits) + 500-tree random forest baseline computed",
        "inside the same runs (same split, same training molecules). Linear probes: 30 epochs on cached",
        f"embeddings, lr 1e-3. Full fine-tunes: {FULL_EPOCHS} epochs (early stopping patience {FULL_PATIENCE}),",
        "lr 3e-4, cosine; pretrained backbones at 0.1× that with layer decay 0.8, from-scratch ones at 3e-4",
        "throughout. Same head on every backbone's pooled embedding: Dense(1024, ReLU) → Dense(outputs).",
        "",
    ]
    for data in DATASETS:
        if not any(k.startswith(f"{data}|") and k.endswith("|all") for k in done):
            continue
        metric = next(r["metric"] for k, r in done.items() if k.startswith(f"{data}|"))
        lines += [f"### {data} (test {metric.upper()})", "", f"Published: {PUBLISHED.get(data, 'n/a')}.", "",
                  f"| model | {metric} | n |", "|---|---|---|",
                  f"| Morgan fingerprints + random forest | "
                  f"{cell(per_split(done, data, 'all', 'forest'))} |"]  # fmt: skip
        lines += [f"| {name} | {cell(values_for(done, data, name, 'all'))} |" for name in ROWS]
        lines.append("")
    sizes = sorted({int(k.rsplit("|", 1)[1]) for k in done if k.startswith("bbbp|") and not k.endswith("|all")})
    if sizes:
        lines += ["### BBBP low-data curve (test AUROC; training molecules subsampled, stratified)", "",
                  "Validation and test sets are the full scaffold-split ones. Batches of 16 and at least 300",
                  "optimizer steps at every size.", "",
                  "| training molecules | pretrained (linear probe) | from scratch (full) | fingerprints + RF |",
                  "|---|---|---|---|"]  # fmt: skip
        for size in [*map(str, sizes), "all"]:
            pre, scratch = values_for(done, "bbbp", PRETRAINED_LP, size), values_for(done, "bbbp", SCRATCH, size)
            lines.append(
                f"| {size} | {mean_sd(pre)} | {mean_sd(scratch)} | {mean_sd(per_split(done, 'bbbp', size, 'forest'))} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
