"""Run Lightning's loop: early stopping and checkpoints on the validation metric, resume, CSV log."""

from __future__ import annotations

import csv
import logging
import math
import warnings
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from medtransfer.adapt.model import TransferModel
from medtransfer.config import FitConfig
from medtransfer.data.task import TaskSpec
from medtransfer.strategies.strategy import LearningRates, Strategy
from medtransfer.train.devices import join_launched_group, rank_zero_first, resolved_accelerator, trainer_devices
from medtransfer.train.feature_cache import backbone_features
from medtransfer.train.losses import inverse_frequency_weights
from medtransfer.train.mixup import check_mixup
from medtransfer.train.module import TransferModule
from medtransfer.train.predict import place
from medtransfer.train.sampling import EpochShuffleSampler, SeededSamples

log = logging.getLogger("medtransfer")
FEW_STEPS = 50  # fewer optimizer steps than this draws a warning
LOG_COLUMNS = ("epoch", "train_loss", "val_loss", "val_acc", "val_auroc")


@dataclass
class TrainData:
    """Datasets for one fit: ``train`` augments; ``train_plain`` and ``val`` do not (feature caching)."""

    train: Dataset
    train_plain: Dataset
    val: Dataset
    train_targets: np.ndarray
    val_targets: np.ndarray
    preprocessing: dict
    data_hashes: dict[str, str]


@dataclass
class TrainOutcome:
    best_epoch: int | None
    epochs_run: int
    best_score: float | None
    monitor: str
    log_rows: list[dict]
    schedule: dict  # what the fit resolved: epochs planned, backbone rate scale, layer decay


