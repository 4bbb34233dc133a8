"""Sequence backbones: the from-scratch CNNs, tiny BERTs, AntiBERTy, and the hub path for ESM-2 / NT /
DNABERT-2-style models built offline from tiny random configs of the same classes."""

from __future__ import annotations

import pytest
import torch

from medtransfer.backbones import create_backbone
from medtransfer.backbones.sequence_backbones import OWN_MODELS
from medtransfer.backbones.token_encoder import rebuild_from_card
from medtransfer.data.tokens import TokenEncoder
from medtransfer.errors import ConfigError
from tests.backbones.hub_models import ESM_TOKENS, tiny_esm

DNA = ["ACGTACGTTTGACGTCA", "GGGCCCAAATTT"]
PROTEIN = ["EVQLVESGGGLVQPGGSLRLSCAAS", "MKTAYIAKQRQISFVKSHF"]


def encode(backbone, texts: list[str]) -> torch.Tensor:
    return torch.from_numpy(TokenEncoder(backbone.card.tokenizer).encode(texts))


@pytest.mark.parametrize("name", ["dna_cnn", "protein_cnn", "test_dna_bert", "test_protein_bert"])
def test_sequence_backbone_contract(name):
    backbone = create_backbone(name, pretrained=False).eval()
    texts = DNA if name.startswith(("dna", "test_dna")) else PROTEIN
    ids = encode(backbone, texts)
    with torch.no_grad():
        out = backbone(ids)
        padded = backbone(torch.cat([ids, torch.zeros(2, 7, dtype=ids.dtype)], dim=1))  # [PAD] is id 0
    assert out.shape == (2, backbone.num_features)
    assert torch.allclose(out, padded, atol=1e-5)  # padding never changes an embedding
    blocks = backbone.param_blocks()
    assert sum(len(b) for b in blocks) == len(list(backbone.parameters()))
    assert TokenEncoder(backbone.card.tokenizer).coverage(texts)["unknown_tokens"] == 0


def test_antiberty_loads_its_packaged_weights():
    pytest.importorskip("transformers")
    try:
        backbone = create_backbone("antiberty").eval()
    except Exception as exc:  # noqa: BLE001 - the wheel is optional: say why the test cannot run
        pytest.skip(f"antiberty not installed: {exc}")
    scratch = create_backbone("antiberty", pretrained=False)
    assert TokenEncoder(backbone.card.tokenizer).coverage(PROTEIN)["unknown_tokens"] == 0
    assert not torch.equal(backbone.encoder.embeddings.word_embeddings.weight,
                           scratch.encoder.embeddings.word_embeddings.weight)  # fmt: skip
    with torch.no_grad():
        assert backbone(encode(backbone, PROTEIN)).shape == (2, 512)


def test_hub_loader_builds_a_tiny_esm_offline(tmp_path):
    """ESM-2 and the Nucleotide Transformer are EsmModel: the hf: path on a tiny random one, saved locally."""
    pytest.importorskip("transformers")
    tokens = ESM_TOKENS
    tiny_esm(tmp_path)
    backbone = create_backbone(f"hf:{tmp_path}").eval()
    ids = encode(backbone, PROTEIN)
    assert ids[0, 0] == tokens.index("<cls>") and backbone.pad_id == 1
    assert TokenEncoder(backbone.card.tokenizer).coverage(PROTEIN)["unknown_tokens"] == 0
    rebuilt = rebuild_from_card(backbone.card.to_dict())
    rebuilt.load_state_dict(backbone.state_dict())
    with torch.no_grad():
        assert torch.allclose(rebuilt.eval()(ids), backbone(ids), atol=1e-5)


