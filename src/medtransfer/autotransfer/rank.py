"""``medtransfer rank``: score every candidate source model on a dataset from its frozen features alone.

Features of the train and validation rows (the split ``fit`` would make; test is never read) are computed once
per candidate through the feature cache, under the same keys a later linear-probe ``fit`` looks up. Each
transferability score of ``auto.scores`` then rates them by cross-validation inside train + val. The classical
baseline's hand-made features and the default architecture with random weights are candidates like any other,
so a score that cannot tell a pretrained model from noise, or from pixels, shows it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from medtransfer.autotransfer.scores import scores_for
from medtransfer.config import FitConfig
from medtransfer.data.modality import backbone_modalities, get_modality
from medtransfer.data.table import SampleTable
from medtransfer.errors import BackboneError, ConfigError
from medtransfer.run.rundir import atomic_write_text
from medtransfer.train.devices import accelerator_device
from medtransfer.train.predict import on_device

log = logging.getLogger("medtransfer")
CLASSICAL = "classical"  # the modality's hand-made features (what the baseline of every run trains on)
SCRATCH_SUFFIX = "@random"  # a registered architecture with random weights: what "no transfer" looks like


@dataclass
class Candidate:
    """One source to score: a backbone (``name``, pretrained or not) or the classical features."""

    name: str
    pretrained: bool = True

    @property
    def label(self) -> str:
        return self.name if self.pretrained or self.name == CLASSICAL else self.name + SCRATCH_SUFFIX

    @classmethod
    def parse(cls, text: str) -> Candidate:
        """``name``, ``name@random`` (random weights) or ``classical``."""
        text = text.strip()
        if text.endswith(SCRATCH_SUFFIX):
            return cls(text.removesuffix(SCRATCH_SUFFIX), pretrained=False)
        return cls(text)


@dataclass
class RankResult:
    """Per candidate: each score, the rank it gives (1 = best) and the seconds it cost."""

    data: str
    n: int
    scores: list[str]
    rows: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def default_candidates(modality: str) -> list[Candidate]:
    """Every offline registered backbone of ``modality`` with its weights, its random-init architectures (the
    modality's default one with random weights among them), and the classical features."""
    from medtransfer.backbones.registry import list_backbones

    plugin = get_modality(modality)
    readable = backbone_modalities(plugin)
    out, seen = [], set()
    for meta in list_backbones():
        name = meta["name"]
        if meta.get("modality") not in readable or not meta.get("offline") or name.startswith("test_"):
            continue
        random_only = str(meta.get("source", "")).startswith("random init")
        out.append(Candidate(name, pretrained=not random_only))
        seen.add(name)
    if plugin.default_backbone in seen:
        out.append(Candidate(plugin.default_backbone, pretrained=False))
    return [*out, Candidate(CLASSICAL)]


def rank_candidates(
    cfg: FitConfig,
    candidates: list[Candidate] | None = None,
    table: SampleTable | None = None,
    only_pretrained: bool = False,
) -> RankResult:
    """Score ``candidates`` (default: ``default_candidates``, those with installed weights; ``only_pretrained``:
    without the random-weight and classical ones) on the train + val rows of ``cfg.data``."""
    from medtransfer.pipeline import audit_data

    (table, split), _, _ = audit_data(cfg, table)
    if table.task.kind not in ("binary", "multiclass", "regression"):
        raise ConfigError(f"rank scores single-label classification and regression tasks; this one is "
                          f"{table.task.kind}: rank one label column at a time (--label-column).")  # fmt: skip
    scores = scores_for(table.task.kind)
    explicit = candidates is not None
    candidates = candidates or [
        c for c in default_candidates(table.modality) if not only_pretrained or (c.pretrained and c.name != CLASSICAL)
    ]
    parts = {name: table.subset(split.indices[name]) for name in ("train", "val")}
    y = np.concatenate([parts["train"].targets, parts["val"].targets])
    y = y.astype(float if table.task.kind == "regression" else int)
    result = RankResult(cfg.data, len(y), list(scores))
    for candidate in candidates:
        started = time.perf_counter()
        try:
            with on_device(accelerator_device(cfg.accelerator)):
                features, adapters = _features(candidate, cfg, table, parts)
        except BackboneError as exc:  # a default candidate whose weights are not installed here
            if explicit:
                raise
            log.info("rank: %s left out (%s)", candidate.label, exc)
            continue
        # lora: the backbone has attention layers LoRA can adapt, so auto may race that strategy too
        row = {"candidate": candidate.label, "features_seconds": time.perf_counter() - started, "lora": adapters}
        for name in result.scores:
            started = time.perf_counter()
            row[name] = scores[name](features, y, seed=cfg.seed)
            row[f"{name}_seconds"] = time.perf_counter() - started
        log.info("ranked %s", candidate.label)
        result.rows.append(row)
    _add_ranks(result)
    return result


def _features(
    candidate: Candidate, cfg: FitConfig, table: SampleTable, parts: dict[str, SampleTable]
) -> tuple[np.ndarray, bool]:
    """Train then val features of ``candidate`` (backbones go through the feature cache fit uses), and whether
    its backbone has layers LoRA adapts."""
    from medtransfer.backbones.registry import create_backbone
    from medtransfer.data.hashing import table_hash
    from medtransfer.train.feature_cache import backbone_features

    modality = get_modality(table.modality)
    if candidate.name == CLASSICAL:
        # missing cells (tables) are NaN for the trees; the rank's kNN and linear scores read them as 0
        return np.nan_to_num(np.concatenate([modality.simple_features(p.inputs) for p in parts.values()])), False
    backbone = create_backbone(candidate.name, candidate.pretrained, seed=cfg.seed, **modality.backbone_kwargs(table))
    settings = {"image_size": cfg.image_size, "augment": cfg.augment, "long_inputs": cfg.long_inputs}
    pre = modality.preprocessing(backbone.card, table, settings)
    backbone.eval()
    out = []
    for part in parts.values():
        ds = modality.dataset(part.inputs, part.targets, pre, train=False)
        out.append(backbone_features(backbone, ds, pre, table_hash(part, modality.input_bytes)).numpy())
    return np.concatenate(out), bool(getattr(backbone, "lora_targets", None))


def _add_ranks(result: RankResult) -> None:
    """Rank 1 = the highest score; ties share the better rank. Depends on the scores only, not on the order."""
    for name in result.scores:
        values = [r[name] for r in result.rows]
        for r in result.rows:
            r[f"{name}_rank"] = 1 + sum(v > r[name] for v in values)


def write_rank(result: RankResult, out: Path) -> Path:
    """``rank.json`` in ``out`` (written atomically)."""
    path = Path(out) / "rank.json"
    atomic_write_text(path, json.dumps(result.to_dict(), indent=2))
    return path
