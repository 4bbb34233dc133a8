"""Seeds are real: every random start derives from the run's seed, and the caller's generator is untouched."""

from __future__ import annotations

import pytest
import torch

from medtransfer.backbones.registry import create_backbone


def _weights(name: str, seed: int) -> torch.Tensor:
    backbone = create_backbone(name, pretrained=False, seed=seed)
    return torch.cat([p.detach().flatten() for p in backbone.parameters()])


@pytest.mark.parametrize("name", ["dna_cnn", "protein_cnn", "test_dna_bert", "test_smiles_bert", "unirep_64"])
def test_two_seeds_start_from_different_weights_and_one_seed_twice_from_the_same(name):
    assert torch.equal(_weights(name, 3), _weights(name, 3))
    assert not torch.equal(_weights(name, 3), _weights(name, 4))


def test_building_a_backbone_leaves_the_global_generator_as_it_was():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    create_backbone("dna_cnn", pretrained=False, seed=7)
    assert torch.equal(torch.rand(3), expected)


def test_fits_with_two_seeds_differ_in_their_initial_head_and_one_seed_reproduces(tmp_path, monkeypatch):
    """The head is initialised inside fit: capture it at construction, before any training step."""
    from medtransfer.adapt import model as model_module
    from medtransfer.api import fit

    heads = []
    original = model_module.build_head

    def capture(*args, **kwargs):
        head = original(*args, **kwargs)
        heads.append(torch.cat([p.detach().flatten().clone() for p in head.parameters()]))
        return head

    monkeypatch.setattr(model_module, "build_head", capture)
    torch.manual_seed(99)
    expected = torch.rand(2)
    for k, seed in enumerate((0, 0, 1)):
        torch.manual_seed(99)
        fit("amp_tm", backbone="protein_cnn", pretrained=False, strategy="full", epochs=1, head_hidden=8,
            max_train_samples=40, seed=seed, out=str(tmp_path / f"run{k}"), progress=False, gallery=False)  # fmt: skip
        assert torch.equal(torch.rand(2), expected), "fit changed the caller's global generator"
    assert torch.equal(heads[0], heads[1])
    assert not torch.equal(heads[0], heads[2])
