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
from medtransfer.errors import RunError
from medtransfer.evaluation.baselines import (
    class_probs,
    classical_model,
    estimator_label,
    fit_per_label,
    per_label_probs,
)

ESTIMATOR_FILE = "classical.skops"
KIND = "classical"
# the non-default types a random forest (the tree) and LightGBM (its booster, kept as its own model text) hold
TRUSTED = ["sklearn.tree._tree.Tree", "collections.OrderedDict", "lightgbm.basic.Booster",
           "lightgbm.sklearn.LGBMClassifier", "lightgbm.sklearn.LGBMRegressor"]  # fmt: skip


@dataclass
class ClassicalModel:
    """A fitted estimator on ``features`` (the modality's ``simple_features``); multi-label: a list, one per
    label (an estimator, or a float: the positive rate of a label that had one class in training)."""

    estimator: object
    task: TaskSpec
    features: str
    estimator_name: str

    @property
    def description(self) -> str:
        return f"{self.features} + {estimator_label(self.estimator_name, self.task.kind == 'regression')}"

    @property
    def handed_over(self) -> str:
        """What a run holding this model holds, in words."""
        return f"the classical model ({self.description})"

    def predict_inputs(self, inputs: list, modality, batch_size: int = 64) -> np.ndarray:
        """``predict_features`` of the modality's hand-made features of raw ``inputs``."""
        return self.predict_features(modality.simple_features(inputs))

    def predict_features(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (classification) or predictions (regression) from the hand-made features."""
        if self.task.kind == "regression":
            return self.estimator.predict(x)
        if self.task.kind == "multilabel":
            return per_label_probs(self.estimator, x)
        return class_probs(self.task, self.estimator, x)


def fit_classical(task: TaskSpec, x: np.ndarray, y: np.ndarray, features: str, estimator: str, seed: int):
    """The classical baseline's estimator fitted on (``x``, ``y``): one per label for multi-label tasks."""
    if task.kind == "multilabel":
        return ClassicalModel(fit_per_label(task, x, y, estimator, seed), task, features, estimator)
    return ClassicalModel(classical_model(task, estimator, seed).fit(x, y), task, features, estimator)


def save_classical(model: ClassicalModel, folder: Path, preprocessing: dict) -> None:
    import skops.io as sio

    folder.mkdir(parents=True, exist_ok=True)
    labels = None
    if isinstance(model.estimator, list):  # multi-label: a file per label, or its constant rate
        labels = []
        for j, est in enumerate(model.estimator):
            if isinstance(est, float):
                labels.append({"constant": None if np.isnan(est) else est})
            else:
                sio.dump(est, folder / f"label-{j}.{ESTIMATOR_FILE}")
                labels.append({"file": f"label-{j}.{ESTIMATOR_FILE}"})
    else:
        sio.dump(model.estimator, folder / ESTIMATOR_FILE)
    meta = {"format": 1, "kind": KIND, "task": model.task.to_dict(), "preprocessing": preprocessing, "labels": labels,
            "features": model.features, "estimator": model.estimator_name,
            "backbone": {"name": KIND}, "head": {"kind": KIND}, "backbone_card": classical_card(model)}  # fmt: skip
    (folder / "model.json").write_text(json.dumps(meta, indent=2))


def load_classical(folder: Path, meta: dict) -> ClassicalModel:
    """Load with skops, trusting only the types a scikit-learn forest or linear pipeline holds."""
    if meta.get("labels") is not None:
        estimator: object = [
            _load_estimator(folder / entry["file"]) if "file" in entry
            else float("nan") if entry["constant"] is None else float(entry["constant"])
            for entry in meta["labels"]
        ]  # fmt: skip
    else:
        estimator = _load_estimator(folder / ESTIMATOR_FILE)
    return ClassicalModel(estimator, TaskSpec.from_dict(meta["task"]), meta["features"], meta["estimator"])


def _load_estimator(path: Path):
    import skops.io as sio

    if not path.is_file():
        raise RunError(f"{path} is missing: the classical model cannot be loaded; re-run the search.")
    unknown = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED]
    if unknown:
        raise RunError(f"{path} holds types medtransfer does not load: {', '.join(unknown)}.")
    return sio.load(path, trusted=TRUSTED)


def classical_card(model: ClassicalModel) -> dict:
    """What the report's model card says of a classical model: no source weights, nothing transferred."""
    return {"name": KIND, "architecture": model.description, "source": "trained here on the run's training split",
            "licence": "as the data's", "pretrained": False, "changes": [], "citation": ""}  # fmt: skip
