"""SetFit's first stage (Tunstall et al. 2022, "Efficient Few-Shot Learning Without Prompts"): the encoder is
tuned on pairs of training examples, pulling the pooled embeddings of same-class pairs together (cosine → 1)
and pushing different-class pairs apart (cosine → 0); a head then trains on its frozen features.

The ``setfit`` package runs this recipe on sentence-transformers models; medtransfer's backbones carry their
own tokenizers and pooling (the packaged MiniLM, ``hf:`` folders, ``medtransfer pretrain`` folders), so the
same recipe runs here on the backbone interface, with its defaults (cosine-similarity loss, AdamW at 2e-5,
batches of 16 pairs, one pass) and pairs drawn from the run's seed.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn

from medtransfer.errors import ConfigError

log = logging.getLogger("medtransfer")


def sentence_pairs(labels: np.ndarray, rounds: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SetFit's pair generation: in each round every example is paired once with a random example of its own
    class (target 1) and once with one of another class (target 0). Returns (first, second, target)."""
    labels = np.asarray(labels)
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ConfigError("--strategy setfit needs at least two classes in the training split.")
    if min(np.sum(labels == c) for c in classes) < 2:
        raise ConfigError("--strategy setfit needs at least two training examples of every class to make pairs.")
    rng = np.random.default_rng(seed)
    members = {c: np.flatnonzero(labels == c) for c in classes}
    others = {c: np.flatnonzero(labels != c) for c in classes}
    first, second, target = [], [], []
    for _ in range(rounds):
        for i, c in enumerate(labels):
            same = members[c][members[c] != i]
            first += [i, i]
            second += [int(rng.choice(same)), int(rng.choice(others[c]))]
            target += [1.0, 0.0]
    order = rng.permutation(len(first))
    return np.array(first)[order], np.array(second)[order], np.array(target, dtype=np.float32)[order]


def weights_digest(module: nn.Module) -> str:
    """A short sha256 of a module's weights: tuned weights named by their content (the feature cache's key)."""
    import hashlib

    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def contrastive_tuning(
    backbone: nn.Module,
    inputs: torch.Tensor,
    labels: np.ndarray,
    seed: int,
    rounds: int = 5,
    batch_size: int = 16,
    lr: float = 2e-5,
) -> float:
    """Tune ``backbone`` in place on SetFit pairs of ``inputs`` (one tensor row per example); returns the mean
    loss of the last tenth of the steps. Dropout draws come from a generator seeded by ``seed``."""
    first, second, target = sentence_pairs(labels, rounds, seed)
    optimizer = torch.optim.AdamW([p for p in backbone.parameters() if p.requires_grad], lr=lr)
    was_training = backbone.training
    backbone.train()
    losses = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for lo in range(0, len(target), batch_size):
            part = slice(lo, lo + batch_size)
            u, v = backbone(inputs[first[part]]), backbone(inputs[second[part]])
            loss = nn.functional.mse_loss(nn.functional.cosine_similarity(u, v), torch.from_numpy(target[part]))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
    backbone.train(was_training)
    tail = losses[-max(1, len(losses) // 10) :]
    log.info("SetFit contrastive stage: %d pairs, loss %.3f → %.3f", len(target), losses[0], float(np.mean(tail)))
    return float(np.mean(tail))
