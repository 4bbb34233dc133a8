"""Where medtransfer keeps what it downloads, converts or unpacks: ``$XDG_CACHE_HOME/medtransfer/<name>``."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir(name: str) -> Path:
    """``$XDG_CACHE_HOME/medtransfer/<name>`` (``~/.cache/medtransfer/<name>`` when XDG_CACHE_HOME is unset)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "medtransfer" / name
