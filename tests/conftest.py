"""Fixtures: tiny real inputs generated on the fly (PNG trees, CSVs, .npz) and an isolated cache."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Feature cache in a temp folder; built-in data from ../shared/data unless the caller set its own."""
    monkeypatch.setenv("MEDTRANSFER_CACHE", str(tmp_path_factory.mktemp("cache")))
    if "MEDTRANSFER_DATA" not in os.environ and SHARED_DATA.is_dir():
        monkeypatch.setenv("MEDTRANSFER_DATA", str(SHARED_DATA))


def planted_image(label: int, rng: np.random.Generator, size: int = 24, channels: int = 1) -> np.ndarray:
    """Noise, plus a bright square in the top-left corner for class 1: learnable by a tiny model."""
    img = rng.integers(0, 90, size=(size, size, channels), dtype=np.uint8)
    if label == 1:
        img[2:10, 2:10] = 230
    return img


def save_png(arr: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr).save(path)
    return path


@pytest.fixture
def image_folder(tmp_path) -> Path:
    """root/<class>/<n>.png with 12 images per class."""
    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    for label, name in enumerate(("benign", "malignant")):
        for i in range(12):
            save_png(planted_image(label, rng), root / name / f"{i}.png")
    return root


@pytest.fixture
def image_csv(tmp_path) -> Path:
    """images/ + labels.csv with path, label and patient_id (2 images per patient)."""
    rng = np.random.default_rng(1)
    lines = ["path,diagnosis,patient_id"]
    for i in range(40):
        label = i % 2
        save_png(planted_image(label, rng), tmp_path / "imgs" / f"{i}.png")
        lines.append(f"imgs/{i}.png,{'tumour' if label else 'normal'},p{i // 4 * 2 + label}")
    csv = tmp_path / "labels.csv"
    csv.write_text("\n".join(lines) + "\n")
    return csv


def planted_npz(path: Path, n_train: int = 60, n_val: int = 20, n_test: int = 20, size: int = 24) -> Path:
    """A MedMNIST-layout .npz with the planted-square task."""
    rng = np.random.default_rng(2)
    arrays = {}
    for split, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        labels = np.arange(n) % 2
        arrays[f"{split}_images"] = np.stack([planted_image(int(y), rng, size)[:, :, 0] for y in labels])
        arrays[f"{split}_labels"] = labels.reshape(-1, 1).astype(np.uint8)
    np.savez_compressed(path, **arrays)
    return path


@pytest.fixture
def npz_data(tmp_path) -> Path:
    return planted_npz(tmp_path / "planted.npz")


@pytest.fixture
def tiny_fit_settings(tmp_path) -> dict:
    """A seconds-long fit: tiny timm test model, small images, few epochs, no progress bar."""
    return dict(
        backbone="test_efficientnet",
        image_size=32,
        epochs=3,
        batch_size=16,
        progress=False,
        head_hidden=32,
        out=str(tmp_path / "run"),
        augment="none",
    )
