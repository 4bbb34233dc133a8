"""Each strategy trains exactly the parameters it should: checked by training, not by flags alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medtransfer.adapt import HeadSpec, TransferModel
from medtransfer.backbones import create_backbone
from medtransfer.config import FitConfig
from medtransfer.data.images.dataset import ImageDataset, build_transform
from medtransfer.data.task import TaskSpec
from medtransfer.strategies import STRATEGIES, create_strategy
from medtransfer.train.loop import TrainData, train_model
from tests.conftest import planted_image

TASK = TaskSpec("binary", ("a", "b"))
PRE = {"image_size": 32, "in_chans": 1, "mean": [0.5], "std": [0.25], "augment": "none"}


def _data() -> TrainData:
    rng = np.random.default_rng(0)
    y = np.arange(32) % 2
    images = [planted_image(int(t), rng) for t in y]
    ds = ImageDataset(images, y, build_transform(PRE, train=False))
    return TrainData(ds, ds, ds, y, y, PRE, {"train": "t", "val": "v"})


def _block_changed(model: TransferModel, before: dict[str, torch.Tensor], after: dict) -> list[bool]:
    names = {id(p): n for n, p in model.named_parameters()}
    return [
        any(not torch.equal(before[names[id(p)]], after[names[id(p)]]) for p in block)
        for block in model.backbone.param_blocks()
    ]


def _last_checkpoint(folder, model: TransferModel) -> dict[str, torch.Tensor]:
    """Weights after the final epoch (the loop itself reloads the best epoch, which may be earlier). A probe's
    checkpoint holds its head only; its backbone is the model's own after training."""
    state = torch.load(folder / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    return {**model.state_dict(), **{k.removeprefix("model."): v for k, v in state.items()}}


@pytest.mark.parametrize(
    ("strategy", "expected_top_blocks"),
    [("linear_probe", 0), ("partial", 2), ("full", None), ("gradual", 2)],
)
def test_strategy_trains_exactly_its_blocks(tmp_path, strategy, expected_top_blocks):
    torch.manual_seed(0)
    model = TransferModel(create_backbone("test_efficientnet", pretrained=False, in_chans=1), HeadSpec(hidden=16), 2)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    buffers_before = {n: b.clone() for n, b in model.backbone.named_buffers()}
    cfg = FitConfig(
        data="x",
        strategy=strategy,
        epochs=3,
        batch_size=8,
        progress=False,
        lr=1e-2,
        backbone_lr_scale=1.0,
        patience=10,
    )
    train_model(model, TASK, create_strategy(strategy, unfreeze_blocks=2), _data(), cfg, tmp_path)

    after = _last_checkpoint(tmp_path, model)
    changed = _block_changed(model, before, after)
    n = len(changed)
    k = n if expected_top_blocks is None else expected_top_blocks
    assert changed == [i >= n - k for i in range(n)], changed
    assert any(not torch.equal(before[n], after[n]) for n in before if n.startswith("head."))
    if strategy == "linear_probe":  # frozen backbone: BatchNorm statistics untouched too
        assert all(torch.equal(b, after[f"backbone.{name}"]) for name, b in buffers_before.items())


def test_gradual_unfreezes_one_block_per_interval():
    strategy = create_strategy("gradual", unfreeze_every=2)
    assert [strategy.trainable_top_blocks(5, e) for e in range(12)] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_param_groups_use_discriminative_learning_rates():
    from medtransfer.strategies.strategy import LearningRates

    model = TransferModel(create_backbone("test_efficientnet", pretrained=False), HeadSpec(hidden=8), 2)
    groups = create_strategy("full").param_groups(model, LearningRates(lr=1.0, backbone_lr_scale=0.1, layer_decay=0.5))
    lrs = [g["lr"] for g in groups]
    assert lrs[0] == 1.0 and lrs[1] == pytest.approx(0.1) and lrs[2] == pytest.approx(0.05)
    n_params = sum(p.numel() for g in groups for p in g["params"])
    assert n_params == sum(p.numel() for p in model.parameters())


def test_learning_rates_come_from_the_user_then_the_backbone_card_then_the_defaults():
    from medtransfer.strategies.strategy import LearningRates

    card = {"backbone_lr_scale": 1.0, "layer_decay": 1.0}
    assert LearningRates.resolve(1e-3, True, None, None, None) == LearningRates(1e-3, 0.1, 0.8)
    assert LearningRates.resolve(1e-3, True, card, None, None) == LearningRates(1e-3, 1.0, 1.0)
    assert LearningRates.resolve(1e-3, True, card, 0.2, None) == LearningRates(1e-3, 0.2, 1.0)
    assert LearningRates.resolve(1e-3, False, None, 0.2, 0.5) == LearningRates(1e-3, 1.0, 1.0)  # random weights
    assert create_backbone("dna_bert_ecoli").card.finetune_rates == card  # measured on splice: see its card


def test_min_steps_raises_the_epochs_of_a_small_training_set(tmp_path, caplog):
    from medtransfer.train.loop import planned_epochs

    assert planned_epochs(10, 300, 3) == 100
    assert planned_epochs(10, 300, 100) == 10
    with caplog.at_level("WARNING", logger="medtransfer"):
        assert planned_epochs(2, 0, 3) == 2
    assert "only 6 optimizer steps" in caplog.text and "--min-steps" in caplog.text
    model = TransferModel(create_backbone("test_efficientnet", pretrained=False, in_chans=1), HeadSpec(hidden=16), 2)
    cfg = FitConfig(data="x", epochs=1, min_steps=6, batch_size=8, progress=False, patience=1)
    outcome = train_model(model, TASK, create_strategy("full"), _data(), cfg, tmp_path)
    steps_per_epoch = -(-len(_data().train) // 8)
    assert outcome.epochs_run == -(-6 // steps_per_epoch) > 1  # early stopping (patience 1) waited for the steps
    assert outcome.schedule == {"epochs_planned": outcome.epochs_run, "validate_every": outcome.epochs_run,
                                "backbone_lr_scale": 0.1, "layer_decay": 0.8}  # fmt: skip


def test_strategy_registry_lists_the_menu():
    assert set(STRATEGIES.names()) >= {"linear_probe", "partial", "full", "gradual"}
