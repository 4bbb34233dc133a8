"""What is being predicted: the task kind and the names of its classes or targets."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

TaskKind = Literal["binary", "multiclass", "multilabel", "regression"]


@dataclass(frozen=True)
class TaskSpec:
    """Task kind plus class names (classification), label names (multilabel) or the target name."""

    kind: TaskKind
    class_names: tuple[str, ...]
    positive: int = -1  # binary only: index of the class that sensitivity and AUROC treat as positive

    @property
    def positive_index(self) -> int:
        return self.positive % len(self.class_names)

    @property
    def num_outputs(self) -> int:
        """Width of the model's output layer."""
        if self.kind == "regression":
            return 1
        return len(self.class_names)

    @property
    def is_classification(self) -> bool:
        return self.kind in ("binary", "multiclass")

    def to_dict(self) -> dict:
        return {"kind": self.kind, "class_names": list(self.class_names), "positive": self.positive_index}

    @classmethod
    def from_dict(cls, d: dict) -> TaskSpec:
        return cls(kind=d["kind"], class_names=tuple(d["class_names"]), positive=d.get("positive", -1))


__all__ = ["TaskKind", "TaskSpec", "asdict"]
