"""The image torch Dataset and its transforms (torchvision.transforms.v2), built from saved preprocessing."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from medtransfer.data.images.decode import to_channels

AUGMENTS = ("none", "light", "strong")


def build_transform(pre: dict, train: bool):
    """Resize to ``image_size`` (upsampling small images), augment when training, scale and normalise."""
    from torchvision.transforms import InterpolationMode, v2

    size = pre["image_size"]
    interp = InterpolationMode.BICUBIC if pre.get("interpolation") == "bicubic" else InterpolationMode.BILINEAR
    steps = [v2.Resize((size, size), interpolation=interp, antialias=True)]
    augment = pre.get("augment", "none") if train else "none"
    if augment in ("light", "strong"):
        # no flips by default: laterality matters in chest X-rays and many other medical images
        steps += [
            v2.RandomResizedCrop(size, scale=(0.85, 1.0), ratio=(0.9, 1.1), interpolation=interp, antialias=True),
            v2.RandomRotation(10, interpolation=InterpolationMode.BILINEAR),
            v2.ColorJitter(brightness=0.1, contrast=0.1),
        ]
    if augment == "strong":
        steps += [v2.RandomHorizontalFlip(), v2.RandomVerticalFlip()]
    steps += [v2.ToDtype(torch.float32, scale=True), v2.Normalize(list(pre["mean"]), list(pre["std"]))]
    return v2.Compose(steps)


class ImageDataset(Dataset):
    """uint8 H×W×C arrays (decoded once) → normalised C×H×W float tensors, with targets.

    With ``channels``, each image is given that many channels as it is read (gray → RGB by replication): a copy
    of the whole set with three times the bytes is never held."""

    def __init__(
        self, images: list[np.ndarray], targets: np.ndarray | None, transform, channels: int | None = None
    ) -> None:
        self.images = images
        self.targets = None if targets is None else torch.as_tensor(targets)
        self.transform = transform
        self.channels = channels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        image = self.images[i] if self.channels is None else to_channels(self.images[i], self.channels)
        x = self.transform(torch.from_numpy(image).permute(2, 0, 1))
        if self.targets is None:
            return x
        return x, self.targets[i]
