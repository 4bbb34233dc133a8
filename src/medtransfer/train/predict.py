"""Batched forward passes in eval mode: model outputs for a dataset, or pooled backbone features."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


@torch.inference_mode()
def batched_outputs(
    fn: Callable[[torch.Tensor], torch.Tensor],
    module: torch.nn.Module,
    dataset: Dataset,
    batch_size: int = 64,
) -> torch.Tensor:
    """``fn(x)`` over ``dataset`` (items are x or (x, y)) with ``module`` in eval mode; training mode restored."""
    was_training = module.training
    module.eval()
    outs = []
    try:
        for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            x = batch[0] if isinstance(batch, (list, tuple)) else batch
            outs.append(fn(x).float().cpu())
    finally:
        module.train(was_training)
    return torch.cat(outs) if outs else torch.empty(0)


def model_outputs(model: torch.nn.Module, dataset: Dataset, batch_size: int = 64) -> np.ndarray:
    """Logits (or regression predictions) for every item of ``dataset``."""
    return batched_outputs(model, model, dataset, batch_size).numpy()
