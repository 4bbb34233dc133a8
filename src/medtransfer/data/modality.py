"""Modality plug-ins: each modality says how to read, hash, preprocess and batch its samples.

The pipeline looks a modality up by name and never branches on it; a new modality registers here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from torch.utils.data import Dataset

from medtransfer.data.input_stream import InputStream
from medtransfer.data.options import ReadOptions
from medtransfer.data.table import SampleTable
from medtransfer.errors import DataError
from medtransfer.registry import Registry


@dataclass
class Fingerprints:
    """What the leakage audit compares: an exact key per input, optional packed-bit near-duplicate hashes, and
    an optional confirmation that takes candidate row pairs (two index arrays) and says which are copies."""

    exact: list[str]
    near: np.ndarray | None = None
    near_fraction: float = 0.02  # near candidates: hashes differing in at most this share of their bits
    confirm: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None


class Modality(Protocol):
    name: str
    default_backbone: str  # what ``fit`` uses when no backbone is given: the best offline one we measured

    def claims(self, path: Path, opts: ReadOptions) -> bool:
        """True when this modality can read ``path`` (with these column options) as labelled data."""

    def read(self, path: Path, opts: ReadOptions) -> SampleTable:
        """Read labelled samples from ``path``."""

    def read_inputs(self, sources: list[Path], skip_invalid: bool = False) -> tuple[list[Any], list[str], list[dict]]:
        """Read unlabelled inputs (for prediction), their ids, and the invalid ones left out (``skip_invalid``;
        otherwise an invalid input stops with a DataError naming it)."""

    def stream_inputs(self, sources: list[Path], skip_invalid: bool, batch_size: int) -> InputStream:
        """``read_inputs`` a batch at a time, for ``predict`` on inputs too many to hold at once."""

    def input_bytes(self, x: Any) -> bytes:
        """Canonical bytes of one input, for content hashes."""

    def backbone_kwargs(self, table: SampleTable) -> dict:
        """What the backbone must accept for this data (e.g. ``in_chans``)."""

    def preprocessing(self, card: Any, table: SampleTable, settings: dict) -> dict:
        """The preprocessing saved with the model: enough to rebuild ``dataset`` at prediction time."""

    def describe(self, table: SampleTable, pre: dict) -> str:
        """One line for the report: what the inputs are and how they are fed to the model."""

    def fingerprints(self, inputs: list[Any]) -> Fingerprints:
        """Per-input exact keys (content hash, InChIKey, ...), optional near hashes and their confirmation."""

    simple_features_name: str
    baseline_estimator: str  # "linear" (logistic regression / ridge) or "random_forest" on simple_features

    def simple_features(self, inputs: list[Any]) -> np.ndarray:
        """Cheap hand-made features (n, d) for the classical baseline reported beside every model."""

    def dataset(self, inputs: list[Any], targets: np.ndarray | None, pre: dict, train: bool) -> Dataset:
        """A torch Dataset of (tensor, target), or tensors when ``targets`` is None."""


MODALITIES: Registry[Modality] = Registry("modality", DataError)
PLUGIN_MODULES = (
    "medtransfer.data.images.plugin",
    "medtransfer.data.molecules.plugin",
    "medtransfer.data.sequences.plugin",
    "medtransfer.data.text.plugin",
    "medtransfer.data.tables.plugin",  # claims a CSV with a label column that no other modality claims
)


def _load_plugins() -> None:
    for module in PLUGIN_MODULES:
        importlib.import_module(module)


def backbone_modalities(modality: Modality) -> tuple[str, ...]:
    """The backbone modalities a modality reads: its own, and others it feeds across domains (a table's rows
    read as text by a text encoder); a hub backbone ("any") fits every string modality."""
    return (modality.name, *getattr(modality, "reads_backbones_of", ()), "any")


def get_modality(name: str) -> Modality:
    _load_plugins()
    return MODALITIES.get(name)


def all_modalities() -> list[Modality]:
    _load_plugins()
    return [MODALITIES.get(n) for n in MODALITIES]
