"""Mixup (Zhang et al. 2018): train on convex mixes of pairs of examples and of their labels.

A regulariser for fine-tuning on a few hundred images, where a pretrained network memorises its training set in a
few epochs. Each batch is mixed with a shuffled copy of itself by one weight λ ~ Beta(α, α); the loss is the
same mix of the two labels' losses. The draws come from a generator seeded by (seed, epoch, batch), never the
global one: a resumed epoch mixes the same pairs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from medtransfer.data.task import TaskSpec
from medtransfer.errors import ConfigError


def check_mixup(alpha: float, task: TaskSpec, example: object) -> None:
    """Raise ``ConfigError`` where mixup cannot apply: labels that are not classes, inputs that are not numbers."""
    if alpha <= 0:
        return
    if not task.is_classification:
        raise ConfigError(f"--mixup mixes class labels; this is a {task.kind} task: leave --mixup at 0")
    if not (isinstance(example, torch.Tensor) and example.is_floating_point()):
        raise ConfigError(
            f"--mixup mixes input tensors; these inputs are {type(example).__name__} (token ids or structures "
            "cannot be averaged): leave --mixup at 0"
        )


def mixed_loss(
    x: torch.Tensor,
    y: torch.Tensor,
    alpha: float,
    seed: tuple[int, int, int],
    forward: Callable[[torch.Tensor], torch.Tensor],
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """``loss`` of ``forward`` on the batch mixed with a shuffled copy of itself: λ·loss(y) + (1 − λ)·loss(y')."""
    rng = np.random.default_rng(seed)
    lam = float(rng.beta(alpha, alpha))
    order = torch.as_tensor(rng.permutation(len(y)), device=x.device)
    out = forward(lam * x + (1.0 - lam) * x[order])
    return lam * loss(out, y) + (1.0 - lam) * loss(out, y[order])
