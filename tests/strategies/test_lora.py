"""LoRA: only adapters and the head train; merged adapters change query/value by a low-rank delta only."""

from __future__ import annotations

import pytest
import torch

from medtransfer.adapt.head import HeadSpec
from medtransfer.adapt.model import TransferModel
from medtransfer.backbones.registry import create_backbone
from medtransfer.errors import ConfigError
from medtransfer.strategies.strategy import LearningRates, create_strategy


def test_lora_trains_only_adapters_and_head_and_merges_a_low_rank_update():
    torch.manual_seed(0)
    model = TransferModel(create_backbone("test_smiles_bert", False), HeadSpec(hidden=16), 2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lora = create_strategy("lora")
    lora.prepare(model)
    lora.apply(model, epoch=0)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or n.startswith("head.") for n in trainable)
    opt = torch.optim.Adam(lora.param_groups(model, LearningRates(1e-2)))
    ids = torch.randint(5, 30, (16, 12))
    y = torch.randint(0, 2, (16,))
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(ids), y).backward()
        opt.step()
    lora.finalize(model)
    after = model.state_dict()
    assert set(after) == set(before)  # the plain architecture again: saved and loaded like any model
    for name, w in before.items():
        delta = after[name] - w
        if name.startswith("head."):
            continue
        if name.endswith(("query.weight", "value.weight")):
            assert 0 < torch.linalg.matrix_rank(delta) <= lora.rank, name
        else:
            assert torch.equal(after[name], w), f"{name} changed but is not an adapter target"


def test_lora_refuses_backbones_without_attention():
    model = TransferModel(create_backbone("test_resnet", False, in_chans=1), HeadSpec(hidden=8), 2)
    with pytest.raises(ConfigError, match="--strategy lora needs attention layers"):
        create_strategy("lora").prepare(model)
