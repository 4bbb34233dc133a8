"""Batched forward passes in eval mode: model outputs for a dataset, or pooled backbone features.

They run on the device that ``on_device`` names (the run's accelerator during a fit, ``load(device=…)`` for a
saved model), float32 throughout, convolutions channels_last, and leave the module where they found it, its
weights contiguous."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

CPU_BATCH = 32
_DEVICE: ContextVar[torch.device | None] = ContextVar("medtransfer_inference_device", default=None)


@contextmanager
def on_device(device: torch.device | str) -> Iterator[torch.device]:
    """Forward passes inside the block (feature caching, scoring, prediction) run on ``device``."""
    token = _DEVICE.set(torch.device(device))
    try:
        yield inference_device()
    finally:
        _DEVICE.reset(token)


def inference_device() -> torch.device:
    """The device forward passes run on here (CPU unless ``on_device`` says otherwise)."""
    return _DEVICE.get() or torch.device("cpu")


def place(module: torch.nn.Module, device: torch.device, for_compute: bool = True) -> None:
    """Move ``module`` to ``device``; its 4-D (convolution) weights channels_last ``for_compute``, contiguous
    otherwise. oneDNN (CPU) and cuDNN (GPU) run NHWC convolutions faster: EfficientNet-Lite0 here 1.5× in a
    forward at 224 px, 1.2–1.4× in a training step (bench/throughput.py). Layers without 4-D weights stay as
    they are; saved weights are contiguous (safetensors takes nothing else)."""
    module.to(device=device, memory_format=torch.channels_last if for_compute else torch.contiguous_format)


def batched_outputs(
    fn: Callable[[torch.Tensor], torch.Tensor],
    module: torch.nn.Module,
    dataset: Dataset,
    batch_size: int = 64,
) -> torch.Tensor:
    """``fn(x)`` over ``dataset`` (items are x or (x, y)), concatenated on the CPU: see ``iter_outputs``."""
    outs = list(iter_outputs(fn, module, dataset, batch_size))
    return torch.cat(outs) if outs else torch.empty(0)


def iter_outputs(
    fn: Callable[[torch.Tensor], torch.Tensor],
    module: torch.nn.Module,
    dataset: Dataset,
    batch_size: int = 64,
) -> Iterator[torch.Tensor]:
    """``fn(x)`` batch by batch over ``dataset`` (items are x or (x, y)) with ``module`` in eval mode on the
    inference device; results on CPU; the module's mode and device restored when the batches run out (or the
    iterator is closed). Only the forward passes run in inference mode: weights moved or re-laid out inside it
    would become inference tensors that no later backward (an explanation, a fine-tune) could use."""
    from lightning.fabric.utilities.apply_func import move_data_to_device

    device = inference_device()
    if device.type == "cpu":  # larger batches outgrow the caches: EfficientNet-Lite0 forwards 1.2–1.5× faster at
        batch_size = min(batch_size, CPU_BATCH)  # 32 than at 64, at 64 and 224 px (bench/throughput.py)
    first = next(module.parameters(), None)
    home = first.device if first is not None else device
    was_training = module.training
    place(module, device)
    module.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, pin_memory=device.type == "cuda")
    try:  # pinned host batches copy to the GPU without blocking (Lightning's mover passes non_blocking there)
        for batch in loader:
            x = batch[0] if isinstance(batch, (list, tuple)) else batch
            with torch.inference_mode():
                out = fn(move_data_to_device(x, device)).float().cpu()
            yield out
    finally:
        module.train(was_training)
        place(module, home, for_compute=False)


def model_outputs(model: torch.nn.Module, dataset: Dataset, batch_size: int = 64) -> np.ndarray:
    """Logits (or regression predictions) for every item of ``dataset``."""
    return batched_outputs(model, model, dataset, batch_size).numpy()
