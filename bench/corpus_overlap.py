"""Do the pretraining corpora contain the benchmark's sequences? And does the amp result survive without them?

Masked-LM pretraining never sees a label, but a test peptide it has read could still be easier for it. This
counts every benchmark sequence found verbatim inside a corpus sequence (DNA: either strand), then
re-scores the paired low-data amp runs of bench.sequence_transfer on the test peptides outside the corpus.

    python -m bench.corpus_overlap   # after python -m bench.sequence_transfer
"""

from __future__ import annotations

import csv

from sklearn.metrics import roc_auc_score

from bench.common import by_seed, load_results, paired_difference, write_section
from bench.sequence_transfer import PAIRED_SIZES, PAIRS, RESULTS, run_plan
from medtransfer.data.catalog import load_dataset
from medtransfer.data.sequences.corpora import COMPLEMENT, corpus_files, raw_sequences

CHECKS = [("splice", "dna", "augustus_splice"), ("splice", "dna", "ecoli"), ("oct4_mafk", "dna", "augustus_splice"),
          ("oct4_mafk", "dna", "ecoli"), ("amp", "protein", "uniprot20k")]  # fmt: skip


def found_in_corpus(sequences: list[str], kind: str, corpus: str) -> set[str]:
    """The ``sequences`` that occur inside some sequence of ``corpus`` (DNA: on either strand)."""
    paths, _ = corpus_files(corpus, kind)
    text = "|".join(s.upper() for p in paths for s in raw_sequences(p))
    if kind == "dna":
        text += "|" + text.translate(COMPLEMENT)[::-1]
    return {s for s in set(sequences) if s in text}


def clean_auroc(run_dir, sequence_of: dict[str, str], seen: set[str]) -> float:
    """Test AUROC of a run over the test rows whose sequence the corpus does not contain."""
    with open(run_dir / "predictions.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] == "test" and sequence_of[r["id"]] not in seen]
    return roc_auc_score([int(r["label"]) for r in rows], [float(r["prob_1"]) for r in rows])


def report() -> str:
    lines = ["## Benchmark sequences inside the pretraining corpora", "",
             "`python -m bench.corpus_overlap`: every benchmark sequence searched verbatim inside the corpus's",
             "sequences (DNA on both strands). Pretraining sees no label, but a model that has read a test",
             "sequence may find it easier.", "", "| dataset | corpus | sequences | found in the corpus |",
             "|---|---|---|---|"]  # fmt: skip
    tables = {}
    for data, kind, corpus in CHECKS:
        table = tables.setdefault(data, load_dataset(data))
        seen = found_in_corpus(table.inputs, kind, corpus)
        hits = sum(s in seen for s in table.inputs)
        lines.append(f"| {data} | {corpus} | {len(table):,} | {hits:,} ({hits / len(table):.1%}) |")
    table = tables["amp"]
    seen = found_in_corpus(table.inputs, "protein", "uniprot20k")
    sequence_of = dict(zip(table.ids, table.inputs, strict=True))
    lines += ["", "amp, paired low-data runs re-scored on the test peptides the protein corpus does not contain:", "",
              "| training sequences | seeds | pretrained − scratch, all test peptides | the same, outside the corpus |",
              "|---|---|---|---|"]  # fmt: skip
    done = load_results(RESULTS)
    pretrained, scratch = PAIRS["amp"]
    for size in PAIRED_SIZES["amp"]:
        seeds = sorted(set(by_seed(done, "amp", pretrained, str(size))) & set(by_seed(done, "amp", scratch, str(size))))
        if len(seeds) < 3:
            continue
        full, clean = [], []
        for seed in seeds:
            a, b = (run_plan("amp", row, int(seed), size)[2] for row in (pretrained, scratch))
            full.append(
                done[f"amp|{pretrained}|{seed}|{size}"]["value"] - done[f"amp|{scratch}|{seed}|{size}"]["value"]
            )
            clean.append(clean_auroc(a, sequence_of, seen) - clean_auroc(b, sequence_of, seen))
        lines.append(f"| {size} | {len(seeds)} | {summary(full)} | {summary(clean)} |")
    return "\n".join(lines)


def summary(diff: list[float]) -> str:
    """Mean difference with its t-interval, and how many seeds are positive."""
    return f"{paired_difference(diff)}, ahead on {sum(d > 0 for d in diff)} of {len(diff)}"


if __name__ == "__main__":
    write_section("corpus_overlap", report())
