"""Backbones: a registry that resolves a name to a pretrained model plus its preprocessing card."""

from medtransfer.backbones.base import Backbone, BackboneCard
from medtransfer.backbones.registry import BACKBONES, create_backbone, list_backbones

__all__ = ["BACKBONES", "Backbone", "BackboneCard", "create_backbone", "list_backbones"]
