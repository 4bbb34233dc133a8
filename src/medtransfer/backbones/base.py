"""The uniform backbone interface every modality implements, and the card that describes its weights."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn


@dataclass
class BackboneCard:
    """What a backbone's weights are and what input they expect (timm's PretrainedCfg, for every modality)."""

    name: str
    architecture: str
    modality: str
    source: str
    licence: str
    pretrained: bool
    citation: str = ""
    in_chans: int = 3
    input_size: int = 224
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    interpolation: str = "bilinear"
    first_conv: str = ""
    weights_sha256: str | None = None
    tokenizer: dict | None = None  # string modalities: splitter, vocabulary, max length (data/tokens.py)
    hf_config: dict | None = None  # transformer encoders: the config that rebuilds the architecture
    pooling: str = "mean"  # token models: mean over tokens or the [CLS] token
    # recommended fine-tuning rates {"backbone_lr_scale", "layer_decay"}; None: the pipeline's defaults
    finetune_rates: dict | None = None
    changes: list[str] = field(default_factory=list)  # adaptations applied to the weights, in words

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> BackboneCard:
        d = dict(d)
        d["mean"], d["std"] = tuple(d["mean"]), tuple(d["std"])
        return cls(**d)


class Backbone(nn.Module):
    """A feature extractor: ``forward_features`` → spatial or token features, ``pool`` → one vector each.

    ``forward(x)`` is the pooled embedding of size ``num_features``; ``param_blocks()`` lists parameter
    groups from input to output so strategies can freeze and set layer-wise learning rates without
    knowing the model family.
    """

    card: BackboneCard
    num_features: int

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def pool(self, features: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.forward_features(x))

    def param_blocks(self) -> list[list[nn.Parameter]]:
        raise NotImplementedError

    poolings: tuple[str, ...] = ()  # the pooling choices a user may pick (token transformers: mean, cls)

    def set_pooling(self, pooling: str) -> None:
        """Pool by ``pooling`` from now on; recorded in the card, so saved models and feature caches follow."""
        if pooling not in self.poolings:
            from medtransfer.errors import ConfigError

            choice = f"it offers {' or '.join(self.poolings)}" if self.poolings else "it pools its own way"
            raise ConfigError(f"--pooling {pooling}: backbone {self.card.name} cannot pool that way ({choice}).")
        if pooling != self.card.pooling:
            self.card.pooling = pooling
            self.card.changes = [*self.card.changes, f"pooling: {pooling}"]

    # Where explanations read the model (explanations/): "feature_map" = the last spatial feature map
    # (Grad-CAM's layer), "pixels" = images explained on the pixels alone (no single feature map),
    # "tokens" = one input vector per token, aligned with the id positions.
    explain_kind: str = ""

    def explain_layer(self) -> nn.Module | None:
        """The layer named by ``explain_kind``; None when this backbone offers none."""
        return None
