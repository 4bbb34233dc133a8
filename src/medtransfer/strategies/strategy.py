"""Strategies decide, per epoch, how many of the backbone's top blocks train; the head always trains.

The decision depends on the epoch number alone, so a resumed run re-derives it exactly. Parameter groups
are built once: the head at ``lr``, backbone block *k* from the top at ``lr * backbone_lr_scale *
layer_decay**k`` (discriminative learning rates). Frozen parameters have no gradient, which the optimizer
skips, and BatchNorm layers in frozen blocks stay in eval mode so their statistics do not drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from medtransfer.adapt.model import TransferModel
from medtransfer.errors import ConfigError
from medtransfer.registry import Registry


@dataclass(frozen=True)
class LearningRates:
    lr: float = 1e-3
    backbone_lr_scale: float = 0.1
    layer_decay: float = 0.8

    @classmethod
    def resolve(
        cls, lr: float, pretrained: bool, card_rates: dict | None, scale: float | None, decay: float | None
    ) -> LearningRates:
        """The rates a fit uses: the user's when given, else the backbone card's recommendation, else the
        defaults. Random weights hold nothing to protect: every block at ``lr``."""
        if not pretrained:
            return cls(lr, 1.0, 1.0)
        card_rates = card_rates or {}
        return cls(
            lr,
            scale if scale is not None else card_rates.get("backbone_lr_scale", cls.backbone_lr_scale),
            decay if decay is not None else card_rates.get("layer_decay", cls.layer_decay),
        )


class Strategy:
    """Base: subclasses set ``uses_feature_cache`` and implement ``trainable_top_blocks``."""

    name = "base"
    uses_feature_cache = False

    def __init__(self, unfreeze_blocks: int = 2, unfreeze_every: int = 1) -> None:
        self.unfreeze_blocks = unfreeze_blocks
        self.unfreeze_every = unfreeze_every

    def trainable_top_blocks(self, n_blocks: int, epoch: int) -> int:
        """How many backbone blocks, counted from the output end, train during ``epoch``."""
        raise NotImplementedError

    def prepare(self, model: TransferModel, train: Dataset | None = None, labels=None, seed: int = 0,
                rates: LearningRates | None = None) -> None:  # fmt: skip
        """Change the model before its head trains (LoRA adds adapters; SetFit tunes the encoder on pairs of the
        ``train`` examples with their ``labels``, at the backbone's top-block rate of ``rates``); most do not."""

    def finalize(self, model: TransferModel) -> None:
        """After training: return the model to its saved architecture, keeping what it learnt."""

    def max_trainable_blocks(self, n_blocks: int) -> int:
        return max(self.trainable_top_blocks(n_blocks, e) for e in range(n_blocks * self.unfreeze_every + 2))

    def apply(self, model: TransferModel, epoch: int) -> None:
        """Set ``requires_grad`` for ``epoch`` and put BatchNorm of frozen blocks in eval mode."""
        blocks = model.backbone.param_blocks()
        k = self.trainable_top_blocks(len(blocks), epoch)
        for i, params in enumerate(blocks):
            for p in params:
                p.requires_grad_(i >= len(blocks) - k)
        for p in model.head.parameters():
            p.requires_grad_(True)
        for module in model.backbone.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.weight is not None:
                module.train(model.training and module.weight.requires_grad)

    def param_groups(self, model: TransferModel, rates: LearningRates) -> list[dict]:
        """Optimizer groups: the head, then every backbone block this strategy ever trains."""
        groups = [{"params": list(model.head.parameters()), "lr": rates.lr, "name": "head"}]
        blocks = model.backbone.param_blocks()
        n_train = self.max_trainable_blocks(len(blocks))
        for depth, params in enumerate(reversed(blocks[len(blocks) - n_train :])):
            lr = rates.lr * rates.backbone_lr_scale * rates.layer_decay**depth
            groups.append({"params": params, "lr": lr, "name": f"backbone_top{depth}"})
        return groups


STRATEGIES: Registry[type[Strategy]] = Registry("strategy", ConfigError)


@STRATEGIES.register("linear_probe", description="frozen backbone; features computed once and cached; head only")
class LinearProbe(Strategy):
    name = "linear_probe"
    uses_feature_cache = True

    def trainable_top_blocks(self, n_blocks: int, epoch: int) -> int:
        return 0


@STRATEGIES.register("partial", description="the last N backbone blocks (--unfreeze-blocks) and the head")
class Partial(Strategy):
    name = "partial"

    def trainable_top_blocks(self, n_blocks: int, epoch: int) -> int:
        return min(self.unfreeze_blocks, n_blocks)


@STRATEGIES.register("full", description="every parameter, with layer-wise learning rates")
class Full(Strategy):
    name = "full"

    def trainable_top_blocks(self, n_blocks: int, epoch: int) -> int:
        return n_blocks


@STRATEGIES.register("gradual", description="head first, then one more block from the top every N epochs")
class Gradual(Strategy):
    name = "gradual"

    def trainable_top_blocks(self, n_blocks: int, epoch: int) -> int:
        return min(n_blocks, epoch // self.unfreeze_every)


@STRATEGIES.register("lora", description="low-rank adapters on the attention (peft); backbone frozen")
class LoRA(Strategy):
    """LoRA (Hu et al. 2021) through peft: rank-r adapters on the backbone's ``lora_targets`` train with the
    head; every original weight stays frozen. Adapters are merged into the weights after training, so the
    saved model has the plain architecture and loads like any other."""

    name = "lora"
    rank, alpha = 8, 16

    def prepare(self, model: TransferModel, train: Dataset | None = None, labels=None, seed: int = 0,
                rates: LearningRates | None = None) -> None:  # fmt: skip
        targets = getattr(model.backbone, "lora_targets", None)
        if not targets:
            raise ConfigError(
                f"--strategy lora needs attention layers; backbone {model.backbone.card.name} has none. "
                "Use a transformer backbone, or --strategy partial / full."
            )
        try:
            from peft import LoraConfig, inject_adapter_in_model
        except ImportError as exc:
            raise ConfigError("--strategy lora needs peft: pip install 'medtransfer[sequences]'.") from exc
        config = LoraConfig(r=self.rank, lora_alpha=self.alpha, lora_dropout=0.0, target_modules=list(targets))
        inject_adapter_in_model(config, model.backbone)

    def trainable_top_blocks(self, n_blocks: int, epoch: int) -> int:
        return 0

    def apply(self, model: TransferModel, epoch: int) -> None:
        for name, p in model.backbone.named_parameters():
            p.requires_grad_("lora_" in name)
        for p in model.head.parameters():
            p.requires_grad_(True)

    def param_groups(self, model: TransferModel, rates: LearningRates) -> list[dict]:
        adapters = [p for n, p in model.backbone.named_parameters() if "lora_" in n]
        return [
            {"params": list(model.head.parameters()), "lr": rates.lr, "name": "head"},
            {"params": adapters, "lr": rates.lr, "name": "lora"},
        ]

    def finalize(self, model: TransferModel) -> None:
        from peft.tuners.lora import LoraLayer

        for name, module in list(model.backbone.named_modules()):
            if isinstance(module, LoraLayer):
                module.merge()
                parent, _, child = name.rpartition(".")
                setattr(model.backbone.get_submodule(parent) if parent else model.backbone, child, module.base_layer)


@STRATEGIES.register(
    "setfit", description="few-shot: the backbone tuned on same / different-class pairs, then the head on its features"
)
class SetFit(Strategy):
    """SetFit (Tunstall et al. 2022) for small single-label sets: a contrastive stage tunes the whole backbone on
    pairs of training examples (strategies/contrastive.py), then, as in a linear probe, the head trains on the
    tuned backbone's frozen features. The tuned weights are saved with the run like any fine-tuned backbone."""

    name = "setfit"
    uses_feature_cache = True
    pair_rounds = 5  # pairs per example: one same-class and one other-class pair in each round

    def prepare(self, model: TransferModel, train: Dataset | None = None, labels=None, seed: int = 0,
                rates: LearningRates | None = None) -> None:  # fmt: skip
        from medtransfer.strategies.contrastive import contrastive_tuning, weights_digest

        labels = None if labels is None else np.asarray(labels)
        if train is None or labels is None or labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise ConfigError("--strategy setfit needs single-label classes (binary or multiclass), not "
                              "multi-label or regression targets: use linear_probe, full or lora.")  # fmt: skip
        inputs = torch.stack([train[i][0] for i in range(len(train))])
        rates = rates or LearningRates()
        lr = rates.lr * rates.backbone_lr_scale  # the rate full fine-tuning gives the backbone's top block
        loss = contrastive_tuning(model.backbone, inputs, labels, seed, rounds=self.pair_rounds, lr=lr)
        # the frozen features now come from tuned weights: the card says so, which also keys the feature cache
        model.backbone.card.changes.append(
            f"SetFit contrastive tuning on {len(labels)} training examples ({self.pair_rounds} pair rounds, lr {lr:g}, "
            f"seed {seed}, final pair loss {loss:.3f}; weights {weights_digest(model.backbone)})"
        )

    def trainable_top_blocks(self, n_blocks: int, epoch: int) -> int:
        return 0


def create_strategy(name: str, unfreeze_blocks: int = 2, unfreeze_every: int = 1) -> Strategy:
    """Instantiate a registered strategy."""
    if unfreeze_blocks < 0 or unfreeze_every < 1:
        raise ConfigError("--unfreeze-blocks must be ≥ 0 and --unfreeze-every ≥ 1.")
    return STRATEGIES.get(name)(unfreeze_blocks=unfreeze_blocks, unfreeze_every=unfreeze_every)
