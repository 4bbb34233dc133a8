"""Image fingerprints for the leakage audit: an exact content hash, an average hash that finds candidate
near copies cheaply, and a pixel-correlation check that confirms them.

An average hash alone cries wolf on sets whose images look alike (small colour histology tiles, ultrasound
with the same framing): many distinct images share most of their above-mean bits. Copies a dataset really
holds (re-encoded, re-scaled, brightness-shifted) keep a pixel correlation near 1, distinct images do not.
The limits below were chosen on the selection half of ``python -m bench.near_duplicates`` (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from medtransfer.data.images.decode import to_channels

HASH_SIDE = 16  # 16×16 = 256-bit average hash
THUMB_SIDE = 32  # correlation is computed on 32×32 RGB thumbnails
NEAR_FRACTION = 0.05  # candidate: hashes differing in at most 5% of their bits
MIN_CORRELATION = 0.99  # confirmed: thumbnails correlate at least this well


def average_hashes(images: list[np.ndarray]) -> np.ndarray:
    """(n, 32) packed bits: 16×16 gray box-downsampled, one bit per cell above the image's mean."""
    from PIL import Image

    out = np.zeros((len(images), HASH_SIDE * HASH_SIDE // 8), dtype=np.uint8)
    for i, x in enumerate(images):
        gray = Image.fromarray(to_channels(x, 1)[:, :, 0])
        small = np.asarray(gray.resize((HASH_SIDE, HASH_SIDE), Image.Resampling.BOX), dtype=np.float32)
        out[i] = np.packbits(small.ravel() > small.mean())
    return out


def thumbnails(images: list[np.ndarray], side: int = THUMB_SIDE, channels: int | None = None) -> np.ndarray:
    """(n, side·side·channels) thumbnails centred and scaled to unit length: a dot product is their Pearson
    correlation. ``channels`` defaults to 1 when every image is gray, else 3: a gray image copied into three
    channels has the same correlation with any other, so a gray set's thumbnails take a third of the memory."""
    from PIL import Image

    if channels is None:
        channels = 1 if all(x.ndim == 2 or x.shape[2] == 1 for x in images) else 3
    out = np.zeros((len(images), side * side * channels), dtype=np.float32)
    for i, x in enumerate(images):
        image = Image.fromarray(to_channels(x, 1)[:, :, 0] if channels == 1 else to_channels(x, 3))
        v = np.asarray(image.resize((side, side), Image.Resampling.BOX), dtype=np.float32).ravel()
        v -= v.mean()
        norm = np.linalg.norm(v)
        out[i] = v / norm if norm > 0 else v
    return out


def correlation_check(thumbs: np.ndarray, limit: float = MIN_CORRELATION) -> Callable[..., np.ndarray]:
    """The confirmation the audit calls on candidate pairs (row arrays ``a``, ``b``): correlation ≥ ``limit``.
    A flat image (no variance) correlates with nothing: only the exact check can pair it."""

    def confirm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.einsum("ij,ij->i", thumbs[a], thumbs[b]) >= limit

    return confirm
