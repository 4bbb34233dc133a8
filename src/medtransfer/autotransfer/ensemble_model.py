"""An ensemble of fine-tuned models as a model a run can hand over: the mean of its members' probabilities
(predictions, for regression), each member fed with its own preprocessing (image size, tokenizer).

Saved as ``model/model.json`` (kind ``ensemble``) with one folder per member, ``model/member-<i>/``, each an
ordinary saved model; ``medtransfer.load`` reads it like any run.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from medtransfer.data.modality import Modality
from medtransfer.data.task import TaskSpec

KIND = "ensemble"


@dataclass
class EnsembleModel:
    """``members``: loaded runs (``inference.LoadedModel``) of the same task; ``labels``: their trial names."""

    members: list[Any]
    labels: list[str]
    task: TaskSpec

    @property
    def description(self) -> str:
        return f"an ensemble of {len(self.members)} fine-tuned models ({', '.join(self.labels)})"

    @property
    def handed_over(self) -> str:
        """What a run holding this model holds, in words."""
        return self.description

    def predict_inputs(self, inputs: list[Any], modality: Modality, batch_size: int = 64) -> np.ndarray:
        """The mean of the members' probabilities (or predictions) on raw ``inputs``."""
        return np.mean([m.predict_proba(inputs, batch_size) for m in self.members], axis=0)


def save_ensemble(member_runs: list[Path], labels: list[str], task: TaskSpec, modality: str, folder: Path) -> None:
    """Copy each member run's ``model/`` into ``folder/member-<i>/`` and describe the ensemble in model.json."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, run in enumerate(member_runs):
        shutil.copytree(Path(run) / "model", folder / f"member-{i}")
        names.append(f"member-{i}")
    card = {"name": KIND, "architecture": f"mean of {len(names)} fine-tuned models: {', '.join(labels)}",
            "source": "the search's best trials on validation (each member's own source and licence apply)",
            "licence": "each member's", "pretrained": True, "changes": [], "citation": ""}  # fmt: skip
    meta = {"format": 1, "kind": KIND, "task": task.to_dict(), "preprocessing": {"modality": modality},
            "members": names, "labels": labels, "backbone": {"name": KIND}, "head": {"kind": KIND},
            "backbone_card": card}  # fmt: skip
    (folder / "model.json").write_text(json.dumps(meta, indent=2))


def load_ensemble(folder: Path, meta: dict, load_member) -> EnsembleModel:
    """The ensemble in ``folder``; ``load_member(path)`` loads one member folder as a ``LoadedModel``."""
    members = [load_member(folder / name) for name in meta["members"]]
    return EnsembleModel(members, list(meta["labels"]), TaskSpec.from_dict(meta["task"]))
