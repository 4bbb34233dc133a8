"""BERT's masked-language-model corruption: 15% of real tokens chosen, 80% [MASK], 10% random, 10% kept.

Overlapping k-mer tokens are masked in runs of k (DNABERT), since a lone masked k-mer can be read off its
neighbours, which share all but one of its letters.
"""

from __future__ import annotations

import torch


def mask_span(tokenizer: dict) -> int:
    """How many consecutive tokens one masking covers: k for overlapping k-mers, else 1."""
    splitter = tokenizer.get("splitter", "")
    return int(splitter.removeprefix("kmer")) if splitter.startswith("kmer") else 1


def mask_tokens(
    ids: torch.Tensor,
    mask_id: int,
    n_special: int,
    vocab_size: int,
    generator: torch.Generator,
    rate: float = 0.15,
    span: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(corrupted ids, labels) where labels are -100 except at the chosen positions.

    Ids below ``n_special`` are special tokens ([PAD], [CLS], ...) and are never chosen. With ``span`` > 1,
    runs of ``span`` tokens are chosen, starting at a rate that keeps about ``rate`` of the tokens chosen.
    """
    real = ids >= n_special
    starts = torch.rand(ids.shape, generator=generator) < rate / span
    chosen = starts.clone()
    for shift in range(1, span):
        chosen[:, shift:] |= starts[:, :-shift]
    chosen &= real
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
