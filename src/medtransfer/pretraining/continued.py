"""Continued (domain-adaptive) pretraining: masked-LM training starts from a pretrained encoder instead of
random weights, keeping its architecture and vocabulary (Gururangan et al., "Don't Stop Pretraining", ACL 2020).

A general-English encoder (the packaged MiniLM) read on radiology reports, or a SMILES BERT read on a new
chemical series, moves towards the target domain's words before any label is used.
"""

from __future__ import annotations

from dataclasses import replace

from medtransfer.backbones.base import Backbone
from medtransfer.backbones.registry import create_backbone
from medtransfer.errors import ConfigError
from medtransfer.pretraining.mlm import PretrainSettings

CITATION = "Gururangan et al., Don't Stop Pretraining (ACL 2020)"


def starting_encoder(name: str, settings: PretrainSettings) -> tuple[Backbone, dict, PretrainSettings]:
    """The backbone ``name`` whose BERT encoder pretraining continues, the tokenizer it trains with (the
    backbone's own, cut to ``settings.max_length``) and the settings with the architecture read from it."""
    backbone = create_backbone(name)
    encoder, tokenizer = getattr(backbone, "encoder", None), backbone.card.tokenizer
    config = getattr(encoder, "config", None)
    if config is None or getattr(config, "model_type", None) != "bert" or not tokenizer:
        raise ConfigError(
            f"--init {name}: continued pretraining needs a BERT encoder with its own tokenizer "
            f"({backbone.card.architecture} is not one); e.g. minilm_l6, smiles_bert_moses or a pretrain folder."
        )
    max_length = min(settings.max_length, int(tokenizer["max_length"]), int(config.max_position_embeddings))
    spec = {**tokenizer, "max_length": max_length}
    arch = {"hidden_size": config.hidden_size, "layers": config.num_hidden_layers,
            "heads": config.num_attention_heads, "intermediate_size": config.intermediate_size}  # fmt: skip
    return backbone, spec, replace(settings, max_length=max_length, init=name, **arch)


def continued_card_fields(start: Backbone, corpus_note: str) -> dict:
    """Card fields of a continued encoder: its start's architecture, tokenizer (at full length) and licence."""
    card = start.card
    return {
        "architecture": card.architecture,
        "source": f"{card.source}, then medtransfer masked-LM pretraining on {corpus_note}",
        "licence": f"{card.licence}, as the weights it continues",
        "citation": f"{card.citation}; {CITATION}" if card.citation else CITATION,
        "input_size": card.input_size,
        "tokenizer": card.tokenizer,
        "pooling": card.pooling,
        "finetune_rates": card.finetune_rates,
    }


ARCHITECTURE_FIELDS = ("hidden_size", "layers", "heads", "intermediate_size")  # read from --init, not flags
