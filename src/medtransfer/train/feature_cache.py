"""Frozen-backbone features, computed once and cached on disk keyed by weights, preprocessing and data.

A linear probe then trains its head on these vectors: no backbone forward after the first pass.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import torch
from torch.utils.data import Dataset

from medtransfer.backbones.base import Backbone
from medtransfer.cache_dirs import user_cache_dir
from medtransfer.train.predict import batched_outputs

log = logging.getLogger("medtransfer")


def cache_dir() -> Path:
    """``$MEDTRANSFER_CACHE``, else ``~/.cache/medtransfer/features``."""
    if os.environ.get("MEDTRANSFER_CACHE"):
        return Path(os.environ["MEDTRANSFER_CACHE"]).expanduser()
    return user_cache_dir("features")


def feature_key(backbone: Backbone, preprocessing: dict, data_hash: str) -> str | None:
    """Cache key, or None when the weights have no content hash (random init: nothing worth keeping)."""
    card = backbone.card
    if not card.weights_sha256:
        return None
    pre = {k: v for k, v in preprocessing.items() if k not in ("augment", "tta")}  # training / test-time only
    blob = json.dumps([card.architecture, card.weights_sha256, card.changes, pre, data_hash], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def cache_features(backbone: Backbone, dataset: Dataset, key: str | None, batch_size: int = 64) -> torch.Tensor:
    """Pooled features of ``dataset`` (eval-mode, un-augmented), loaded from the cache when present."""
    from safetensors.torch import load_file, save_file

    path = cache_dir() / f"{key}.safetensors" if key else None
    if path is not None and path.is_file():
        log.info("feature cache hit: %s", path.name)
        return load_file(str(path))["features"]
    feats = batched_outputs(backbone, backbone, dataset, batch_size)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        save_file({"features": feats.contiguous()}, str(tmp))
        os.replace(tmp, path)
    return feats
