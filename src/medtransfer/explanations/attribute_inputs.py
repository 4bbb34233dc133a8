"""Explain raw inputs with a loaded run: batch them as the model saw them, pick targets, attribute."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from medtransfer.data.tokens import special_id
from medtransfer.errors import ExplainError
from medtransfer.evaluation.metrics import probabilities
from medtransfer.explanations.display import get_display
from medtransfer.explanations.methods import attribute, methods_for
from medtransfer.inference import LoadedModel

BATCH = 8


@dataclass
class Explanation:
    """One input explained: what was explained (``target``), how sure the model is, and the maps."""

    id: str
    method: str
    target: str
    score: float  # the target's probability, or the predicted value for regression
    attribution: np.ndarray  # at the model's input: (H, W) pixels or (L,) token positions
    values: np.ndarray  # in the input's own units: pixels at the original size, atoms, residues
    unit: str  # what one entry of ``values`` is about: pixel, atom, nucleotide, residue


def default_method(loaded: LoadedModel) -> str:
    if loaded.preprocessing.get("tokenizer", {}).get("windows"):  # only occlusion follows inputs read in windows
        return "occlusion"
    return methods_for(loaded.model.backbone.explain_kind)[0] if loaded.model.backbone.explain_kind else "grad_cam"


def explain_inputs(
    loaded: LoadedModel, inputs: list[Any], ids: list[str], method: str | None = None, target: str | None = None
) -> list[Explanation]:
    """Attributions for each input towards ``target`` (a class name; default: the predicted class)."""
    method = method or default_method(loaded)
    display = get_display(loaded.modality.name)
    out: list[Explanation] = []
    for start in range(0, len(inputs), BATCH):
        x = model_inputs(loaded, inputs[start : start + BATCH])
        with torch.no_grad():
            outputs = loaded.model(x).numpy()
        targets = target_indices(loaded, outputs, target)
        maps = attribute(loaded.model, x, torch.as_tensor(targets), method).numpy()
        scores = probabilities(loaded.task, outputs)
        for j, (index, row) in enumerate(zip(targets, maps, strict=True)):
            i = start + j
            attribution = _trim(row, x[j], loaded)
            score = scores[j] if scores.ndim == 1 else scores[j, index]
            out.append(
                Explanation(
                    id=ids[i],
                    method=method,
                    target=_target_name(loaded, int(index)),
                    score=float(score),
                    attribution=attribution,
                    values=display.display(inputs[i], attribution, loaded.preprocessing),
                    unit=display.unit,
                )
            )
    return out


def model_inputs(loaded: LoadedModel, inputs: list[Any]) -> torch.Tensor:
    """Raw inputs as the model's input batch, with the run's own preprocessing."""
    ds = loaded.modality.dataset(inputs, None, loaded.preprocessing, train=False)
    return torch.stack([ds[i] for i in range(len(ds))])


def token_lengths(loaded: LoadedModel, x: torch.Tensor) -> list[int] | None:
    """Each input's own number of token positions (None for images)."""
    if loaded.model.backbone.explain_kind != "tokens":
        return None
    pad = special_id(loaded.preprocessing["tokenizer"], "[PAD]")
    return [int(n) for n in (x != pad).sum(1)]


def target_indices(loaded: LoadedModel, outputs: np.ndarray, target: str | None) -> np.ndarray:
    """The output index to explain per input: the named class, else the highest output (0 for regression)."""
    if loaded.task.kind == "regression":
        return np.zeros(len(outputs), dtype=np.int64)
    if target is None:
        return outputs.argmax(axis=1)
    names = list(loaded.task.class_names)
    if target not in names:
        raise ExplainError(f"--target {target!r} is not a class of this model; its classes are {names}.")
    return np.full(len(outputs), names.index(target), dtype=np.int64)


def _target_name(loaded: LoadedModel, index: int) -> str:
    return "prediction" if loaded.task.kind == "regression" else str(loaded.task.class_names[index])


def _trim(row: np.ndarray, x: torch.Tensor, loaded: LoadedModel) -> np.ndarray:
    """Token maps cover the batch's padded length: keep this input's own positions."""
    lengths = token_lengths(loaded, x[None])
    return row if lengths is None else row[: lengths[0]]
