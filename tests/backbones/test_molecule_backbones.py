"""Molecule backbones: the registry contract on SMILES, ChemNet against fcd, rxnfp, hub loader offline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medtransfer.backbones import BACKBONES, create_backbone
from medtransfer.backbones.registry import list_backbones
from medtransfer.data.tokens import TokenEncoder

list_backbones()
MOLECULE_BACKBONES = [n for n in BACKBONES.names() if BACKBONES.meta(n)["modality"] == "molecule"]
SMILES = ["CCO", "c1ccccc1[N+](=O)[O-]", "C[C@H](N)C(=O)O", "ClC(Cl)Cl", "CC(=O)Oc1ccccc1C(=O)O"]


def encode(backbone, smiles=SMILES) -> torch.Tensor:
    return torch.from_numpy(TokenEncoder(backbone.card.tokenizer).encode(smiles))


@pytest.mark.parametrize("name", MOLECULE_BACKBONES)
def test_molecule_backbone_contract(name):
    backbone = create_backbone(name, pretrained=False).eval()
    with torch.no_grad():
        feats = backbone(encode(backbone))
    assert feats.shape == (len(SMILES), backbone.num_features)
    blocks = backbone.param_blocks()
    assert len(blocks) >= 3
    assert sum(p.numel() for b in blocks for p in b) == sum(p.numel() for p in backbone.parameters())
    assert backbone.card.licence and backbone.card.tokenizer["vocab"][:1] == ["[PAD]"]


@pytest.mark.parametrize("name", [n for n in MOLECULE_BACKBONES if n != "chemnet"])
def test_token_backbone_rebuilds_from_its_card_alone(name):
    original = create_backbone(name, pretrained=False).eval()
    rebuilt = create_backbone("anything", pretrained=False, card=original.card.to_dict()).eval()
    rebuilt.load_state_dict(original.state_dict())
    with torch.no_grad():
        assert torch.allclose(original(encode(original)), rebuilt(encode(rebuilt)), atol=1e-6)


def test_padding_does_not_change_an_embedding():
    backbone = create_backbone("test_smiles_bert").eval()
    with torch.no_grad():
        alone = backbone(encode(backbone, ["CCO"]))
        batched = backbone(encode(backbone, ["CCO", "CC(=O)Oc1ccccc1C(=O)OCCCCCCCCCC"]))[:1]
    assert torch.allclose(alone, batched, atol=1e-5)


def test_chemnet_equals_fcd_reference_activations():
    fcd = pytest.importorskip("fcd")
    backbone = create_backbone("chemnet").eval()
    with torch.no_grad():
        ours = backbone(encode(backbone)).numpy()
    reference = fcd.get_predictions(fcd.load_ref_model(), SMILES, n_jobs=0, device="cpu")
    np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_rxnfp_loads_its_reaction_pretrained_weights():
    pytest.importorskip("transformers")
    pretrained = create_backbone("rxnfp_bert")
    scratch = create_backbone("rxnfp_bert", pretrained=False)
    assert pretrained.card.pretrained and pretrained.card.weights_sha256
    assert TokenEncoder(pretrained.card.tokenizer).coverage(SMILES)["unknown_tokens"] == 0
    a = pretrained.encoder.embeddings.word_embeddings.weight
    assert not torch.equal(a, scratch.encoder.embeddings.word_embeddings.weight)


def test_hub_loader_builds_a_tiny_roberta_offline(tmp_path):
    """The hf: path (ChemBERTa is a RoBERTa) on a tiny random model and tokenizer saved locally."""
    transformers = pytest.importorskip("transformers")
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers

    from medtransfer.data.tokens import _SMILES_TOKEN

    vocab = {t: i for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>", "C", "c", "O", "N", "(", ")", "1"])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(_SMILES_TOKEN.pattern), behavior="isolated")
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
        mask_token="<mask>", cls_token="<s>", sep_token="</s>", model_max_length=64,
    )  # fmt: skip
    fast.save_pretrained(tmp_path)
    config = transformers.RobertaConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2,
                                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=70,
                                        pad_token_id=1)  # fmt: skip
    transformers.RobertaModel(config).save_pretrained(tmp_path)
    backbone = create_backbone(f"hf:{tmp_path}").eval()
    assert backbone.pad_id == 1 and backbone.card.modality == "any"
    ids = encode(backbone, ["CCO", "c1ccccc1N"])
    assert ids[0, 0] == vocab["<s>"] and ids[0, 4] == vocab["</s>"] and ids[0, -1] == 1
    with torch.no_grad():
        assert backbone(ids).shape == (2, 16)
