"""The classical model as a model a run can hand over: the modality's hand-made features → a scikit-learn
estimator, saved with skops (no pickle) beside a model.json, so ``medtransfer.load`` predicts with it.

Where it beats every transferred model on validation, AutoTransfer saves it as the run: the user gets it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medtransfer.data.task import TaskSpec
from medtransfer.errors import ConfigError, RunError
from medtransfer.evaluation.baselines import ESTIMATOR_NAMES, class_probs, classical_model

ESTIMATOR_FILE = "classical.skops"
KIND = "classical"
TRUSTED = ["sklearn.tree._tree.Tree"]  # the one non-default type a random forest holds


@dataclass
class ClassicalModel:
    """A fitted estimator on ``features`` (the modality's ``simple_features``)."""

    estimator: object
    task: TaskSpec
    features: str
    estimator_name: str

    @property
    def description(self) -> str:
        return f"{self.features} + {ESTIMATOR_NAMES[self.estimator_name][self.task.kind == 'regression']}"

    def predict_features(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (classification) or predictions (regression) from the hand-made features."""
        if self.task.kind == "regression":
            return self.estimator.predict(x)
        return class_probs(self.task, self.estimator, x)


def fit_classical(task: TaskSpec, x: np.ndarray, y: np.ndarray, features: str, estimator: str, seed: int):
    """The classical baseline's estimator fitted on (``x``, ``y``); multi-label tasks are not supported yet."""
    if task.kind == "multilabel":
        raise ConfigError("a classical model is saved for binary, multiclass and regression tasks only.")
    return ClassicalModel(classical_model(task, estimator, seed).fit(x, y), task, features, estimator)


def save_classical(model: ClassicalModel, folder: Path, preprocessing: dict) -> None:
    import skops.io as sio

    folder.mkdir(parents=True, exist_ok=True)
    sio.dump(model.estimator, folder / ESTIMATOR_FILE)
    meta = {"format": 1, "kind": KIND, "task": model.task.to_dict(), "preprocessing": preprocessing,
            "features": model.features, "estimator": model.estimator_name,
            "backbone": {"name": KIND}, "head": {"kind": KIND}, "backbone_card": classical_card(model)}  # fmt: skip
    (folder / "model.json").write_text(json.dumps(meta, indent=2))


def load_classical(folder: Path, meta: dict) -> ClassicalModel:
    """Load with skops, trusting only the types a scikit-learn forest or linear pipeline holds."""
    import skops.io as sio

    path = folder / ESTIMATOR_FILE
    unknown = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED]
    if unknown:
        raise RunError(f"{path} holds types medtransfer does not load: {', '.join(unknown)}.")
    estimator = sio.load(path, trusted=TRUSTED)
    return ClassicalModel(estimator, TaskSpec.from_dict(meta["task"]), meta["features"], meta["estimator"])


def classical_card(model: ClassicalModel) -> dict:
    """What the report's model card says of a classical model: no source weights, nothing transferred."""
    return {"name": KIND, "architecture": model.description, "source": "trained here on the run's training split",
            "licence": "as the data's", "pretrained": False, "changes": [], "citation": ""}  # fmt: skip
