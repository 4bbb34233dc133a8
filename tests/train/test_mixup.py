"""Mixup: inputs and labels mixed by one weight per batch, reproducible per (seed, epoch, batch), refused where
labels or inputs cannot be mixed, and carried through ``fit``."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

import medtransfer
from medtransfer.data.task import TaskSpec
from medtransfer.errors import ConfigError
from medtransfer.train.mixup import check_mixup, mixed_loss

BINARY = TaskSpec(kind="binary", class_names=("a", "b"))


def _batch(n: int = 8):
    g = torch.Generator().manual_seed(0)
    return torch.eye(n), torch.randint(0, 3, (n,), generator=g), torch.randn(n, 3, generator=g)


def test_the_loss_mixes_the_labels_as_the_inputs_were_mixed():
    x, y, w = _batch()
    seen = []

    def forward(inputs):
        seen.append(inputs)
        return inputs @ w

    loss = mixed_loss(x, y, 0.4, (0, 1, 2), forward, F.cross_entropy)
    mixed = seen[0]
    # one-hot rows: row i is λ at i and 1 − λ at its partner; read λ and the partner back from the input
    diagonal = mixed.diagonal()
    lam = float(diagonal[diagonal < 1 - 1e-6][0])  # a row mixed with another (not itself)
    partner = torch.tensor([int(torch.argmax(r - lam * x[i])) for i, r in enumerate(mixed)])
    torch.testing.assert_close(mixed, lam * x + (1 - lam) * x[partner])
    assert sorted(partner.tolist()) == list(range(8)), "the partners are a permutation of the batch"
    out = mixed @ w
    expected = lam * F.cross_entropy(out, y) + (1 - lam) * F.cross_entropy(out, y[partner])
    torch.testing.assert_close(loss, expected)
    assert 0.0 < lam < 1.0


def test_a_tiny_alpha_is_the_plain_loss_and_draws_depend_on_the_seed_alone():
    x, y, w = _batch()
    forward = lambda inputs: inputs @ w  # noqa: E731
    state = torch.random.get_rng_state()
    # Beta(α, α) with α → 0 puts λ at 0 or 1: one side of every pair, whose mean loss is the plain batch's
    torch.testing.assert_close(mixed_loss(x, y, 1e-4, (0, 0, 0), forward, F.cross_entropy),
                               F.cross_entropy(forward(x), y), atol=1e-3, rtol=0)  # fmt: skip
    a = mixed_loss(x, y, 0.4, (3, 1, 5), forward, F.cross_entropy)
    assert torch.equal(a, mixed_loss(x, y, 0.4, (3, 1, 5), forward, F.cross_entropy))
    assert not torch.equal(a, mixed_loss(x, y, 0.4, (3, 1, 6), forward, F.cross_entropy))
    assert torch.equal(state, torch.random.get_rng_state()), "the global generator was drawn from"


def test_mixup_is_refused_where_labels_or_inputs_cannot_be_mixed():
    check_mixup(0.0, TaskSpec(kind="regression", class_names=("y",)), {"input_ids": None})  # off: nothing checked
    check_mixup(0.2, BINARY, torch.zeros(3))
    with pytest.raises(ConfigError, match="regression task"):
        check_mixup(0.2, TaskSpec(kind="regression", class_names=("y",)), torch.zeros(3))
    with pytest.raises(ConfigError, match="dict"):
        check_mixup(0.2, BINARY, {"input_ids": torch.zeros(3, dtype=torch.long)})
    with pytest.raises(ConfigError, match="Tensor"):
        check_mixup(0.2, BINARY, torch.zeros(3, dtype=torch.long))


def test_fit_with_mixup_is_reproducible_and_trains_differently(npz_data, tiny_fit_settings, tmp_path):
    def fit(name: str, mixup: float):
        settings = dict(tiny_fit_settings, out=str(tmp_path / name), epochs=2, seed=3)
        return medtransfer.fit(npz_data, strategy="full", mixup=mixup, **settings).run_dir

    first, again, plain = fit("a", 0.4), fit("b", 0.4), fit("c", 0.0)
    val = lambda run: json.loads((run / "metrics.json").read_text())["val"]  # noqa: E731
    assert val(first) == val(again)
    assert val(first) != val(plain)
    assert "mixup: 0.4" in (first / "config.yaml").read_text()
