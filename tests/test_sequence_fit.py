"""Sequence models end to end: a planted motif is learnt and explained; LoRA fits and predicts."""

from __future__ import annotations

import numpy as np
import pytest

import medtransfer

pytestmark = pytest.mark.slow
MOTIF = "TGACGTCA"  # the cAMP response element


def motif_fasta(path, n: int = 320, length: int = 80, seed: int = 0) -> tuple:
    """Random DNA; label 'motif' when MOTIF is planted at a random position. Returns the file and, for a
    further 20 held-out positives, (sequence, motif start) pairs."""
    rng = np.random.default_rng(seed)

    def sequence(planted: bool) -> tuple[str, int]:
        seq = "".join(rng.choice(list("ACGT"), size=length))
        while MOTIF in seq:
            seq = "".join(rng.choice(list("ACGT"), size=length))
        if not planted:
            return seq, -1
        at = int(rng.integers(0, length - len(MOTIF)))
        return seq[:at] + MOTIF + seq[at + len(MOTIF) :], at

    lines = []
    for i in range(n):
        seq, _ = sequence(i % 2 == 1)
        lines.append(f">s{i} label={'motif' if i % 2 else 'absent'}\n{seq}\n")
    path.write_text("".join(lines))
    return path, [sequence(True) for _ in range(20)]


def test_cnn_learns_a_planted_motif_and_attribution_peaks_on_it(tmp_path):
    data, held_out = motif_fasta(tmp_path / "motif.fa")
    result = medtransfer.fit(str(data), backbone="dna_cnn", pretrained=False, strategy="full", epochs=10, lr=3e-3,
                             batch_size=32, progress=False, gallery=False, out=str(tmp_path / "run"))  # fmt: skip
    assert result.metrics["test"]["auroc"] > 0.95
    assert any("mer frequencies" in k for k in result.metrics["baselines"])  # the k-mer + LR baseline
    fasta = tmp_path / "held_out.fa"
    fasta.write_text("".join(f">h{i}\n{s}\n" for i, (s, _) in enumerate(held_out)))
    explained = medtransfer.explain(result.run_dir, [fasta], target="motif", out=tmp_path / "explained")
    peaks = [int(np.argmax(e.values)) for e in explained.explanations]
    inside = [at <= p < at + len(MOTIF) for p, (_, at) in zip(peaks, held_out, strict=True)]
    assert np.mean(inside) >= 0.8, f"attribution peak inside the motif for {np.mean(inside):.0%} of 20"
    assert explained.explanations[0].values.shape == (80,) and explained.explanations[0].unit == "nucleotide"
    assert len(list((tmp_path / "explained").glob("*.png"))) == 20


def test_lora_fits_a_protein_task_and_the_saved_model_predicts(tmp_path):
    result = medtransfer.fit("amp_tm", backbone="test_protein_bert", strategy="lora", epochs=2, batch_size=32,
                             progress=False, out=str(tmp_path / "run"))  # fmt: skip
    assert result.metrics["test"]["auroc"] > 0.5
    fasta = tmp_path / "peptides.fa"
    fasta.write_text(">a\nGLWSKIKEVGKEAAKAAAKAAGKAALGAVSEAV\n>b\nMLLIVLAVAVGLLVSTA\n")
    rows = medtransfer.predict(result.run_dir, [fasta])
    assert [r["id"] for r in rows] == ["peptides.fa:a", "peptides.fa:b"]
    assert all(0 <= r["prob_1"] <= 1 for r in rows)
