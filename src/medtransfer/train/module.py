"""The LightningModule: loss, optimizer groups from the strategy, schedule, per-epoch freezing and seeding."""

from __future__ import annotations

import math

import lightning as L
import torch

from medtransfer.adapt.model import TransferModel
from medtransfer.data.task import TaskSpec
from medtransfer.strategies.strategy import LearningRates, Strategy
from medtransfer.train.losses import task_loss
from medtransfer.train.mixup import mixed_loss

FROZEN = "model.backbone."  # the state-dict prefix of the backbone


class TransferModule(L.LightningModule):
    """Trains ``model`` (or only its head, on cached features, when ``on_features``)."""

    def __init__(
        self,
        model: TransferModel,
        task: TaskSpec,
        strategy: Strategy,
        rates: LearningRates,
        weight_decay: float,
        scheduler: str,
        seed: int,
        on_features: bool = False,
        class_weights: torch.Tensor | None = None,
        mixup: float = 0.0,
    ) -> None:
        super().__init__()
        self.model, self.task, self.strategy, self.rates = model, task, strategy, rates
        self.weight_decay, self.scheduler_name, self.seed = weight_decay, scheduler, seed
        self.on_features, self.mixup = on_features, mixup
        self.register_buffer("class_weights", class_weights, persistent=False)
        self._val_outputs: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.head_forward(x) if self.on_features else self.model(x)

    # On cached features the backbone never changes while training, and the fit rebuilds it from its weights
    # (and the strategy's deterministic preparation) before any resume: checkpoints keep the head only. A
    # BERT's 440 MB written twice per validation had cost more than a probe's training.
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        if self.on_features:
            checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if not k.startswith(FROZEN)}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["state_dict"] = self.completed(checkpoint["state_dict"])

    def completed(self, state: dict) -> dict:
        """A checkpoint's state dict with the frozen backbone this module holds filled in where it was left out."""
        if not self.on_features:
            return state
        return {**{k: v for k, v in self.state_dict().items() if k.startswith(FROZEN)}, **state}

    def _loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return task_loss(self.task, out, y, self.class_weights, self.model.target_mean, self.model.target_std)

    def on_train_epoch_start(self) -> None:
        # seed from (seed, epoch): shuffling, augmentation and dropout of an epoch do not depend on
        # whether the run was resumed, so a resumed run ends where an uninterrupted one would
        torch.manual_seed(self.seed * 100_003 + self.current_epoch)
        self.strategy.apply(self.model, self.current_epoch)
        if self.scheduler_name == "cosine":
            self._set_cosine_lr(self.current_epoch)

    def _set_cosine_lr(self, epoch: int) -> None:
        """Cosine annealing as a function of the epoch alone, like the strategy's freezing: a resumed run has no
        scheduler state to restore, so its rates cannot depend on when or where it was interrupted."""
        factor = 0.5 * (1.0 + math.cos(math.pi * epoch / max(1, self.trainer.max_epochs)))
        for group in self.trainer.optimizers[0].param_groups:
            group["lr"] = group["base_lr"] * factor

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y = batch
        if self.mixup > 0:
            loss = mixed_loss(x, y, self.mixup, (self.seed, self.current_epoch, batch_idx), self, self._loss)
        else:
            loss = self._loss(self(x), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=len(y), sync_dist=True)
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        x, y = batch
        out = self(x)
        self.log("val_loss", self._loss(out, y), on_step=False, on_epoch=True, batch_size=len(y), sync_dist=True)
        self._val_outputs.append((out.detach(), y.detach()))

    def on_validation_epoch_end(self) -> None:
        if not self._val_outputs:
            return
        out = torch.cat([o for o, _ in self._val_outputs])
        y = torch.cat([t for _, t in self._val_outputs])
        self._val_outputs.clear()
        if self.task.is_classification:
            self.log("val_acc", (out.argmax(1) == y).float().mean(), sync_dist=True)
            self.log("val_auroc", _auroc(self.task, out, y), sync_dist=True)

    def configure_optimizers(self):
        groups = self.strategy.param_groups(self.model, self.rates)
        for group in groups:
            group["base_lr"] = group["lr"]
        optimizer = torch.optim.AdamW(groups, weight_decay=self.weight_decay, fused=fused_adam_ok(groups) or None)
        if self.scheduler_name == "onecycle":
            sched = torch.optim.lr_scheduler.OneCycleLR(
                optimizer,
                max_lr=[g["lr"] for g in groups],
                total_steps=self.trainer.estimated_stepping_batches,
            )
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
        return optimizer


def fused_adam_ok(groups: list[dict]) -> bool:
    """Whether AdamW can take every parameter in one fused kernel: plain tensors on one CPU or CUDA device type.
    The same update to float rounding, 3–16× faster a step on CPU (EfficientNet-Lite0's 149 tensors 24 → 7 ms, a
    Dense(1024) head on 1,280 features 12 → 0.8 ms: bench/optimizer_step.py); sharded (FSDP) parameters or other
    devices keep the default."""
    params = [p for group in groups for p in group["params"]]
    kinds = {p.device.type for p in params}
    return (
        bool(params)
        and len(kinds) == 1
        and kinds <= {"cpu", "cuda"}
        and all(type(p) is torch.nn.Parameter and p.dtype.is_floating_point for p in params)
    )


def _auroc(task: TaskSpec, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    from torchmetrics.functional import auroc

    probs = logits.softmax(1)
    if task.kind == "binary":
        return auroc(probs[:, task.positive_index], (y == task.positive_index).long(), task="binary")
    return auroc(probs, y.long(), task="multiclass", num_classes=len(task.class_names))
