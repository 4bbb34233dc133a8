"""The fit configuration: plain typed data from YAML, CLI flags or keyword arguments, validated once."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from medtransfer.data.options import ReadOptions
from medtransfer.data.task import TaskKind
from medtransfer.errors import ConfigError


class FitConfig(BaseModel):
    """Everything that determines a run. Saved as config.yaml in the run directory."""

    model_config = ConfigDict(extra="forbid")

    data: str = Field(description="built-in dataset name, folder, CSV or .npz")
    label_column: str = "label"
    path_column: str | None = None
    input_column: str | None = None
    skip_invalid: bool = False
    strip_salts: bool = False
    label_pattern: str | None = None  # FASTA: regex whose group 1 is the label in each header
    labels: str | None = None  # FASTA: a side CSV (id + label columns) instead of labels in the headers
    iupac: Literal["n", "keep", "error"] = "n"  # DNA ambiguity codes: to N, kept, or refused
    # DNA / protein longer than the backbone reads: cut at its length, or read whole in consecutive windows
    long_inputs: Literal["truncate", "window"] = "truncate"
    modality: str | None = None  # None: the first modality that claims the data (medtransfer datasets)
    split: Literal["auto", "random"] = "auto"
    group_column: str | None = None
    split_column: str = "split"
    subgroup_column: str | None = None
    task: TaskKind | None = None
    positive_class: str | None = None
    target_sensitivity: float | None = Field(None, gt=0, le=1)
    calibrate: Literal["none", "temperature"] = "none"
    # a TabPFN checkpoint the user has: the classical contestant becomes TabPFN in context on the simple features
    tabpfn: str | None = None

    backbone: str | None = None  # None: the data modality's default (images: efficientnet_lite0)
    arch: str | None = None
    pretrained: bool = True
    trust_checkpoint: bool = False  # allow pickled weight files (file:<path>.pt)
    trust_remote_code: bool = False  # allow a hub model's own Python code (hf: repos that need it)
    strategy: str = "full"
    unfreeze_blocks: int = Field(2, ge=0)
    unfreeze_every: int = Field(1, ge=1)
    pooling: Literal["mean", "cls"] | None = None  # token transformers; None: the backbone's own (mean)
    head: Literal["mlp", "linear"] = "mlp"
    head_hidden: int = Field(1024, ge=1)
    dropout: float = Field(0.2, ge=0, lt=1)

    image_size: int | None = Field(None, ge=8, le=2048)
    augment: Literal["none", "light", "strong"] = "light"
    # test-time augmentation: "flip" averages each prediction over the image and its mirror (images only; off by
    # default: laterality matters in chest X-rays)
    tta: Literal["none", "flip"] = "none"

    epochs: int = Field(10, ge=1)
    # small data: 10 epochs of 50 examples are 10 optimizer steps, too few to move a transformer; epochs are
    # raised until training takes at least this many steps (early stopping waits for them too)
    min_steps: int = Field(0, ge=0)
    batch_size: int = Field(32, ge=1)
    lr: float = Field(1e-3, gt=0)
    # discriminative rates protect pretrained weights (None: the backbone card's recommendation, else 0.1 and
    # 0.8); with pretrained=False every block trains at ``lr``
    backbone_lr_scale: float | None = Field(None, gt=0)
    layer_decay: float | None = Field(None, gt=0, le=1)
    weight_decay: float = Field(1e-4, ge=0)
    scheduler: Literal["cosine", "onecycle", "none"] = "cosine"
    class_weights: bool = False
    # mixup's Beta(α, α) for classification fine-tunes (0: off; train/mixup.py)
    mixup: float = Field(0.0, ge=0)
    patience: int = Field(5, ge=1)
    monitor: Literal["val_loss", "val_auroc"] = "val_loss"

    val_fraction: float = Field(0.15, gt=0, lt=1)
    test_fraction: float = Field(0.15, ge=0, lt=1)
    max_train_samples: int | None = Field(None, ge=2)
    on_leak: Literal["error", "warn", "fix"] = "warn"

    seed: int = 0
    seeds: int = Field(1, ge=1, le=20)
    compare_scratch: bool = False
    gallery: bool = True  # the report explains the most confident right and wrong test cases per class
    deterministic: bool = False
    accelerator: str = "auto"
    # Lightning's distribution: devices per node, nodes, and how processes are started (train/devices.py);
    # --batch-size is per device. Precision: 32-true on CPU; 16-mixed / bf16-mixed are GPU options
    devices: int = Field(1, ge=1)
    num_nodes: int = Field(1, ge=1)
    distributed: Literal["auto", "ddp", "ddp_spawn", "fsdp"] = "auto"
    precision: str = "32-true"
    progress: bool = True
    # a search trial (medtransfer auto) is judged on validation only: test is scored once, for the winner
    score_test: bool = True
    max_seconds: float | None = Field(None, gt=0)  # stop training after this long (Lightning's max_time)
    out: str | None = None
    resume: bool = False
    overwrite: bool = False

    @field_validator("data")
    @classmethod
    def _not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("give a dataset name or path")
        return v

    def read_options(self) -> ReadOptions:
        return ReadOptions(
            label_column=self.label_column,
            path_column=self.path_column,
            input_column=self.input_column,
            skip_invalid=self.skip_invalid,
            strip_salts=self.strip_salts,
            label_pattern=self.label_pattern,
            labels_file=self.labels,
            iupac=self.iupac,
            modality=self.modality,
            group_column=self.group_column,
            split_column=self.split_column,
            task=self.task,
            subgroup_columns=self.subgroup_column,
        )

    def run_name(self) -> str:
        stem = Path(self.data).stem if ("/" in self.data or "." in self.data) else self.data
        backbone = (self.backbone or "default").replace(":", "_").replace("/", "_")
        return f"{stem}-{backbone}-{self.strategy}"

    def out_dir(self) -> Path:
        return Path(self.out) if self.out else Path("runs") / self.run_name()


def build_config(config_file: Path | None = None, **overrides: Any) -> FitConfig:
    """YAML values first, then explicit overrides (CLI flags, keyword arguments) on top."""
    values: dict[str, Any] = read_config_file(config_file) if config_file is not None else {}
    values.update({k: v for k, v in overrides.items() if v is not None})
    if not values.get("data"):
        raise ConfigError(
            "no data given: pass --data with a built-in dataset (medtransfer datasets lists them), a folder with one "
            "sub-folder per class, a CSV, an .npz, a FASTA or an SDF file; or -c config.yaml holding 'data: ...'."
        )
    try:
        return FitConfig(**values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid configuration: {problems}") from exc


def read_config_file(config_file: Path) -> dict[str, Any]:
    """The settings of a YAML config file, keys with underscores (``label-column`` = ``label_column``)."""
    if not Path(config_file).is_file():
        raise ConfigError(f"config file {config_file} not found.")
    try:
        loaded = yaml.safe_load(Path(config_file).read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{config_file} is not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"{config_file} must hold a mapping of setting: value.")
    return {k.replace("-", "_"): v for k, v in loaded.items()}
