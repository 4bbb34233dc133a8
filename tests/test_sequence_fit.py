"""Sequence models end to end: a planted motif is learnt and explained; LoRA fits and predicts."""

from __future__ import annotations

import json
from pathlib import Path

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
                             pooling="cls", progress=False, out=str(tmp_path / "run"))  # fmt: skip
    assert result.metrics["test"]["auroc"] > 0.5
    saved = json.loads((result.run_dir / "model" / "model.json").read_text())["backbone_card"]
    assert saved["pooling"] == "cls" and "pooling: cls" in saved["changes"]
    fasta = tmp_path / "peptides.fa"
    fasta.write_text(">a\nGLWSKIKEVGKEAAKAAAKAAGKAALGAVSEAV\n>b\nMLLIVLAVAVGLLVSTA\n")
    rows = medtransfer.predict(result.run_dir, [fasta])
    assert [r["id"] for r in rows] == ["peptides.fa:a", "peptides.fa:b"]
    assert all(0 <= r["prob_1"] <= 1 for r in rows)


def test_long_sequences_read_in_windows_see_what_truncation_cuts_off(tmp_path):
    """600-nt sequences whose class shows only in the GC content of their second half: the tiny BERT reads
    254 tokens, so truncated it sees noise; read in windows it sees everything, and so does its saved model."""
    rng = np.random.default_rng(0)

    def sequence(gc_rich: bool) -> str:
        tail = rng.choice(list("ACGT"), size=300, p=[0.15, 0.35, 0.35, 0.15] if gc_rich else [0.35, 0.15, 0.15, 0.35])
        return "".join(rng.choice(list("ACGT"), size=300)) + "".join(tail)

    data = tmp_path / "late.fa"
    data.write_text("".join(f">s{i} label={'gc' if i % 2 else 'at'}\n{sequence(i % 2 == 1)}\n" for i in range(120)))
    runs = {
        policy: medtransfer.fit(
            str(data),
            backbone="test_dna_bert",
            pretrained=False,
            epochs=4,
            lr=3e-3,
            batch_size=16,
            long_inputs=policy,
            progress=False,
            gallery=False,
            out=str(tmp_path / policy),
        )  # fmt: skip
        for policy in ("truncate", "window")
    }
    assert runs["window"].metrics["test"]["auroc"] > 0.95
    assert runs["truncate"].metrics["test"]["auroc"] < 0.8
    report = (runs["window"].run_dir / "report.html").read_text()
    assert "120 of 120 longer than 256 tokens, read in up to 3 windows" in report
    fasta = tmp_path / "new.fa"
    fasta.write_text(f">gc\n{sequence(True)}\n>at\n{sequence(False)}\n")
    rows = {r["id"]: r for r in medtransfer.predict(runs["window"].run_dir, [fasta])}
    assert rows["new.fa:gc"]["prediction"] == "gc" and rows["new.fa:at"]["prediction"] == "at"
    explained = medtransfer.explain(runs["window"].run_dir, [fasta], target="gc", out=tmp_path / "explained")
    assert explained.explanations[0].method == "occlusion"  # the default that follows windows
    values, letters = explained.explanations[0].values, np.array(list(fasta.read_text().split()[1]))
    assert values.shape == (600,) and np.all(values[520:] != 0)  # the third window is explained too
    strong = np.isin(letters, ["G", "C"])  # each G / C pushes towards 'gc', each A / T away: positions line up
    assert values[strong].mean() > 0 > values[~strong].mean()
    with pytest.raises(medtransfer.errors.ExplainError, match="occlusion"):
        medtransfer.explain(runs["window"].run_dir, [fasta], method="integrated_gradients", out=tmp_path / "ig")


def test_fit_without_a_backbone_takes_the_default_for_the_data(tmp_path, monkeypatch):
    """No --backbone: DNA gets our splice-site encoder (not the image default), and the run is named after it."""
    monkeypatch.chdir(tmp_path)
    data, _ = motif_fasta(tmp_path / "motif.fa", n=80)
    result = medtransfer.fit(str(data), strategy="linear_probe", epochs=1, progress=False, gallery=False)
    assert result.config.backbone == "dna_bert_augustus"
    assert result.run_dir == Path("runs/motif-dna_bert_augustus-linear_probe")
    assert json.loads((result.run_dir / "manifest.json").read_text())["backbone"]["name"] == "dna_bert_augustus"


def test_proteins_default_to_the_distilled_encoder_and_molecules_to_chemnet():
    """No --backbone: each modality's best measured source model (docs/benchmarks.md), not the image default."""
    from medtransfer.config import build_config
    from medtransfer.pipeline import with_default_backbone

    assert with_default_backbone(build_config(data="amp_tm"))[0].backbone == "protein_bert_unirep_distilled"
    assert with_default_backbone(build_config(data="bbbp"))[0].backbone == "chemnet"


def test_a_hub_model_run_predicts_with_the_hub_folder_gone(tmp_path):
    """hf: runs save their tokenizer into model/, so predicting never goes back to the hub."""
    import shutil

    from tests.backbones.hub_models import tiny_esm

    hub = tiny_esm(tmp_path / "hub")
    result = medtransfer.fit("amp_tm", backbone=f"hf:{hub}", strategy="full", epochs=1, max_train_samples=40,
                             head_hidden=8, progress=False, gallery=False, out=str(tmp_path / "run"))  # fmt: skip
    expected = medtransfer.load(result.run_dir).predict_proba(["GLFDIVKKVVGALGSL", "MKTAYIAKQR"])
    shutil.rmtree(hub)
    assert (result.run_dir / "model" / "tokenizer").is_dir()
    again = medtransfer.load(result.run_dir).predict_proba(["GLFDIVKKVVGALGSL", "MKTAYIAKQR"])
    np.testing.assert_allclose(again, expected, atol=1e-6)
