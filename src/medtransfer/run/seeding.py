"""Randomness from the run's seed alone, without touching the caller's global generators.

Library code never reseeds torch's global generator for the caller: a seeded block runs inside
``torch.random.fork_rng``, so the state a user had before ``fit`` is the state they have after it.
Seeds for separate purposes (backbone init, head init, training) are derived from the run's seed, so
two runs that differ only in ``--seed`` differ in every one of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager


def derive_seed(seed: int, purpose: str) -> int:
    """A 63-bit seed for ``purpose`` derived from the run's ``seed`` (stable across processes and versions)."""
    digest = hashlib.sha256(f"{seed}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


@contextmanager
def seeded_torch(seed: int) -> Iterator[None]:
    """Run the block with torch's global generator(s) seeded by ``seed``; the caller's state is restored after."""
    import torch

    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
