"""Transformer encoders over token ids (SMILES, DNA, protein) as backbones, built on Hugging Face models.

One wrapper serves every BERT-family encoder (BERT, RoBERTa, ESM): its input is a padded (batch, length)
id tensor, its features are the last hidden states, pooled by a masked mean (default) or the first token.
The card carries the model config and the tokenizer, so a saved model rebuilds without any download.
"""

from __future__ import annotations

import torch
from torch import nn

from medtransfer.backbones.base import Backbone, BackboneCard
from medtransfer.data.tokens import special_id
from medtransfer.errors import BackboneError


def _transformers():
    try:
        import transformers
    except ImportError as exc:
        raise BackboneError("token backbones need transformers: pip install 'medtransfer[molecules]'.") from exc
    transformers.logging.set_verbosity_error()
    return transformers


class TokenEncoderBackbone(Backbone):
    """``forward_features(ids)`` → (hidden states, token mask); ``pool`` → one vector per sequence."""

    def __init__(self, encoder: nn.Module, card: BackboneCard) -> None:
        super().__init__()
        if card.pooling not in ("mean", "cls"):
            raise BackboneError(f"pooling {card.pooling!r} is unknown: use mean or cls.")
        self.encoder = encoder
        self.card = card
        self.pad_id = special_id(card.tokenizer, "[PAD]") if card.tokenizer else 0
        self.num_features = int(encoder.config.hidden_size)
        self.window = int(card.tokenizer["max_length"]) if card.tokenizer else None

    def forward_features(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.window and ids.shape[1] > self.window:
            return self._windowed(ids)
        mask = ids != self.pad_id
        if not torch.compiler.is_exporting():  # an exported graph (ONNX) keeps the padding, which the mask hides
            length = max(int(mask.sum(1).max()), 1)  # batches are padded to their longest row: cut the rest
            ids, mask = ids[:, :length], mask[:, :length]
        hidden = self.encoder(input_ids=ids, attention_mask=mask.long()).last_hidden_state
        return hidden, mask

    def _windowed(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Rows of consecutive ``window``-wide windows (TokenEncoder with ``windows``): each window is encoded
        on its own, empty ones skipped, and the states laid back end to end, so pooling spans every window."""
        n, width = ids.shape
        flat = ids.reshape(n * (width // self.window), self.window)
        mask = flat != self.pad_id
        if torch.compiler.is_exporting():  # no data-dependent shapes in a graph: every window, empty ones zeroed
            states = self.encoder(input_ids=flat, attention_mask=mask.long()).last_hidden_state
            return (states * mask.any(1)[:, None, None]).reshape(n, width, -1), mask.reshape(n, width)
        live = mask.any(1)
        states = self.encoder(input_ids=flat[live], attention_mask=mask[live].long()).last_hidden_state
        hidden = states.new_zeros(*flat.shape, states.shape[-1])
        hidden[live] = states
        return hidden.reshape(n, width, -1), mask.reshape(n, width)

    def pool(self, features: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        hidden, mask = features
        if self.card.pooling == "cls":  # windowed inputs: the first window's [CLS]
            return hidden[:, 0]
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)

    poolings = ("mean", "cls")
    explain_kind = "tokens"
    lora_targets = ("query", "value")  # the attention projections of BERT, RoBERTa and ESM layers

    def explain_layer(self) -> nn.Module:
        return self.encoder.get_input_embeddings()

    def param_blocks(self) -> list[list[nn.Parameter]]:
        layers = self.encoder.encoder.layer
        blocks = [list(self.encoder.embeddings.parameters())] + [list(layer.parameters()) for layer in layers]
        rest = {id(p) for b in blocks for p in b}
        tail = [p for p in self.encoder.parameters() if id(p) not in rest]  # final norms (ESM), if any
        if tail:
            blocks[-1] += tail
        return blocks


def encoder_from_config(config: dict) -> nn.Module:
    """A randomly initialised encoder (no pooler) of the architecture ``config`` describes."""
    transformers = _transformers()
    cfg = transformers.AutoConfig.for_model(**config)
    return transformers.AutoModel.from_config(cfg, add_pooling_layer=False)


def rebuild_from_card(card: dict) -> TokenEncoderBackbone:
    """The architecture a card describes, random weights: how saved models are rebuilt before loading."""
    built = BackboneCard.from_dict(card)
    return TokenEncoderBackbone(encoder_from_config(built.hf_config), built)


def config_dict(encoder: nn.Module) -> dict:
    """The encoder's config as plain JSON data (what ``encoder_from_config`` takes back)."""
    d = encoder.config.to_dict()
    keep = {k: v for k, v in d.items() if not k.startswith("_") and k not in ("architectures", "transformers_version")}
    return keep
