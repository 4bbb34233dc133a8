"""The fine-tuning optimizer: AdamW in one fused kernel where every parameter allows it, the same update."""

from __future__ import annotations

import torch

from medtransfer.train.module import fused_adam_ok


def _params(seed: int) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(64, 128, generator=g)), torch.nn.Parameter(torch.randn(64, generator=g))]


def test_fused_adamw_takes_the_same_steps_as_the_default():
    plain, fused = _params(0), _params(0)
    groups = [{"params": fused, "lr": 1e-3}]
    assert fused_adam_ok(groups)
    a = torch.optim.AdamW([{"params": plain, "lr": 1e-3}], weight_decay=0.01)
    b = torch.optim.AdamW(groups, weight_decay=0.01, fused=True)
    g = torch.Generator().manual_seed(1)
    for _ in range(30):
        for p, q in zip(plain, fused, strict=True):
            p.grad = torch.randn(p.shape, generator=g)
            q.grad = p.grad.clone()
        a.step()
        b.step()
    for p, q in zip(plain, fused, strict=True):
        torch.testing.assert_close(q, p, rtol=0, atol=1e-6)
    assert not torch.equal(plain[0], _params(0)[0]), "the optimizer did not move the weights"


def test_fused_only_where_every_parameter_allows_it():
    assert not fused_adam_ok([{"params": []}])
    integer = torch.nn.Parameter(torch.zeros(3, dtype=torch.int64), requires_grad=False)
    assert not fused_adam_ok([{"params": [*_params(0), integer]}])
    assert not fused_adam_ok([{"params": [torch.nn.Parameter(torch.empty(3, device="meta"))]}])
