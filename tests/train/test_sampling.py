"""Per-sample seeding: augmentation depends on the sample's seed alone, and seeding touches nothing else."""

from __future__ import annotations

import numpy as np
import torch

from medtransfer.data.modality import get_modality
from medtransfer.train.sampling import SeededSamples
from tests.conftest import planted_image


def _augmented_images(n: int = 4) -> SeededSamples:
    """Real augmentation (the image plug-in's training transform) of small planted images."""
    rng = np.random.default_rng(0)
    images = [planted_image(k % 2, rng) for k in range(n)]
    modality = get_modality("image")
    pre = {"modality": "image", "image_size": 32, "in_chans": 3, "mean": [0.5] * 3, "std": [0.5] * 3,
           "interpolation": "bilinear", "augment": "light", "tta": "none"}  # fmt: skip
    return SeededSamples(modality.dataset(images, np.arange(n) % 2, pre, train=True))


def test_a_sample_depends_on_its_seed_and_leaves_the_global_generator_alone():
    samples = _augmented_images()
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    first = [samples[(i, 100 + i)][0] for i in range(4)]
    assert torch.equal(torch.rand(3), expected), "reading samples moved the caller's generator"
    again = [samples[(i, 100 + i)][0] for i in reversed(range(4))][::-1]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True)), "same seed, different augmentation"
    other = [samples[(i, 900 + i)][0] for i in range(4)]
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True)), "the seed changed nothing"


def test_seeding_a_sample_queues_no_accelerator_seed(monkeypatch):
    """torch.manual_seed queues a seed (with a stack trace) per backend: ms per sample inside Lightning."""
    calls = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: calls.append(seed))
    samples = _augmented_images()
    for i in range(4):
        samples[(i, i)]
    assert calls == []
