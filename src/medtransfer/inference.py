"""Use a finished run: load its model with its exact preprocessing, predict new inputs, evaluate new data."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medtransfer.adapt.model import TransferModel
from medtransfer.adapt.saved_model import load_model
from medtransfer.autotransfer.ensemble_model import KIND as ENSEMBLE
from medtransfer.autotransfer.ensemble_model import EnsembleModel, load_ensemble
from medtransfer.data.modality import Modality, get_modality
from medtransfer.data.options import ReadOptions
from medtransfer.data.sources import read_data
from medtransfer.data.table import SampleTable
from medtransfer.data.task import TaskSpec
from medtransfer.errors import DataError, RunError
from medtransfer.evaluation.classical_model import KIND as CLASSICAL
from medtransfer.evaluation.classical_model import ClassicalModel, load_classical
from medtransfer.evaluation.metrics import compute_metrics, predicted_labels, probabilities
from medtransfer.evaluation.predictions import prediction_rows
from medtransfer.train.devices import accelerator_device
from medtransfer.train.predict import model_outputs, on_device, place

log = logging.getLogger("medtransfer")


@dataclass
class LoadedModel:
    """A trained model plus everything needed to feed it: ``predict`` takes raw inputs (e.g. uint8 images)."""

    model: TransferModel | ClassicalModel | EnsembleModel
    task: TaskSpec
    preprocessing: dict
    modality: Modality
    run_dir: Path
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    def to(self, device: str | torch.device) -> LoadedModel:
        """Predict on ``device`` ("cuda", "cuda:1", "cpu" …) from now on; the weights move there once."""
        self.device = torch.device(device)
        if isinstance(self.model, TransferModel):
            place(self.model, self.device, for_compute=False)
        for member in getattr(self.model, "members", []):  # an ensemble's fine-tuned members
            member.to(self.device)
        return self

    def predict_proba(self, inputs: list[Any], batch_size: int = 64) -> np.ndarray:
        """Probabilities (n, classes) for classification and multi-label tasks; predictions for regression."""
        if not isinstance(self.model, TransferModel):  # a run that handed over the classical model or an ensemble
            return self.model.predict_inputs(inputs, self.modality, batch_size)
        ds = self.modality.dataset(inputs, None, self.preprocessing, train=False)
        with on_device(self.device):
            return probabilities(self.task, model_outputs(self.model, ds, batch_size))

    def predict(self, inputs: list[Any], batch_size: int = 64) -> np.ndarray:
        """Labels, as scikit-learn's ``predict``: class names (classification), a 0/1 matrix (multi-label), or
        values (regression). ``predict_proba`` gives the probabilities."""
        predicted = predicted_labels(self.task, self.predict_proba(inputs, batch_size))
        if self.task.is_classification:
            return np.asarray(self.task.class_names, dtype=object)[predicted]
        return predicted

    def predict_files(self, sources: list[Path], skip_invalid: bool = False) -> tuple[list[dict], list[dict]]:
        """(rows of id, prediction and probabilities, invalid inputs left out) for files, folders or a CSV.

        An invalid input stops with an error naming it, unless ``skip_invalid`` leaves it out (and lists it)."""
        rows: list[dict] = []
        dropped: list[dict] = []
        for batch_rows, batch_dropped in self.iter_predictions(sources, skip_invalid)[1]:
            rows += batch_rows
            dropped += batch_dropped
        return rows, dropped

    def iter_predictions(
        self, sources: list[Path], skip_invalid: bool = False, batch_size: int = 256
    ) -> tuple[int, Iterator[tuple[list[dict], list[dict]]]]:
        """(how many inputs, batches of (prediction rows, invalid inputs left out)), read and predicted a batch
        at a time so that inputs too many for memory stream through."""
        stream = self.modality.stream_inputs(sources, skip_invalid, batch_size)

        def batches() -> Iterator[tuple[list[dict], list[dict]]]:
            produced = 0
            for inputs, ids, dropped in stream.batches:
                rows = prediction_rows(self.task, ids, "predict", None, self.predict_proba(inputs)) if inputs else []
                produced += len(rows)
                yield rows, dropped
            if not produced:
                raise DataError(f"no valid inputs in {', '.join(map(str, sources))}.")

        return stream.total, batches()

    def evaluate(self, table: SampleTable) -> tuple[dict, dict, list[dict]]:
        """(metrics, details, prediction rows) on ``table``, whose classes are matched to the model's by name."""
        table = self._align_classes(table)
        probs = self.predict_proba(table.inputs)
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


