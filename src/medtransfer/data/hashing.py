"""Content hashes of sample tables: what makes a manifest and a feature cache key trustworthy."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from medtransfer.data.table import SampleTable


def table_hash(table: SampleTable, input_bytes: Callable[[object], bytes], index: np.ndarray | None = None) -> str:
    """sha256 over inputs and targets (in order) of ``table`` rows ``index``."""
    rows = range(len(table)) if index is None else index
    h = hashlib.sha256()
    for i in rows:
        h.update(input_bytes(table.inputs[i]))
    h.update(np.ascontiguousarray(table.targets if index is None else table.targets[index]).tobytes())
    return h.hexdigest()


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def row_hashes(table: SampleTable, input_bytes: Callable[[object], bytes]) -> list[str]:
    """A short content hash of each input (labels left out): finds the same input in two tables."""
    return [hashlib.sha1(input_bytes(x)).hexdigest()[:16] for x in table.inputs]
