"""Per-modality display plug-ins: an attribution in the input's own terms (pixels at the original
resolution, atoms, residues) and its picture. Modalities register here; nothing else branches on them."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from medtransfer.errors import ExplainError
from medtransfer.registry import Registry


class Display(Protocol):
    unit: str  # what one value of ``display`` is about: "pixel", "atom", "residue"

    def display(self, raw: Any, attribution: np.ndarray, pre: dict) -> np.ndarray:
        """``attribution`` (at the model's input) mapped onto the raw input: one value per ``unit``."""

    def render(self, raw: Any, values: np.ndarray, path: Path) -> None:
        """Draw ``values`` on the raw input into the PNG ``path``."""


DISPLAYS: Registry[Display] = Registry("explanation display", ExplainError)
PLUGIN_MODULES = (
    "medtransfer.explanations.images",
    "medtransfer.explanations.molecules",
    "medtransfer.explanations.sequences",
    "medtransfer.explanations.text",
    "medtransfer.explanations.tables",
)


def get_display(modality: str) -> Display:
    for module in PLUGIN_MODULES:
        importlib.import_module(module)
    return DISPLAYS.get(modality)


def positive_share(values: np.ndarray, region: np.ndarray) -> float:
    """Share of the positive attribution mass that falls inside the boolean ``region``."""
    pos = np.clip(values, 0, None)
    total = float(pos.sum())
    return float(pos[region].sum()) / total if total > 0 else 0.0
