"""Image explanations drawn as heatmaps over the original image, at its original resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medtransfer.explanations.display import DISPLAYS


class ImageDisplay:
    unit = "pixel"

    def display(self, raw: np.ndarray, attribution: np.ndarray, pre: dict) -> np.ndarray:
        """Resize the model-resolution map back to the image's own height and width (bilinear)."""
        import torch
        import torch.nn.functional as F

        grid = torch.as_tensor(attribution, dtype=torch.float32)[None, None]
        return F.interpolate(grid, size=raw.shape[:2], mode="bilinear", align_corners=False)[0, 0].numpy()

    def render(self, raw: np.ndarray, values: np.ndarray, path: Path) -> None:
        """The image and, beside it, the image under the positive attribution (jet colour map)."""
        from matplotlib import colormaps
        from PIL import Image

        base = raw.astype(np.float32) / 255.0
        base = np.repeat(base, 3, axis=2) if base.shape[2] == 1 else base[..., :3]
        heat = np.clip(values, 0, None)
        heat = heat / heat.max() if heat.max() > 0 else heat
        colour = colormaps["jet"](heat)[..., :3]
        alpha = 0.55 * heat[..., None]
        overlay = (1 - alpha) * base + alpha * colour
        gap = np.ones((base.shape[0], max(2, base.shape[1] // 32), 3), dtype=np.float32)
        Image.fromarray((np.concatenate([base, gap, overlay], axis=1) * 255).round().astype(np.uint8)).save(path)


DISPLAYS.register("image")(ImageDisplay())
