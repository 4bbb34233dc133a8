"""BERT's masked-language-model corruption: 15% of real tokens chosen, 80% [MASK], 10% random, 10% kept."""

from __future__ import annotations

import torch


def mask_tokens(
    ids: torch.Tensor, mask_id: int, n_special: int, vocab_size: int, generator: torch.Generator, rate: float = 0.15
) -> tuple[torch.Tensor, torch.Tensor]:
    """(corrupted ids, labels) where labels are -100 except at the chosen positions.

    Ids below ``n_special`` are special tokens ([PAD], [CLS], ...) and are never chosen.
    """
    real = ids >= n_special
    chosen = (torch.rand(ids.shape, generator=generator) < rate) & real
    if not chosen.any():  # every batch trains on at least one token
        first = real.nonzero()[0]
        chosen[first[0], first[1]] = True
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    roll = torch.rand(ids.shape, generator=generator)
    corrupted = ids.clone()
    corrupted[chosen & (roll < 0.8)] = mask_id
    random_pos = chosen & (roll >= 0.8) & (roll < 0.9)
    corrupted[random_pos] = torch.randint(n_special, vocab_size, ids.shape, generator=generator)[random_pos]
    return corrupted, labels
