"""What a request may be: size, kinds of file (by their bytes, not their name), batch, pixels and time."""

from __future__ import annotations

import re
from dataclasses import dataclass

# magic numbers of the image formats the image reader decodes; anything else must be UTF-8 text
IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": ".png",
    b"\xff\xd8\xff": ".jpg",
    b"GIF8": ".gif",
    b"BM": ".bmp",
    b"II*\x00": ".tif",
    b"MM\x00*": ".tif",
}
TEXT_SUFFIXES = (".smi", ".txt", ".csv", ".sdf", ".fa", ".fasta", ".fna", ".faa")


@dataclass(frozen=True)
class ServeLimits:
    """Limits per request; a request past one gets a 4xx that names it."""

    max_upload_mb: float = 16.0  # body size (413)
    max_batch: int = 64  # inputs per request (413)
    max_pixels: int = 4096 * 4096  # per decoded image (413)
    timeout_s: float = 60.0  # per request (504)

    @property
    def max_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


class RequestProblem(Exception):
    """A request the server refuses: HTTP status and a message naming the field and the fix."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def file_suffix(data: bytes, name: str = "") -> str:
    """The suffix the readers expect for an uploaded file, from its bytes: an image format or a text file
    (keeping a text suffix the client gave, e.g. .smi or .fa). Raises 415 for anything else."""
    for magic, suffix in IMAGE_MAGIC.items():
        if data.startswith(magic):
            return suffix
    if len(data) > 132 and data[128:132] == b"DICM":
        return ".dcm"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        raise RequestProblem(415, f"file {name or '(unnamed)'!r} is neither an image (PNG, JPEG, GIF, BMP, TIFF, "
                                  "DICOM) nor UTF-8 text (SMILES, FASTA, CSV): its bytes say otherwise.")  # fmt: skip
    given = re.sub(r"[^a-z0-9.]", "", name.lower()[name.rfind(".") :]) if "." in name else ""
    return given if given in TEXT_SUFFIXES else ".txt"
