"""Spawned training processes (``--distributed ddp_spawn``) leave their process group together, before they exit.

Left to Lightning, a spawned rank exits with the gloo group still open: rank 0 returns first and takes the
group's store with it, and about one run in ten rank 1 then died with ``terminate called without an active
exception`` (SIGABRT), failing the whole fit after training had finished (tests/train/test_distributed.py).
The ranks now meet at a barrier once training is over and destroy the group; nothing after ``teardown``
talks to the other ranks (rank 0 only hands its weights back to the launching process).
"""

from __future__ import annotations

import lightning as L
import torch.distributed as dist


class LeaveSpawnedGroup(L.Callback):
    """At the end of ``trainer.fit`` in a spawned rank: barrier, then destroy the process group Lightning made."""

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        spawned = getattr(trainer.strategy, "_start_method", None) in ("spawn", "fork", "forkserver")
        if spawned and dist.is_available() and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()
