"""Distillation during pretraining: the student also learns to reproduce a teacher backbone's per-token states.

Where a stronger encoder exists but is slow or awkward to fine-tune (UniRep's recurrence steps one residue at
a time), a small transformer pretrained on the same unlabelled corpus can regress the teacher's last-layer
states at every position, through a linear map that is dropped afterwards, beside its masked-LM loss
(DistilBERT's recipe). The student sees the masked input, the teacher the clean one. Targets are standardised
per dimension with statistics of the held-out texts, so the loss reads as the fraction of the teacher's
variance the student misses (1.0 = predicting the mean).
"""

from __future__ import annotations

import torch
from torch import nn

from medtransfer.backbones.base import Backbone
from medtransfer.errors import ConfigError


class TeacherTargets(nn.Module):
    """A frozen teacher, the student → teacher map, and the loss between them."""

    def __init__(self, teacher: Backbone, student_hidden: int, heldout_ids: torch.Tensor) -> None:
        super().__init__()
        self.teacher = teacher.eval().requires_grad_(False)
        self.project = nn.Linear(student_hidden, teacher.num_features)
        states, mask = self._states(heldout_ids)
        flat = states[mask]
        self.register_buffer("mean", flat.mean(0))
        self.register_buffer("scale", flat.std(0).clamp(min=1e-4))
        # the held-out targets never change: computed once here, not at every evaluation
        self.heldout = ((states - self.mean) / self.scale, mask)

    @torch.no_grad()
    def _states(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        states, mask = [], []
        for lo in range(0, len(ids), 256):  # bounded memory on a large held-out set
            s, m = self.teacher.forward_features(ids[lo : lo + 256])
            states.append(s)
            mask.append(m)
        width = max(s.shape[1] for s in states)  # each part is cut to its own longest row
        pad = [(s, m, width - s.shape[1]) for s, m in zip(states, mask, strict=True)]
        states = torch.cat([nn.functional.pad(s, (0, 0, 0, n)) for s, _, n in pad])
        return states, torch.cat([nn.functional.pad(m, (0, n)) for _, m, n in pad])

    @torch.no_grad()
    def teacher_states(self, clean_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The teacher's standardised states of the clean ids, and the positions it pools."""
        states, mask = self.teacher.forward_features(clean_ids)
        return (states - self.mean) / self.scale, mask

    def loss(self, student_states: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean squared error, over the positions the teacher pools, between the mapped student states and
        the teacher's standardised states."""
        predicted = self.project(student_states[:, : target.shape[1]])
        return nn.functional.mse_loss(predicted[mask], target[mask])

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """What a checkpoint must keep: the map (the teacher is reloaded, its statistics recomputed)."""
        return self.project.state_dict()


def load_teacher(name: str, tokenizer: dict) -> Backbone:
    """The pretrained backbone ``name``, which must read the student's token ids (the same vocabulary)."""
    from medtransfer.backbones.registry import create_backbone

    teacher = create_backbone(name, pretrained=True)
    spec = teacher.card.tokenizer
    if not spec or spec.get("vocab") != tokenizer["vocab"] or "hf_tokenizer" in spec:
        raise ConfigError(
            f"--teacher {name} does not read the student's tokens ({tokenizer['splitter']}, "
            f"{len(tokenizer['vocab'])}-token vocabulary): distil from a backbone with the same vocabulary "
            "(proteins: unirep_64, unirep_256, unirep_1900 or a protein folder made by medtransfer pretrain)."
        )
    if int(spec["max_length"]) < int(tokenizer["max_length"]):
        raise ConfigError(
            f"--teacher {name} reads at most {spec['max_length']} tokens, fewer than the student's --max-length "
            f"{tokenizer['max_length']}: lower --max-length or pick a teacher that reads longer inputs."
        )
    if not teacher.card.pretrained:
        raise ConfigError(f"--teacher {name} has random weights, with nothing to teach: pick a pretrained backbone.")
    return teacher
