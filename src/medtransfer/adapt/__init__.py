"""Adaptation: a new task head on a backbone, giving one nn.Module."""

from medtransfer.adapt.head import HeadSpec, build_head
from medtransfer.adapt.model import TransferModel

__all__ = ["HeadSpec", "TransferModel", "build_head"]
