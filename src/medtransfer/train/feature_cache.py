"""Frozen-backbone features, computed once and cached on disk keyed by weights, preprocessing and data.

A linear probe then trains its head on these vectors: no backbone forward after the first pass. The cache file is
written batch by batch as the backbone produces it and read back a batch of rows at a time, so a fit's memory
does not grow with the number of images (docs/benchmarks.md, "Scaling").
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from medtransfer.backbones.base import Backbone
from medtransfer.cache_dirs import user_cache_dir
from medtransfer.errors import RunError
from medtransfer.train.predict import iter_outputs

log = logging.getLogger("medtransfer")

NAME = "features"  # the one tensor in a cache file: a standard safetensors file, float32, rows × dim


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


class FeatureRows(Dataset):
    """Feature vectors by row: read from a cache file a few rows at a time, or held in memory when uncached.

    Items are a row, or (row, target) when ``targets`` are given. The open file handle is per process and
    never pickled, so data loaders and spawned training processes can carry this dataset."""

    def __init__(self, source: Path | torch.Tensor, targets: torch.Tensor | None = None) -> None:
        self.targets = targets
        self._tensor = source if isinstance(source, torch.Tensor) else None
        self.path = None if self._tensor is not None else Path(source)
        self._fd: tuple[int, int] | None = None  # (pid, fd)
        if self._tensor is not None:
            self.n, self.dim = (self._tensor.shape[0], self._tensor.shape[1]) if self._tensor.ndim == 2 else (0, 0)
        else:
            self.n, self.dim, self._offset = _read_header(self.path)

    def with_targets(self, targets: Sequence | np.ndarray | torch.Tensor) -> FeatureRows:
        """The same rows, each item paired with its target."""
        out = FeatureRows(self._tensor if self._tensor is not None else self.path, torch.as_tensor(targets))
        if len(out.targets) != self.n:
            raise RunError(f"{self.n} feature rows but {len(out.targets)} targets")
        return out

    def __len__(self) -> int:
        return self.n

    def rows(self, index: Sequence[int] | np.ndarray) -> torch.Tensor:
        """Rows ``index`` as one float32 tensor; a run of consecutive rows is one read."""
        index = np.asarray(index, dtype=np.int64)
        if self._tensor is not None:
            return self._tensor[torch.from_numpy(index)]
        row_bytes = self.dim * 4
        if len(index) and np.all(np.diff(index) == 1):
            raw = os.pread(self._file(), row_bytes * len(index), self._offset + int(index[0]) * row_bytes)
        else:
            fd = self._file()
            raw = b"".join(os.pread(fd, row_bytes, self._offset + int(i) * row_bytes) for i in index)
        if len(raw) != row_bytes * len(index):
            raise RunError(f"feature cache {self.path} is shorter than its header says: delete it to rebuild")
        return torch.from_numpy(np.frombuffer(raw, dtype="<f4").reshape(len(index), self.dim).copy())

    def __getitem__(self, i: int):
        row = self.rows([i])[0]
        return row if self.targets is None else (row, self.targets[i])

    def __getitems__(self, index: list[int]) -> list:  # DataLoader's batched fetch: one call per batch
        rows = self.rows(index)
        if self.targets is None:
            return list(rows)
        return list(zip(rows, self.targets[torch.as_tensor(index)], strict=True))

    def chunks(self, size: int = 4096) -> Iterator[torch.Tensor]:
        """All rows in order, ``size`` at a time."""
        for start in range(0, self.n, size):
            yield self.rows(np.arange(start, min(start + size, self.n)))

    def numpy(self) -> np.ndarray:
        """Every row in memory (ranking scores need them whole)."""
        return np.concatenate([c.numpy() for c in self.chunks()]) if self.n else np.empty((0, self.dim), np.float32)

    def _file(self) -> int:
        if self._fd is None or self._fd[0] != os.getpid():
            self._fd = (os.getpid(), os.open(self.path, os.O_RDONLY))
        return self._fd[1]

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_fd": None}

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None and self._fd[0] == os.getpid():
            os.close(self._fd[1])


def backbone_features(
    backbone: Backbone, dataset: Dataset, preprocessing: dict, data_hash: str, batch_size: int = 64
) -> FeatureRows:
    """Pooled features of ``dataset`` through the cache, keyed by the backbone's weights, ``preprocessing`` and
    ``data_hash``. A backbone made of members (``member_views``: a ``concat:`` composite) is read member by
    member from each member's own cache entry, so a composite after its members' probes computes nothing."""
    key = feature_key(backbone, preprocessing, data_hash)
    views = getattr(backbone, "member_views", None)
    path = cache_dir() / f"{key}.safetensors" if key else None
    if views is None or (path is not None and path.is_file()):
        return cache_features(backbone, dataset, key, batch_size)
    parts = []
    for view in views():
        card = view.backbone.card  # the member alone saw the same images, normalised by its own statistics
        own = {**preprocessing, "mean": list(card.mean), "std": list(card.std)}
        parts.append(cache_features(view, dataset, feature_key(view.backbone, own, data_hash), batch_size))
    joined = (torch.cat(chunks, dim=1) for chunks in zip(*(p.chunks() for p in parts), strict=True))
    if path is None or len(dataset) == 0:
        return FeatureRows(torch.cat(list(joined)) if len(dataset) else torch.empty(0))
    _write_atomically(path, len(dataset), joined)
    return FeatureRows(path)


def cache_features(backbone: Backbone, dataset: Dataset, key: str | None, batch_size: int = 64) -> FeatureRows:
    """Pooled features of ``dataset`` (eval-mode, un-augmented), from the cache when present; else computed and,
    with a ``key``, written to the cache batch by batch as they come."""
    path = cache_dir() / f"{key}.safetensors" if key else None
    if path is not None and path.is_file():
        log.info("feature cache hit: %s", path.name)
        return FeatureRows(path)
    batches = iter_outputs(backbone, backbone, dataset, batch_size)
    if path is None or len(dataset) == 0:  # nothing worth keeping: held in memory
        return FeatureRows(torch.cat(list(batches)) if len(dataset) else torch.empty(0))
    _write_atomically(path, len(dataset), batches)
    return FeatureRows(path)


def _write_atomically(path: Path, n: int, batches: Iterable[torch.Tensor]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        write_rows(tmp, n, batches)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_rows(path: Path, n: int, batches: Iterable[torch.Tensor]) -> None:
    """A safetensors file of one float32 ``n`` × dim tensor, written as ``batches`` arrive (dim from the first)."""
    written = 0
    with open(path, "wb") as fh:
        for batch in batches:
            if written == 0:
                header = json.dumps({NAME: {"dtype": "F32", "shape": [n, batch.shape[1]],
                                            "data_offsets": [0, n * batch.shape[1] * 4]}}).encode()  # fmt: skip
                header += b" " * (-len(header) % 8)  # the format pads the header to 8 bytes with spaces
                fh.write(struct.pack("<Q", len(header)) + header)
            fh.write(batch.float().contiguous().numpy().astype("<f4", copy=False).tobytes())
            written += len(batch)
        fh.flush()
        os.fsync(fh.fileno())
    if written != n:
        raise RunError(f"the backbone gave {written} feature rows for {n} inputs")


def _read_header(path: Path) -> tuple[int, int, int]:
    """(rows, dim, byte offset of the first row) of a cache file."""
    with open(path, "rb") as fh:
        (size,) = struct.unpack("<Q", fh.read(8))
        entry = json.loads(fh.read(size))[NAME]
    if entry["dtype"] != "F32" or len(entry["shape"]) != 2:
        raise RunError(f"feature cache {path} is not a float32 matrix: delete it to rebuild")
    rows, dim = entry["shape"]
    return rows, dim, 8 + size + entry["data_offsets"][0]
