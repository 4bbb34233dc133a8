"""Inputs for prediction, a batch at a time: a folder of 100,000 scans is never held in memory at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Batch = tuple[list[Any], list[str], list[dict]]  # (inputs, ids, invalid inputs left out)


@dataclass
class InputStream:
    """``total`` inputs (valid or not, known before reading, for a progress bar) in ``batches``."""

    total: int
    batches: Iterator[Batch]


def lazy_batches(items: list, size: int, read: Callable[[list], Batch]) -> InputStream:
    """Read ``items`` (e.g. image paths) ``size`` at a time with ``read``, only as the batches are consumed."""
    return InputStream(len(items), (read(items[i : i + size]) for i in range(0, len(items), size)))


def batches_of(read: Batch, size: int) -> InputStream:
    """Inputs already read (texts are small) cut into batches; the invalid ones come with the first."""
    inputs, ids, dropped = read
    starts = range(0, max(len(inputs), 1), size)
    batches = ((inputs[i : i + size], ids[i : i + size], dropped if i == 0 else []) for i in starts)
    return InputStream(len(inputs) + len(dropped), batches)