def load(run: str | Path, device: str = "auto") -> LoadedModel:
    """Load a finished run directory (its ``model/`` folder), an exported bundle or a bundle archive.

    ``device``: where predictions run, a torch device name, or "auto" (the GPU when there is one)."""
    from medtransfer.exporting.bundle import is_archive, unpack_archive

    run = Path(run)
    if run.is_file() and is_archive(run):
        run = unpack_archive(run)
    if not run.is_dir():
        partial = run.with_name(run.name + ".partial")
        hint = f" {partial} is an interrupted run: finish it with --resume." if partial.is_dir() else ""
        raise RunError(f"run directory {run} not found.{hint}")
    if (run / "checksums.sha256").is_file():  # an exported bundle: refuse files changed since export
        from medtransfer.exporting.bundle import verify_bundle

        verify_bundle(run)
    return _load_member(run / "model", run).to(accelerator_device("auto") if device == "auto" else device)


def _load_any(folder: Path) -> tuple[TransferModel | ClassicalModel | EnsembleModel, dict]:
    """The saved model of a run: a fine-tuned network, or the classical model or an ensemble where that won."""
    import json

    meta_path = folder / "model.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    if meta.get("kind") == CLASSICAL:
        return load_classical(folder, meta), meta
    if meta.get("kind") == ENSEMBLE:
        return load_ensemble(folder, meta, _load_member), meta
    return load_model(folder)


def _load_member(folder: Path, run_dir: Path | None = None) -> LoadedModel:
    """One saved model folder (a run's ``model/``, or an ensemble's member) ready to predict."""
    model, meta = _load_any(folder)
    pre = meta["preprocessing"]
    return LoadedModel(model, TaskSpec.from_dict(meta["task"]), pre, get_modality(pre["modality"]), run_dir or folder)


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


def evaluate_data(run: str | Path, data: str, opts: dict | None = None, split: str | None = None) -> dict:
    """Metrics of a finished run on ``data`` (built-in name or path), with the run's own preprocessing.

    On the data the run was trained on, the run's own split is replayed (same read options, seed and leakage
    fix), so the test split means the rows the model never saw. Other data is read with the run's read
    options (``opts`` overrides them), and rows the model trained on are counted and warned about.
    """
    loaded = load(run)
    config = _run_config(loaded.run_dir)
    if config and data == config["data"] and not opts:
        from medtransfer.pipeline import replay_split

        table, used = replay_split(loaded.run_dir, split)
        source = f"{data}, the run's own {used} split"
    else:
        read = {**_read_options(config), **(opts or {})}
        table = evaluation_rows(read_data(data, ReadOptions(**read), for_training=False), split)
        source = data
    seen = _trained_on(loaded, table)
    if seen:
        log.warning("%d of %d evaluated rows were in this run's training or validation data: these figures are "
                    "optimistic. Evaluate on held-out data (or the run's own data: its test split is replayed).",
                    seen, len(table))  # fmt: skip
    metrics, details, rows = loaded.evaluate(table)
    return {
        "task": loaded.task.kind,
        "data": source,
        "n": len(table),
        "seen_in_training": seen,
        "metrics": metrics,
        "details": details,
        "rows": rows,
    }


def _run_config(run_dir: Path) -> dict | None:
    import yaml

    path = run_dir / "config.yaml"
    return yaml.safe_load(path.read_text()) if path.is_file() else None


def _read_options(config: dict | None) -> dict:
    """The run's own read options (column names, FASTA label pattern, ...), as the fit read its data."""
    if not config:
        return {}
    from medtransfer.config import FitConfig

    options = FitConfig(**config).read_options().model_dump()
    return {k: v for k, v in options.items() if k not in ("subgroup_columns", "skip_invalid")}


def _trained_on(loaded: LoadedModel, table: SampleTable) -> int:
    """How many of ``table``'s inputs the run trained or validated on (0 for runs that did not record it)."""
    from medtransfer.data.hashing import row_hashes
    from medtransfer.run.rundir import TRAINED_ON

    path = loaded.run_dir / TRAINED_ON
    if not path.is_file():
        return 0
    known = set(path.read_text().split())
    return sum(h in known for h in row_hashes(table, loaded.modality.input_bytes))


__all__ = ["LoadedModel", "evaluate_data", "load"]
