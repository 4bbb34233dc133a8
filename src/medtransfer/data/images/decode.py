"""Decode one image file (PNG, JPEG, TIFF, BMP, DICOM) into a uint8 H×W×C array, C = 1 or 3."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medtransfer.errors import DataError

DICOM_SUFFIXES = {".dcm", ".dicom"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"} | DICOM_SUFFIXES
MAX_SIDE = 1024  # larger images are downscaled at read time: it bounds memory; models see far less anyway


class UndecodableImage(Exception):
    """Raised per file; readers gather these into one DataError that names every bad file."""


def decode_image(path: str | Path) -> np.ndarray:
    """Read ``path`` into uint8 (H, W, 1) for grayscale or (H, W, 3) for colour.

    16-bit and float images are scaled to 0..255 per image (min-max), palette images expanded, alpha dropped.
    """
    path = Path(path)
    try:
        if path.suffix.lower() in DICOM_SUFFIXES or _has_dicom_preamble(path):
            arr = _read_dicom(path)
        else:
            arr = _read_pillow(path)
    except (UndecodableImage, FileNotFoundError):
        raise
    except (OSError, ValueError, SyntaxError) as exc:  # what Pillow / pydicom raise for broken files
        raise UndecodableImage(f"{type(exc).__name__}: {exc}") from exc
    return _downscale(_to_uint8_hwc(arr))


def _read_pillow(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    if path.stat().st_size == 0:
        raise UndecodableImage("the file is empty (0 bytes)")
    try:
        with Image.open(path) as img:
            img.load()  # forces a full decode, so truncated files fail here and not mid-training
            return _pillow_to_array(img)
    except UnidentifiedImageError as exc:
        raise UndecodableImage("not an image Pillow can read (wrong extension or corrupt header)") from exc
    except Image.DecompressionBombError as exc:  # declared size beyond Pillow's limit: refuse before decoding
        raise UndecodableImage(f"{exc} Downscale the image (e.g. to 4096 px on its long side).") from exc


def _pillow_to_array(img) -> np.ndarray:
    mode = img.mode
    if mode in ("P", "PA"):
        img = img.convert("RGBA" if "transparency" in img.info or mode == "PA" else "RGB")
    elif mode == "1" or mode == "LA":
        img = img.convert("L")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        img = img.convert("RGB")
    arr = np.asarray(img)
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    return arr


def _has_dicom_preamble(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def _read_dicom(path: Path) -> np.ndarray:
    try:
        import pydicom
        from pydicom.pixels import apply_modality_lut, apply_voi_lut
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DataError("reading DICOM needs pydicom: pip install 'medtransfer[images]'") from exc
    try:
        ds = pydicom.dcmread(path)
        arr = ds.pixel_array
    except Exception as exc:  # pydicom raises many types for broken or compressed files
        raise UndecodableImage(f"DICOM pixel data could not be read ({type(exc).__name__}: {exc})") from exc
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if frames > 1:
        raise UndecodableImage(f"multi-frame DICOM ({frames} frames) is a volume; export the 2D slices")
    if getattr(ds, "SamplesPerPixel", 1) == 1:
        arr = apply_voi_lut(apply_modality_lut(arr, ds), ds).astype(np.float64)
        if getattr(ds, "PhotometricInterpretation", "") == "MONOCHROME1":
            arr = arr.max() - arr  # MONOCHROME1 stores bright as low values
    return arr


def _to_uint8_hwc(arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3):
        raise UndecodableImage(f"unsupported pixel layout {arr.shape}")
    if arr.dtype != np.uint8:
        arr = arr.astype(np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        arr = np.zeros_like(arr) if hi <= lo else (arr - lo) / (hi - lo) * 255.0
        arr = np.round(arr).astype(np.uint8)
    if arr.shape[2] == 3 and np.array_equal(arr[:, :, 0], arr[:, :, 1]) and np.array_equal(arr[:, :, 1], arr[:, :, 2]):
        arr = arr[:, :, :1]  # an RGB file holding a grayscale picture is grayscale
    return np.array(arr, dtype=np.uint8, order="C")  # a writable copy: Pillow's arrays are read-only


def _downscale(arr: np.ndarray) -> np.ndarray:
    h, w = arr.shape[:2]
    if max(h, w) <= MAX_SIDE:
        return arr
    from PIL import Image

    scale = MAX_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    img = Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)
    out = np.asarray(img.resize(size, Image.Resampling.BILINEAR))
    return out[:, :, None] if out.ndim == 2 else out


def to_channels(arr: np.ndarray, channels: int) -> np.ndarray:
    """Give a decoded image exactly ``channels`` channels (gray → RGB by replication, RGB → gray by luma).
    A 2-D array (H × W, as MedMNIST ships its gray sets) is one channel."""
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.shape[2] == channels:
        return arr
    if channels == 3:
        return np.repeat(arr, 3, axis=2)
    luma = arr.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.round(luma).clip(0, 255).astype(np.uint8)[:, :, None]


def decode_many(paths: list[Path], source: str) -> list[np.ndarray]:
    """Decode every path; if any fail, raise one DataError that names each bad file and why."""
    images, bad = [], []
    for p in paths:
        try:
            images.append(decode_image(p))
        except FileNotFoundError:
            bad.append(f"{p}: file not found")
        except UndecodableImage as exc:
            bad.append(f"{p}: {exc}")
    if bad:
        shown = "; ".join(bad[:10]) + (f"; … and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise DataError(
            f"{len(bad)} of {len(paths)} images in {source} could not be read: {shown}. "
            "Fix or remove these files and run again."
        )
    return images


def common_channels(images: list[np.ndarray]) -> int:
    """3 when any image has colour, else 1: a colour dataset stays colour, a gray one stays cheap."""
    return 3 if any(im.shape[2] == 3 for im in images) else 1
