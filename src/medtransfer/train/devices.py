"""Devices, precision and distribution, passed to Lightning's Trainer; the training loop knows none of them.

Three ways to run on several processes, all Lightning's:
- ``--devices N --distributed ddp_spawn``: one command; Lightning spawns the training processes itself and only
  ``trainer.fit`` runs in them, so reading, feature caching, scoring and writing happen once, in this process.
- ``--devices N --distributed ddp`` (or fsdp): Lightning re-launches the command for ranks 1… (its subprocess
  launcher), or ``torchrun`` / SLURM's ``srun`` launch every rank. Every rank reads the data (cheap, and the same
  on each); rank 0 writes the run directory and computes cached features while the others wait; ranks 1…
  train and leave nothing behind.

Training batches are split between ranks (``--batch-size`` is per device, as in Lightning: the effective batch
is batch × devices × nodes); validation runs whole on every rank, never padded by a DistributedSampler (which
repeats samples to even out the shards and so biases a small set's metrics), so every rank reaches the same
early-stopping decision; test is scored once, by rank 0, after training.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from medtransfer.errors import ConfigError

GPU_PRECISIONS = ("16-mixed", "bf16-mixed", "16-true", "bf16-true", "transformer-engine")


def launched_rank() -> int:
    """This process's global rank when a launcher started it (torchrun, srun, Lightning's ddp re-launch), else 0."""
    for name in ("RANK", "SLURM_PROCID"):
        if os.environ.get(name, "").isdigit() and launched_world() > 1:
            return int(os.environ[name])
    if os.environ.get("LOCAL_RANK", "").isdigit():  # Lightning's subprocess launcher sets only this and NODE_RANK
        return int(os.environ["LOCAL_RANK"]) + int(os.environ.get("NODE_RANK", "0") or 0) * _local_world()
    return 0


def launched_world() -> int:
    """How many processes a launcher started for this job (1 when none did)."""
    for name in ("WORLD_SIZE", "SLURM_NTASKS"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1


def _local_world() -> int:
    return int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("MEDTRANSFER_DEVICES", "1")) or 1)


def is_writer() -> bool:
    """Rank 0 writes the run directory, the feature cache and the report; other ranks only train."""
    return launched_rank() == 0


def resolved_accelerator(accelerator: str) -> str:
    if accelerator != "auto":
        return accelerator
    import torch

    return "gpu" if torch.cuda.is_available() else "cpu"


def accelerator_device(accelerator: str) -> str:
    """The torch device this process's forward passes outside training use: its own GPU under a launcher
    (``LOCAL_RANK``), else the first; the CPU when the accelerator resolves to it."""
    device = resolved_accelerator(accelerator)
    if device in ("gpu", "cuda"):
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0') or 0)}"
    return "mps" if device == "mps" else "cpu"


def trainer_devices(accelerator: str, devices: int, num_nodes: int, distributed: str, precision: str) -> dict:
    """The Trainer's device arguments; mixed or half precision is refused on CPU (bf16 runs there at ~1 GFLOP/s)."""
    device = resolved_accelerator(accelerator)
    if device == "cpu" and precision in GPU_PRECISIONS:
        raise ConfigError(
            f"--precision {precision} is a GPU option: on CPU it is many times slower than float32 (no hardware "
            "support). Leave --precision at 32-true on CPU."
        )
    several = devices * num_nodes > 1 or launched_world() > 1
    if distributed != "auto" and not several:
        raise ConfigError(f"--distributed {distributed} needs --devices > 1 or --num-nodes > 1 (or a launcher).")
    os.environ.setdefault("MEDTRANSFER_DEVICES", str(devices))  # ranks re-launched by Lightning read it back
    strategy = ("ddp" if several else "auto") if distributed == "auto" else distributed
    if strategy in ("ddp", "ddp_spawn"):  # strategies freeze blocks per epoch: DDP must allow unused parameters
        strategy += "_find_unused_parameters_true"
    return {
        "accelerator": accelerator,
        "devices": devices,
        "num_nodes": num_nodes,
        "strategy": strategy,
        "precision": precision,
        # training batches are sharded by our own sampler (train/sampling.py); validation stays whole
        "use_distributed_sampler": False,
    }


def join_launched_group(accelerator: str) -> None:
    """Under torchrun or srun, join the job's process group before training so ranks can wait for rank 0's
    feature cache; Lightning then uses this group as it is."""
    import torch.distributed as dist

    if launched_world() <= 1 or "LOCAL_RANK" in os.environ and "RANK" not in os.environ or dist.is_initialized():
        return  # one process, or Lightning's own re-launch: its ranks meet inside trainer.fit
    from lightning.fabric.plugins.environments import SLURMEnvironment, TorchElasticEnvironment

    env = TorchElasticEnvironment() if TorchElasticEnvironment.detect() else SLURMEnvironment()
    backend = "nccl" if resolved_accelerator(accelerator) == "gpu" else "gloo"
    dist.init_process_group(backend, init_method=f"tcp://{env.main_address}:{env.main_port}",
                            rank=env.global_rank(), world_size=env.world_size())  # fmt: skip


@contextmanager
def rank_zero_first():
    """Rank 0 runs the block first (e.g. computes and caches features); the others run it after, reading the cache."""
    import torch.distributed as dist

    grouped = dist.is_available() and dist.is_initialized()
    if grouped and dist.get_rank() != 0:
        dist.barrier()
    yield
    if grouped and dist.get_rank() == 0:
        dist.barrier()
