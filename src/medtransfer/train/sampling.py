"""Epoch-seeded shuffling and augmentation: epoch *e* depends only on (seed, e), so resumes replay exactly.

Lightning fetches the first batch of an epoch before ``on_train_epoch_start`` runs, so seeding the global
RNG there cannot make augmentation reproducible across a process restart; each sample gets its own seed.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Dataset, Sampler


class EpochShuffleSampler(Sampler[tuple[int, int]]):
    """Yields (index, sample seed); Lightning calls ``set_epoch`` before each epoch, as for distributed samplers.

    Under several training processes each rank takes every world-th place of the epoch's one permutation
    (padded by its first places to a whole number per rank, as DistributedSampler pads): batch k of all ranks
    together holds the samples that batch k of one process would, at ``batch_size`` × world."""

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    @staticmethod
    def _rank_world() -> tuple[int, int]:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
        return 0, 1

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.n, generator=g).tolist()
        base = (self.seed * 1_000_003 + self.epoch) * 100_003
        places = list(enumerate(order))
        rank, world = self._rank_world()
        if world > 1:
            places = (places * world)[: len(self) * world][rank::world]
        return iter((i, base + position) for position, i in places)

    def __len__(self) -> int:
        world = self._rank_world()[1]
        return -(-self.n // world)


class SeededSamples(Dataset):
    """Reads ``dataset[index]`` under its own CPU RNG seed, leaving the global RNG untouched.

    Only the CPU generator is seeded (samples are made on the CPU): ``torch.manual_seed`` would also queue a
    seed for every accelerator backend, and before CUDA starts each queued seed records a stack trace, which
    inside Lightning's loop cost about 2 ms per sample, most of a 10,000-image probe's wall time."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, item: tuple[int, int]):
        index, seed = item
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(seed)
            return self.dataset[index]
