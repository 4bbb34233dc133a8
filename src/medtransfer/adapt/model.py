"""TransferModel: backbone → pooled features → head, with the target scale for regression."""

from __future__ import annotations

import torch
from torch import nn

from medtransfer.adapt.head import HeadSpec, build_head
from medtransfer.backbones.base import Backbone


class TransferModel(nn.Module):
    """The model that is fine-tuned, saved and served. ``forward`` returns logits (or targets for regression)."""

    def __init__(self, backbone: Backbone, head_spec: HeadSpec, num_outputs: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.head_spec = head_spec
        self.head = build_head(head_spec, backbone.num_features, num_outputs)
        # regression heads learn standardised targets; these map outputs back to the data's units
        self.register_buffer("target_mean", torch.zeros(num_outputs))
        self.register_buffer("target_std", torch.ones(num_outputs))
        # classification logits are divided by this (temperature scaling, fitted on validation; 1 = off)
        self.register_buffer("temperature", torch.ones(1))
        # test-time augmentation (``--tta flip``, images): in eval mode the outputs are the mean over the input
        # and its mirror image, so predict, serve and export all apply it; training sees single views
        self.test_time_flip = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.backbone(x)
        mirrored = self.backbone(x.flip(-1)) if self.test_time_flip and not self.training else None
        return self.outputs(features, mirrored)

    def outputs(self, features: torch.Tensor, mirrored: torch.Tensor | None = None) -> torch.Tensor:
        """Head outputs on pooled features, averaged with the mirror image's features' where given (test-time
        flip): ``forward``'s outputs from features computed elsewhere (an ensemble's shared backbone pass)."""
        out = self.head_forward(features)
        return out if mirrored is None else (out + self.head_forward(mirrored)) / 2

    def head_forward(self, features: torch.Tensor) -> torch.Tensor:
        """Head on pooled features; outputs are logits, or targets in the data's units for regression."""
        return self.head(features) / self.temperature * self.target_std + self.target_mean

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled backbone features: what a linear probe trains on and what the feature cache stores."""
        return self.backbone(x)

    def reset_head(self, num_outputs: int) -> None:
        """A fresh head for a new task, keeping the backbone."""
        self.head = build_head(self.head_spec, self.backbone.num_features, num_outputs)
        self.target_mean = torch.zeros(num_outputs)
        self.target_std = torch.ones(num_outputs)