def train_model(
    model: TransferModel,
    task: TaskSpec,
    strategy: Strategy,
    data: TrainData,
    cfg: FitConfig,
    workdir: Path,
) -> TrainOutcome:
    """Fine-tune ``model`` in place and load its best validation checkpoint back into it."""
    import lightning as L
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger

    from medtransfer.train.parting import LeaveSpawnedGroup

    for name in ("lightning.pytorch", "lightning.fabric"):  # device banners and tips are noise here
        logging.getLogger(name).setLevel(logging.WARNING)
    devices = trainer_devices(cfg.accelerator, cfg.devices, cfg.num_nodes, cfg.distributed, cfg.precision)
    join_launched_group(cfg.accelerator)  # torchrun / srun: ranks meet now, to wait for rank 0's feature cache

    card = model.backbone.card
    rates = LearningRates.resolve(cfg.lr, cfg.pretrained, card.finetune_rates, cfg.backbone_lr_scale, cfg.layer_decay)
    if card.finetune_rates and cfg.pretrained:
        log.info("backbone rates: top block %.3g × lr, layer decay %.3g", rates.backbone_lr_scale, rates.layer_decay)
    strategy.prepare(model, data.train_plain, data.train_targets, cfg.seed, rates)
    train_ds, val_ds = data.train, data.val
    if strategy.uses_feature_cache:
        with rank_zero_first():  # computed and cached once; the other ranks read the cache
            train_ds, val_ds = _feature_datasets(model, data, cfg.batch_size)
    if cfg.mixup > 0:
        with torch.random.fork_rng(devices=[]):  # an augmented example draws from the generator: leave it as it was
            check_mixup(cfg.mixup, task, train_ds[0][0])
    weights = None
    if cfg.class_weights and task.is_classification:
        weights = inverse_frequency_weights(torch.as_tensor(data.train_targets), len(task.class_names))
    module = TransferModule(
        model,
        task,
        strategy,
        rates,
        cfg.weight_decay,
        cfg.scheduler,
        cfg.seed,
        on_features=strategy.uses_feature_cache,
        class_weights=weights,
        mixup=cfg.mixup,
    )
    mode = "min" if cfg.monitor == "val_loss" else "max"
    folder = workdir / "checkpoints"
    checkpoint = ModelCheckpoint(
        dirpath=folder,
        filename="best",
        monitor=cfg.monitor,
        mode=mode,
        save_top_k=1,
        save_last=False,
        enable_version_counter=False,
        # at validation end, before last.ckpt below: left to Lightning it saves at train-epoch end, after
        # last.ckpt, whose copy of the best score was then a validation behind; a run killed after a new best
        # resumed not knowing it and kept a worse later epoch (tests/test_kill_resume.py failed 1 run in 3)
        save_on_train_epoch_end=False,
    )
    # Lightning's save_last refreshes last.ckpt only when a new best is saved; resume needs every epoch.
    # It is saved at validation end and early stopping checks there too: a checkpoint taken at train-epoch
    # end (Lightning's default without a monitor) made a process resumed after SIGKILL drift from an
    # uninterrupted run (tests/test_kill_resume.py)
    every_epoch = ModelCheckpoint(
        dirpath=folder,
        filename="last",
        monitor=None,
        save_top_k=1,
        enable_version_counter=False,
        save_on_train_epoch_end=False,
    )
    train_loader = DataLoader(
        SeededSamples(train_ds),
        batch_size=cfg.batch_size,
        sampler=EpochShuffleSampler(len(train_ds), cfg.seed),
        drop_last=len(train_ds) > cfg.batch_size,
        pin_memory=resolved_accelerator(cfg.accelerator) == "gpu",  # Lightning then copies batches non-blocking
    )
    world = cfg.devices * cfg.num_nodes  # each rank takes 1 / world of an epoch's batches
    epochs = planned_epochs(cfg.epochs, cfg.min_steps, max(1, len(train_loader) // world))
    # epochs raised by min_steps are short: validate about as often as the epochs asked for (patience and
    # checkpoints count validations), not after every one of them
    val_every = max(1, epochs // cfg.epochs)
    trainer = L.Trainer(
        max_epochs=epochs,
        max_time=None if cfg.max_seconds is None else timedelta(seconds=cfg.max_seconds),
        check_val_every_n_epoch=val_every,
        min_steps=cfg.min_steps or None,
        **devices,
        deterministic=cfg.deterministic,
        logger=CSVLogger(workdir, name="logs", version=0),
        callbacks=[
            checkpoint,
            every_epoch,
            EarlyStopping(monitor=cfg.monitor, mode=mode, patience=cfg.patience, check_on_train_epoch_end=False),
            LeaveSpawnedGroup(),
        ],
        enable_progress_bar=cfg.progress,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        log_every_n_steps=1,
    )
    val_loader = DataLoader(val_ds, batch_size=max(cfg.batch_size, 64), pin_memory=train_loader.pin_memory)
    place(model, torch.device("cpu"))  # convolutions NHWC, faster on CPU and GPU (Lightning's move keeps it)
    last = folder / "last.ckpt"
    metrics_csv = workdir / "logs" / "version_0" / "metrics.csv"
    resume_from = str(last) if cfg.resume and last.is_file() else None
    earlier_rows = _epoch_rows(metrics_csv) if resume_from else []  # Lightning's CSV logger starts afresh
    if resume_from:
        log.info("resuming from %s", last)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", ".*Checkpoint directory.*exists and is not empty.*")
        warnings.filterwarnings("ignore", ".*LeafSpec.*")
        warnings.filterwarnings("ignore", ".*Experiment logs directory.*")
        trainer.fit(module, train_loader, val_loader, ckpt_path=resume_from)
    best = checkpoint.best_model_path or str(last)
    state = torch.load(best, map_location="cpu", weights_only=True)
    module.load_state_dict(module.completed(state["state_dict"]))
    place(model, torch.device("cpu"), for_compute=False)  # Lightning hands it back on the CPU: contiguous again
    strategy.finalize(model)
    new_rows = _epoch_rows(metrics_csv)
    first_new = new_rows[0]["epoch"] if new_rows else float("inf")
    rows = [r for r in earlier_rows if r["epoch"] < first_new] + new_rows
    best_epoch = _best_epoch(rows, cfg.monitor, mode)
    score = checkpoint.best_model_score  # not sent back from spawned ranks (ddp_spawn): read from the log then
    if score is None and best_epoch is not None:
        score = next(r[cfg.monitor] for r in rows if r["epoch"] == best_epoch)
    schedule = {
        "epochs_planned": epochs,
        "validate_every": val_every,
        "backbone_lr_scale": rates.backbone_lr_scale,
        "layer_decay": rates.layer_decay,
    }
    return TrainOutcome(best_epoch, len(rows), None if score is None else float(score), cfg.monitor, rows, schedule)


def planned_epochs(epochs: int, min_steps: int, steps_per_epoch: int) -> int:
    """``epochs``, raised until training takes ``min_steps`` optimizer steps; warns when it takes very few."""
    planned = max(epochs, math.ceil(min_steps / max(1, steps_per_epoch)))
    if planned > epochs:
        log.info("%d epochs (of %d steps each) to reach min_steps=%d", planned, steps_per_epoch, min_steps)
    elif planned * steps_per_epoch < FEW_STEPS:
        log.warning(
            "training takes only %d optimizer steps (%d epochs of %d batches): a model trained this briefly "
            "barely moves; give --min-steps (e.g. 300) or more --epochs",
            planned * steps_per_epoch,
            planned,
            steps_per_epoch,
        )
    return planned


def _feature_datasets(model: TransferModel, data: TrainData, batch_size: int) -> tuple[Dataset, Dataset]:
    out = []
    for name, ds, targets in (
        ("train", data.train_plain, data.train_targets),
        ("val", data.val, data.val_targets),
    ):
        feats = backbone_features(model.backbone, ds, data.preprocessing, data.data_hashes[name], max(batch_size, 64))
        out.append(feats.with_targets(targets))  # read from the cache file a batch at a time
    return out[0], out[1]


def _epoch_rows(metrics_csv: Path) -> list[dict]:
    """One row per epoch from Lightning's CSV log (it writes train and val metrics on separate lines)."""
    if not metrics_csv.is_file():
        return []
    merged: dict[int, dict] = {}
    with open(metrics_csv, newline="") as fh:
        for row in csv.DictReader(fh):
            if not row.get("epoch"):
                continue
            epoch = int(float(row["epoch"]))
            entry = merged.setdefault(epoch, {"epoch": epoch})
            for k in LOG_COLUMNS[1:]:
                if row.get(k):
                    entry[k] = float(row[k])
    return [merged[e] for e in sorted(merged)]


def _best_epoch(rows: list[dict], monitor: str, mode: str) -> int | None:
    scored = [r for r in rows if monitor in r]
    if not scored:
        return None
    pick = min if mode == "min" else max
    return pick(scored, key=lambda r: r[monitor])["epoch"]


def write_log_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=LOG_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
