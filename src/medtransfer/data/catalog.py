"""Built-in datasets by name, and where their files live (a data folder; downloaded with a checksum)."""

from __future__ import annotations

import importlib
import logging
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path

from medtransfer.cache_dirs import user_cache_dir
from medtransfer.data.hashing import file_digest
from medtransfer.data.table import SampleTable
from medtransfer.errors import DataError
from medtransfer.registry import Registry

log = logging.getLogger("medtransfer")

DATASETS: Registry[Callable[[], SampleTable]] = Registry("dataset", DataError)
PLUGIN_MODULES = (
    "medtransfer.data.images.medmnist",
    "medtransfer.data.molecules.datasets",
    "medtransfer.data.sequences.datasets",
    "medtransfer.data.text.iu_reports",
    "medtransfer.data.tables.datasets",
    "medtransfer.data.tables.survival",
)


def load_plugins() -> None:
    for module in PLUGIN_MODULES:
        importlib.import_module(module)


def data_dir() -> Path:
    """``$MEDTRANSFER_DATA``, else ``$XDG_CACHE_HOME/medtransfer/data`` (``~/.cache/medtransfer/data``)."""
    if os.environ.get("MEDTRANSFER_DATA"):
        return Path(os.environ["MEDTRANSFER_DATA"]).expanduser()
    return user_cache_dir("data")


def load_dataset(name: str) -> SampleTable:
    """A built-in dataset as a SampleTable."""
    load_plugins()
    return DATASETS.get(name)()


def list_datasets() -> list[dict]:
    load_plugins()
    return [{"name": n, **DATASETS.meta(n)} for n in DATASETS]


def fetch_file(relative: str, url: str, md5: str) -> Path:
    """``data_dir()/relative``; when missing, download ``url``, check ``md5`` and move it there atomically."""
    target = data_dir() / relative
    if target.is_file():
        if file_digest(target, "md5") != md5:
            log.warning("%s has md5 %s, not the official %s: using it anyway", target, file_digest(target, "md5"), md5)
        return target
    log.info("downloading %s → %s", url, target)
    tmp = target.with_name(target.name + ".part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(url, timeout=30) as resp, open(tmp, "wb") as fh:
            while chunk := resp.read(1 << 20):
                fh.write(chunk)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(
            f"{target.name} is not in {target.parent} and could not be downloaded ({exc}). Download {url} "
            f"(md5 {md5}) and save it as {target}, or point MEDTRANSFER_DATA at a folder holding {relative}."
        ) from exc
    if file_digest(tmp, "md5") != md5:
        tmp.unlink()
        raise DataError(f"download of {url} has the wrong md5 (expected {md5}); try again.")
    os.replace(tmp, target)
    return target
