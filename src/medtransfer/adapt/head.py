"""Task heads on pooled backbone features."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from torch import nn

from medtransfer.errors import ConfigError


@dataclass(frozen=True)
class HeadSpec:
    """``mlp``: the classic transfer head, Dense(hidden, ReLU) → dropout → Dense(n); ``linear``: Dense(n)."""

    kind: Literal["mlp", "linear"] = "mlp"
    hidden: int = 1024
    dropout: float = 0.2

    def to_dict(self) -> dict:
        return asdict(self)


def build_head(spec: HeadSpec, in_features: int, num_outputs: int) -> nn.Module:
    """The head sits after global average pooling, which the backbone's ``pool`` already applies."""
    if spec.kind == "linear":
        return nn.Sequential(nn.Dropout(spec.dropout), nn.Linear(in_features, num_outputs))
    if spec.kind == "mlp":
        return nn.Sequential(
            nn.Linear(in_features, spec.hidden),
            nn.ReLU(),
            nn.Dropout(spec.dropout),
            nn.Linear(spec.hidden, num_outputs),
        )
    raise ConfigError(f"unknown head {spec.kind!r}: use 'mlp' or 'linear'.")
