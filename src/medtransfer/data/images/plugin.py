"""The image modality plug-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from medtransfer.data.csv_table import pick_column, read_rows
from medtransfer.data.images.dataset import AUGMENTS, ImageDataset, build_transform
from medtransfer.data.images.decode import IMAGE_SUFFIXES, to_channels
from medtransfer.data.images.fingerprints import NEAR_FRACTION, average_hashes, correlation_check, thumbnails
from medtransfer.data.images.readers import (
    PATH_COLUMNS,
    decode_inputs,
    image_input_paths,
    read_image_csv,
    read_image_folder,
    read_image_inputs,
    read_image_npz,
)
from medtransfer.data.input_stream import InputStream, lazy_batches
from medtransfer.data.modality import MODALITIES, Fingerprints
from medtransfer.data.options import ReadOptions
from medtransfer.data.table import SampleTable
from medtransfer.errors import ConfigError


class ImageModality:
    name = "image"
    default_backbone = "efficientnet_lite0"

    def claims(self, path: Path, opts: ReadOptions) -> bool:
        if path.is_dir():
            return any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.rglob("*") if p.is_file())
        if path.suffix.lower() == ".npz":
            return True
        if path.suffix.lower() in (".csv", ".tsv", ".txt"):
            if opts.path_column:
                return True
            header, _ = read_rows(path)
            return pick_column(header, None, PATH_COLUMNS) is not None
        return False

    def read(self, path: Path, opts: ReadOptions) -> SampleTable:
        if path.is_dir():
            return read_image_folder(path)
        if path.suffix.lower() == ".npz":
            return read_image_npz(path, task=opts.task)
        return read_image_csv(path, opts)

    def read_inputs(self, sources: list[Path], skip_invalid: bool = False) -> tuple[list[Any], list[str], list[dict]]:
        return read_image_inputs(sources, skip_invalid)

    def stream_inputs(self, sources: list[Path], skip_invalid: bool, batch_size: int) -> InputStream:
        return lazy_batches(image_input_paths(sources), batch_size, lambda paths: decode_inputs(paths, skip_invalid))

    def input_bytes(self, x: np.ndarray) -> bytes:
        return np.asarray(x.shape, dtype=np.int64).tobytes() + x.tobytes()

    def backbone_kwargs(self, table: SampleTable) -> dict:
        return {"in_chans": int(table.inputs[0].shape[2])}

    def preprocessing(self, card: Any, table: SampleTable, settings: dict) -> dict:
        augment = settings.get("augment", "light")
        if augment not in AUGMENTS:
            raise ConfigError(f"unknown augment {augment!r}: use one of {', '.join(AUGMENTS)}.")
        return {
            "modality": self.name,
            "image_size": int(settings.get("image_size") or card.input_size),
            "in_chans": card.in_chans,
            "mean": list(card.mean),
            "std": list(card.std),
            "interpolation": card.interpolation,
            "augment": augment,
            "tta": settings.get("tta") or "none",
        }

    def describe(self, table: SampleTable, pre: dict) -> str:
        sizes = {im.shape[:2] for im in table.inputs}
        native = "×".join(map(str, next(iter(sizes)))) + " px" if len(sizes) == 1 else f"{len(sizes)} sizes"
        return f"{pre['in_chans']}-channel images, {native} native, resized to {pre['image_size']} px"

    def fingerprints(self, inputs: list[Any]) -> Fingerprints:
        """Content hashes; average hashes for near-copy candidates, confirmed by thumbnail correlation."""
        import hashlib

        exact = [hashlib.sha1(self.input_bytes(x)).hexdigest() for x in inputs]
        check = correlation_check(thumbnails(inputs))
        return Fingerprints(exact, average_hashes(inputs), NEAR_FRACTION, check)

    def search_settings(self, table: SampleTable) -> list[dict]:
        """AutoTransfer's image levers: small images are read at 64 or 128 px, the two best validation resolutions
        on BreastMNIST (docs/benchmarks.md); a backbone's 224 px costs 3–12× the compute. The cheaper first: a
        small budget still sees every contestant once."""
        largest = max(max(x.shape[:2]) for x in table.inputs)
        return [{"image_size": 64}, {"image_size": 128}] if largest <= 64 else [{}]

    def tuned_levers(self, table: SampleTable) -> dict[str, tuple]:
        """Options AutoTransfer's tuning of the finalist chooses among on validation: mixup (α = 0.2, the value
        of Zhang et al.'s ImageNet runs) against none, for classes only."""
        return {"mixup": (0.0, 0.2)} if table.task.is_classification else {}

    # every image source reads the same pixels (each normalises them for itself), so AutoTransfer also races the
    # best-ranked sources concatenated into one probe (backbones/concat_backbone.py)
    concat_sources = True

    # AutoTransfer validates its best trial again with these (``tta`` values) on: the mirror image averaged in
    test_time_views = ("flip",)

    simple_features_name = "16×16 pixels + intensity histogram"
    baseline_estimator = "linear"

    def simple_features(self, inputs: list[Any]) -> np.ndarray:
        """Downsampled gray pixels and a 16-bin histogram per channel: what a classical baseline sees."""
        from PIL import Image

        rows = []
        for x in inputs:
            x = x[:, :, None] if x.ndim == 2 else x  # H × W: one channel
            gray = to_channels(x, 1)[:, :, 0]
            small = np.asarray(Image.fromarray(gray).resize((16, 16), Image.Resampling.BILINEAR), dtype=np.float32)
            hists = [np.histogram(x[:, :, c], bins=16, range=(0, 256))[0] / x[:, :, c].size for c in range(x.shape[2])]
            rows.append(np.concatenate([small.ravel() / 255.0, *hists]))
        return np.stack(rows)

    def dataset(self, inputs: list[Any], targets: np.ndarray | None, pre: dict, train: bool) -> ImageDataset:
        return ImageDataset(inputs, targets, build_transform(pre, train), channels=pre["in_chans"])


MODALITIES.register("image", description="2D medical images: PNG/JPEG/TIFF/DICOM, folders, CSV, .npz")(ImageModality())
