"""Several image sources read as one: ``concat:a+b+c`` feeds the same image to each and concatenates their
pooled features, so a probe sees, say, a medical DenseNet's and ImageNet EfficientNets' views side by side.

On BreastMNIST the four offline sources concatenated at 128 px give the best linear probe on test (AUROC 0.900,
3 seeds, against 0.844–0.890 for each source alone) but not on validation, where it ties with the single
EfficientNet-Lite probes (docs/benchmarks.md, BreastMNIST): so it is no default, and AutoTransfer races it as one
more probe contestant, chosen on validation like the rest.

The composite takes images in [0, 1] (its card's mean 0, std 1) and normalises them for each member with that
member's own statistics inside ``forward``, so each member sees what it would see alone (resized by the first
member's interpolation: where a member's own differs, its cache key differs too and its features are computed
afresh); a member's features are read from the same feature cache entry as that member's own probe wrote
(``member_views``). Saved models rebuild from the name alone, like every registered backbone.
"""

from __future__ import annotations

import hashlib

import torch
from torch import nn

from medtransfer.backbones.base import Backbone, BackboneCard
from medtransfer.errors import BackboneError

SCHEME = "concat:"
SEPARATOR = "+"


def concat_name(members: list[str]) -> str:
    """The registry name of ``members`` read as one backbone."""
    return SCHEME + SEPARATOR.join(members)


def member_names(name: str) -> list[str]:
    """The members of a ``concat:`` name, checked: at least two, none nested, none repeated."""
    members = [m.strip() for m in name.removeprefix(SCHEME).split(SEPARATOR)]
    if len(members) < 2 or any(not m or m.startswith(SCHEME) for m in members) or len(set(members)) < len(members):
        raise BackboneError(
            f"{name!r}: a concatenated backbone names two or more different backbones, e.g. "
            f"{concat_name(['densenet121_capricorn', 'efficientnet_lite0'])}."
        )
    return members


class MemberView(nn.Module):
    """One member as the composite runs it: its own normalisation, then its pooled features."""

    def __init__(self, backbone: Backbone) -> None:
        super().__init__()
        self.backbone = backbone
        card = backbone.card
        self.register_buffer("mean", torch.tensor(card.mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(card.std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone((x - self.mean) / self.std)


class ConcatBackbone(Backbone):
    """Members' pooled features, concatenated in the order named."""

    # Grad-CAM needs one feature map and there are several: explanations read the pixels (Integrated
    # Gradients, occlusion), which see every member at once
    explain_kind = "pixels"

    def __init__(self, members: list[Backbone]) -> None:
        super().__init__()
        first = members[0].card
        if len({(m.card.modality, m.card.in_chans) for m in members}) > 1:
            raise BackboneError("the members of a concatenated backbone must read the same inputs: "
                                + ", ".join(f"{m.card.name} ({m.card.modality}, {m.card.in_chans} channels)"
                                            for m in members) + ". Name image backbones only.")  # fmt: skip
        self.views = nn.ModuleList(MemberView(m) for m in members)
        self.num_features = sum(m.num_features for m in members)
        shas = [m.card.weights_sha256 for m in members]
        self.card = BackboneCard(
            name=concat_name([m.card.name for m in members]),
            architecture=SEPARATOR.join(m.card.architecture for m in members),
            modality=first.modality,
            source="; ".join(f"{m.card.name}: {m.card.source}" for m in members),
            licence="; ".join(sorted({m.card.licence for m in members})),
            pretrained=all(m.card.pretrained for m in members),
            citation="; ".join(m.card.citation for m in members if m.card.citation),
            in_chans=first.in_chans,
            input_size=max(m.card.input_size for m in members),
            mean=(0.0,) * first.in_chans,  # each member normalises for itself
            std=(1.0,) * first.in_chans,
            interpolation=first.interpolation,
            weights_sha256=hashlib.sha256("".join(shas).encode()).hexdigest() if all(shas) else None,
            changes=[f"{m.card.name}: {change}" for m in members for change in m.card.changes],
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([view(x) for view in self.views], dim=1)

    def member_views(self) -> list[MemberView]:
        """Each member with its normalisation: what the feature cache computes, or reads, member by member."""
        return list(self.views)

    def param_blocks(self) -> list[list[nn.Parameter]]:
        """The members' blocks merged by relative depth (each member's stem with the others' stems, its last
        block with theirs), so layer-wise rates treat every member alike; each parameter once."""
        per_member = [view.backbone.param_blocks() for view in self.views]
        depth = max(len(blocks) for blocks in per_member)
        merged: list[list[nn.Parameter]] = [[] for _ in range(depth)]
        for blocks in per_member:
            for i, block in enumerate(blocks):
                merged[(i + 1) * depth // len(blocks) - 1].extend(block)
        return [block for block in merged if block]


def concat_backbone(name: str, create, pretrained: bool, in_chans: int) -> ConcatBackbone:
    """Build ``concat:a+b`` from its members, each made by ``create(member, pretrained, in_chans)``."""
    return ConcatBackbone([create(member, pretrained, in_chans) for member in member_names(name)])
