"""Loss per task: cross-entropy, masked BCE for multi-label, MSE on standardised regression targets."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from medtransfer.data.task import TaskSpec


def task_loss(
    task: TaskSpec,
    outputs: torch.Tensor,
    targets: torch.Tensor,
    class_weights: torch.Tensor | None = None,
    target_mean: torch.Tensor | None = None,
    target_std: torch.Tensor | None = None,
) -> torch.Tensor:
    """``outputs`` are logits (classification) or predictions in data units (regression)."""
    if task.is_classification:
        return F.cross_entropy(outputs, targets.long(), weight=class_weights)
    if task.kind == "multilabel":
        # missing labels (NaN) contribute neither loss nor gradient
        mask = ~torch.isnan(targets)
        if not mask.any():
            return outputs.sum() * 0.0
        return F.binary_cross_entropy_with_logits(outputs[mask], targets[mask].float())
    pred = outputs.squeeze(-1)
    mean = target_mean.squeeze(-1) if target_mean is not None else 0.0
    std = target_std.squeeze(-1) if target_std is not None else 1.0
    return F.mse_loss((pred - mean) / std, (targets.float() - mean) / std)


def inverse_frequency_weights(targets: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Class weights n / (k · count): each class contributes equally to the loss."""
    counts = torch.bincount(targets.long(), minlength=n_classes).float().clamp(min=1)
    return counts.sum() / (n_classes * counts)