def test_hub_loader_builds_a_dnabert2_style_bpe_model_offline(tmp_path):
    """DNABERT-2 reads DNA with a byte-pair tokenizer into a BERT: a tiny one trained here, saved locally."""
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, trainers

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    trainer = trainers.BpeTrainer(vocab_size=40, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.train_from_iterator(["ACGTTGCAACGTACGGATCCTTAGGC" * 4, "TTTTAAAACCCCGGGGACGT" * 4], trainer)
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]",
                                                cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                                model_max_length=64)  # fmt: skip
    fast.save_pretrained(tmp_path)
    config = transformers.BertConfig(vocab_size=fast.vocab_size, hidden_size=16, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=32,
                                     max_position_embeddings=64)  # fmt: skip
    transformers.BertModel(config, add_pooling_layer=False).save_pretrained(tmp_path)
    backbone = create_backbone(f"hf:{tmp_path}").eval()
    ids = encode(backbone, DNA)
    assert (ids[0] != 0).sum() < len(DNA[0]) + 2  # byte-pair tokens span several nucleotides
    with torch.no_grad():
        assert backbone(ids).shape == (2, 16)


@pytest.mark.parametrize("name", list(OWN_MODELS))
def test_own_pretrained_sequence_models_load_from_the_package(name):
    """Every zoo model named in the registry: its packaged weights, their hash, and the licence it lists."""
    from medtransfer.backbones.registry import BACKBONES
    from medtransfer.backbones.zoo import PACKAGED_ZOO
    from medtransfer.data.hashing import file_digest

    texts = {"dna": DNA, "protein": PROTEIN}[OWN_MODELS[name][0]]
    backbone = create_backbone(name).eval()
    scratch = create_backbone(name, pretrained=False)
    assert backbone.card.pretrained and not scratch.card.pretrained

    assert backbone.card.weights_sha256 == file_digest(PACKAGED_ZOO / name / "encoder.safetensors")
    assert not torch.equal(backbone.encoder.embeddings.word_embeddings.weight,
                           scratch.encoder.embeddings.word_embeddings.weight)  # fmt: skip
    with torch.no_grad():
        assert backbone(encode(backbone, texts)).shape == (2, backbone.num_features)
    assert backbone.card.licence.startswith(BACKBONES.meta(name)["licence"])


def test_windowed_inputs_pool_over_every_window_exactly():
    """A sequence 2.5 windows long, read in windows, embeds as the masked mean over the states of its windows
    each encoded alone; a short sequence beside it in the batch is unchanged; truncation sees one window."""
    backbone = create_backbone("test_dna_bert", pretrained=False).eval()
    spec = {**backbone.card.tokenizer, "windows": True}
    body = spec["max_length"] - 2
    long_seq = ("ACGTTGCA" * 80)[: int(body * 2.5)]
    windows = [long_seq[i : i + body] for i in range(0, len(long_seq), body)]
    ids = torch.from_numpy(TokenEncoder(spec).encode([long_seq, DNA[0]]))
    assert ids.shape == (2, 3 * spec["max_length"])
    with torch.no_grad():
        pooled = backbone(ids)
        states = [backbone.forward_features(encode(backbone, [w]))[0][0] for w in windows]
        expected = torch.cat(states).mean(0)  # [CLS] and [SEP] of every window count, as in one window
        alone = backbone(encode(backbone, [DNA[0]]))[0]
        truncated = backbone(encode(backbone, [long_seq]))[0]
    assert torch.allclose(pooled[0], expected, atol=1e-5)
    assert torch.allclose(pooled[1], alone, atol=1e-5)
    assert not torch.allclose(truncated, pooled[0], atol=1e-3)


def test_pooling_choice_cls_or_refused_with_the_options():
    bert = create_backbone("test_dna_bert", pretrained=False).eval()
    ids = encode(bert, DNA)
    bert.set_pooling("cls")
    with torch.no_grad():
        assert torch.equal(bert(ids), bert.forward_features(ids)[0][:, 0])
    assert bert.card.changes == ["pooling: cls"]  # a different feature-cache key from mean pooling
    with pytest.raises(ConfigError, match="pools its own way"):
        create_backbone("dna_cnn", pretrained=False).set_pooling("cls")
