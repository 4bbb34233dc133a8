"""Epoch-seeded shuffling and augmentation: epoch *e* depends only on (seed, e), so resumes replay exactly.

Lightning fetches the first batch of an epoch before ``on_train_epoch_start`` runs, so seeding the global
RNG there cannot make augmentation reproducible across a process restart; each sample gets its own seed.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Dataset, Sampler


class EpochShuffleSampler(Sampler[tuple[int, int]]):
    """Yields (index, sample seed); Lightning calls ``set_epoch`` before each epoch, as for distributed samplers."""

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.n, generator=g).tolist()
        base = (self.seed * 1_000_003 + self.epoch) * 100_003
        return iter((i, base + position) for position, i in enumerate(order))

    def __len__(self) -> int:
        return self.n


class SeededSamples(Dataset):
    """Reads ``dataset[index]`` under its own RNG seed, leaving the global RNG untouched."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, item: tuple[int, int]):
        index, seed = item
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self.dataset[index]
