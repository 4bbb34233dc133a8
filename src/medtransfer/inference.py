"""Use a finished run: load its model with its exact preprocessing, predict new inputs, evaluate new data."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from medtransfer.adapt.model import TransferModel
from medtransfer.adapt.saved_model import load_model
from medtransfer.data.modality import Modality, get_modality
from medtransfer.data.options import ReadOptions
from medtransfer.data.sources import read_data
from medtransfer.data.table import SampleTable
from medtransfer.data.task import TaskSpec
from medtransfer.errors import DataError, RunError
from medtransfer.evaluation.metrics import compute_metrics, probabilities
from medtransfer.evaluation.predictions import prediction_rows
from medtransfer.train.predict import model_outputs


@dataclass
class LoadedModel:
    """A trained model plus everything needed to feed it: ``predict`` takes raw inputs (e.g. uint8 images)."""

    model: TransferModel
    task: TaskSpec
    preprocessing: dict
    modality: Modality
    run_dir: Path

    def predict(self, inputs: list[Any], batch_size: int = 64) -> np.ndarray:
        """Probabilities per class (classification / multi-label) or predictions (regression)."""
        ds = self.modality.dataset(inputs, None, self.preprocessing, train=False)
        return probabilities(self.task, model_outputs(self.model, ds, batch_size))

    def predict_files(self, sources: list[Path]) -> list[dict]:
        """Rows of id, prediction and probabilities for files, folders or a CSV of paths."""
        inputs, ids = self.modality.read_inputs(sources)
        return prediction_rows(self.task, ids, "predict", None, self.predict(inputs))

    def evaluate(self, table: SampleTable) -> tuple[dict, dict, list[dict]]:
        """(metrics, details, prediction rows) on ``table``, whose classes are matched to the model's by name."""
        table = self._align_classes(table)
        probs = self.predict(table.inputs)
        metrics, details = compute_metrics(self.task, table.targets, probs)
        return metrics, details, prediction_rows(self.task, table.ids, "evaluate", table.targets, probs)

    def _align_classes(self, table: SampleTable) -> SampleTable:
        if table.task.kind != self.task.kind and not (table.task.is_classification and self.task.is_classification):
            raise DataError(f"the data is a {table.task.kind} task but the model was trained for {self.task.kind}.")
        if not self.task.is_classification:
            return table
        names = list(self.task.class_names)
        unknown = [n for n in table.task.class_names if n not in names]
        if unknown:
            raise DataError(f"classes {unknown} in the data are unknown to the model, which knows {names}.")
        mapping = np.array([names.index(n) for n in table.task.class_names])
        return replace(table, targets=mapping[table.targets], task=self.task)


def load(run: str | Path) -> LoadedModel:
    """Load a finished run directory (its ``model/`` folder) for prediction."""
    run = Path(run)
    if not run.is_dir():
        partial = run.with_name(run.name + ".partial")
        hint = f" {partial} is an interrupted run: finish it with --resume." if partial.is_dir() else ""
        raise RunError(f"run directory {run} not found.{hint}")
    model, meta = load_model(run / "model")
    pre = meta["preprocessing"]
    return LoadedModel(model, TaskSpec.from_dict(meta["task"]), pre, get_modality(pre["modality"]), run)


def evaluation_rows(table: SampleTable, split: str | None) -> SampleTable:
    """The rows to evaluate: the named split, else the source's test split when it has one, else all."""
    if split == "all" or table.split is None:
        return table
    wanted = split or ("test" if (table.split == "test").any() else None)
    if wanted is None:
        return table
    index = np.where(table.split == wanted)[0]
    if len(index) == 0:
        raise DataError(f"{table.source} has no {wanted!r} rows; pass --split all or another split.")
    return table.subset(index)


def evaluate_data(run: str | Path, data: str, opts: ReadOptions | None = None, split: str | None = None) -> dict:
    """Metrics of a finished run on ``data`` (built-in name or path), with the run's own preprocessing."""
    loaded = load(run)
    table = evaluation_rows(read_data(data, opts or ReadOptions(), for_training=False), split)
    metrics, details, rows = loaded.evaluate(table)
    return {
        "task": loaded.task.kind,
        "data": data,
        "n": len(table),
        "metrics": metrics,
        "details": details,
        "rows": rows,
    }


__all__ = ["LoadedModel", "evaluate_data", "load"]
