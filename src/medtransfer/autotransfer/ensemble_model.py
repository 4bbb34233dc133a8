"""An ensemble of fine-tuned models as a model a run can hand over: the mean of its members' probabilities
(predictions, for regression), each member fed with its own preprocessing (image size, tokenizer).

Members that read the same features (linear probes of one source at one preprocessing: equal backbone weights)
share one backbone pass, and each applies its own head: the search's tuned probes of a source make such
ensembles, and three rxnfp_bert probes had each run the BERT over validation and test.

Saved as ``model/model.json`` (kind ``ensemble``) with one folder per member, ``model/member-<i>/``, each an
ordinary saved model; ``medtransfer.load`` reads it like any run.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medtransfer.adapt.model import TransferModel
from medtransfer.data.modality import Modality
from medtransfer.data.task import TaskSpec
from medtransfer.evaluation.metrics import probabilities
from medtransfer.train.predict import batched_outputs, on_device

KIND = "ensemble"


@dataclass
class EnsembleModel:
    """``members``: loaded runs (``inference.LoadedModel``) of the same task; ``labels``: their trial names."""

    members: list[Any]
    labels: list[str]
    task: TaskSpec

    @cached_property
    def passes(self) -> list[list[int]]:
        """``shared_passes`` of the members, found once: comparing backbone weights per prediction (a served
        request) would cost more than the pass it saves."""
        return shared_passes(self.members)

    @property
    def description(self) -> str:
        return f"an ensemble of {len(self.members)} fine-tuned models ({', '.join(self.labels)})"

    @property
    def handed_over(self) -> str:
        """What a run holding this model holds, in words."""
        return self.description

    def predict_inputs(self, inputs: list[Any], modality: Modality, batch_size: int = 64) -> np.ndarray:
        """The mean of the members' probabilities (or predictions) on raw ``inputs``; members that read the same
        features (``shared_passes``) get them from one backbone pass."""
        outputs: list[np.ndarray | None] = [None] * len(self.members)
        for group in self.passes:
            if len(group) == 1:
                outputs[group[0]] = self.members[group[0]].predict_proba(inputs, batch_size)
                continue
            shared = _one_pass([self.members[i] for i in group], inputs, batch_size)
            for index, probs in zip(group, shared, strict=True):
                outputs[index] = probs
        return np.mean(outputs, axis=0)


def shared_passes(members: list[Any]) -> list[list[int]]:
    """Member indices grouped by the backbone pass they can share: fine-tuned networks with equal preprocessing,
    device and backbone (architecture, weights and buffers); any other member stands alone."""
    groups: list[list[int]] = []
    for index, member in enumerate(members):
        group = next((g for g in groups if _same_features(members[g[0]], member)), None)
        if group is None:
            groups.append([index])
        else:
            group.append(index)
    return groups


def _same_features(a: Any, b: Any) -> bool:
    if not (isinstance(a.model, TransferModel) and isinstance(b.model, TransferModel)):
        return False
    if a.preprocessing != b.preprocessing or a.device != b.device:
        return False
    one, other = a.model.backbone, b.model.backbone
    if type(one) is not type(other) or repr(one) != repr(other):
        return False
    mine, theirs = one.state_dict(), other.state_dict()
    return mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)


def _one_pass(members: list[Any], inputs: list[Any], batch_size: int) -> list[np.ndarray]:
    """Each member's probabilities from one pass of their common backbone (and one over mirror images where a
    member averages them in: ``TransferModel.test_time_flip``), each through its own head."""
    first = members[0]
    model = first.model
    dataset = first.modality.dataset(inputs, None, first.preprocessing, train=False)
    with on_device(first.device):
        views = {False: batched_outputs(model.embed, model, dataset, batch_size)}
        if any(m.model.test_time_flip for m in members):
            views[True] = batched_outputs(lambda x: model.embed(x.flip(-1)), model, dataset, batch_size)
    return [probabilities(m.task, _head_outputs(m.model, views)) for m in members]


def _head_outputs(model: TransferModel, views: dict[bool, torch.Tensor]) -> np.ndarray:
    """``model``'s outputs from its backbone's features, as its own forward would give them in eval mode."""
    device, was_training = model.target_mean.device, model.training
    model.eval()
    try:
        with torch.inference_mode():
            out = model.outputs(views[False].to(device), views[True].to(device) if model.test_time_flip else None)
    finally:
        model.train(was_training)
    return out.float().cpu().numpy()


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
