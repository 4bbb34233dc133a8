"""Image backbones built on timm: every timm architecture, with its own preprocessing config."""

from __future__ import annotations

import logging

import torch
from torch import nn

from medtransfer.backbones.base import Backbone, BackboneCard
from medtransfer.errors import BackboneError

log = logging.getLogger("medtransfer")


class TimmBackbone(Backbone):
    """Wraps a timm model created with ``num_classes=0`` (global average pooling, no classifier)."""

    def __init__(self, model: nn.Module, card: BackboneCard) -> None:
        super().__init__()
        self.model = model
        self.card = card
        self.num_features = int(model.num_features)
        self.feature_map = nn.Identity()  # a named hook point on the final feature map, for Grad-CAM

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature_map(self.model.forward_features(x))

    def pool(self, features: torch.Tensor) -> torch.Tensor:
        return self.model.forward_head(features, pre_logits=True)

    explain_kind = "feature_map"

    def explain_layer(self) -> nn.Module:
        return self.feature_map

    def param_blocks(self) -> list[list[nn.Parameter]]:
        from timm.models import group_parameters

        groups = group_parameters(self.model, self.model.group_matcher(coarse=True))
        params = dict(self.model.named_parameters())
        return [[params[n] for n in names] for _, names in sorted(groups.items())]


def create_timm_model(architecture: str, in_chans: int, pretrained: bool = False) -> nn.Module:
    """Build a timm architecture without classifier; ``pretrained`` fetches timm's weights (needs network)."""
    import timm

    if architecture not in timm.list_models():
        raise BackboneError(
            f'timm has no architecture {architecture!r}. List them with python -c "import timm; '
            f"print(timm.list_models('{architecture[:4]}*'))\""
        )
    try:
        return timm.create_model(architecture, pretrained=pretrained, num_classes=0, in_chans=in_chans)
    except (OSError, RuntimeError, ValueError) as exc:
        # network failures arrive as OSError subclasses (requests / huggingface_hub) or RuntimeError
        from medtransfer.backbones.registry import offline_hint

        raise BackboneError(
            f"could not fetch pretrained weights for timm:{architecture} ({type(exc).__name__}). "
            + offline_hint(architecture)
        ) from exc


def card_from_timm(name: str, model: nn.Module, source: str, licence: str, pretrained: bool) -> BackboneCard:
    """Read input size, normalisation and layer names from timm's pretrained config."""
    cfg = model.pretrained_cfg
    return BackboneCard(
        name=name,
        architecture=cfg.get("architecture", name),
        modality="image",
        source=source,
        licence=licence,
        pretrained=pretrained,
        in_chans=3,
        input_size=int(cfg.get("input_size", (3, 224, 224))[-1]),
        mean=tuple(cfg.get("mean", (0.485, 0.456, 0.406))),
        std=tuple(cfg.get("std", (0.229, 0.224, 0.225))),
        interpolation=cfg.get("interpolation", "bilinear"),
        first_conv=cfg.get("first_conv", ""),
    )


def adapt_first_conv(model: nn.Module, card: BackboneCard, in_chans: int) -> None:
    """Convert 3-channel pretrained stem weights to ``in_chans`` (timm's adapt_input_conv), and say so."""
    from timm.models import adapt_input_conv

    if in_chans == card.in_chans:
        return
    conv = model.get_submodule(card.first_conv)
    # in place, so subclasses such as timm's Conv2dSame keep their padding behaviour
    conv.weight = nn.Parameter(adapt_input_conv(in_chans, conv.weight.detach()))
    conv.in_channels = in_chans
    change = f"first conv '{card.first_conv}' adapted from {card.in_chans} to {in_chans} input channels"
    log.info(change)
    card.changes.append(change)
    match_input_stats(card, in_chans)


def match_input_stats(card: BackboneCard, in_chans: int) -> None:
    """Per-channel mean/std for ``in_chans`` inputs: averaged for gray, cycled for more than 3 channels."""
    if in_chans == 1:
        card.mean, card.std = (sum(card.mean) / 3,), (sum(card.std) / 3,)
    elif in_chans != 3:
        card.mean = tuple(card.mean[i % 3] for i in range(in_chans))
        card.std = tuple(card.std[i % 3] for i in range(in_chans))
    card.in_chans = in_chans
