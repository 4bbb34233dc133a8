"""Data files that ship in Debian packages, fetched with ``apt-get download`` and unpacked (not installed)
under ``~/.cache/medtransfer/debian/<package>``: no root needed, nothing added to the system."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from medtransfer.cache_dirs import user_cache_dir
from medtransfer.errors import DataError


def debian_root() -> Path:
    return user_cache_dir("debian")


def debian_file(package: str, relative: str) -> Path:
    """``relative`` inside ``package``'s files, downloading and unpacking the package on first use."""
    root = debian_root() / package
    target = root / relative
    if target.is_file():
        return target
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        raise DataError(
            f"{Path(relative).name} comes from the Debian package {package}; this system has no apt-get. On "
            f"Debian or Ubuntu it is fetched automatically; elsewhere unpack {package}'s .deb into {root}."
        )
    with tempfile.TemporaryDirectory() as tmp:
        got = subprocess.run(["apt-get", "download", package], cwd=tmp, capture_output=True, text=True)
        debs = list(Path(tmp).glob(f"{package}_*.deb"))
        if got.returncode != 0 or not debs:
            raise DataError(f"apt-get download {package} failed: {got.stderr.strip()[-300:]}. Try apt-get update.")
        staging = Path(tmp) / "unpacked"
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(staging)], check=True)
        root.parent.mkdir(parents=True, exist_ok=True)
        if root.exists():
            shutil.rmtree(root)
        shutil.move(str(staging), str(root))  # complete or absent: the unpacked tree moves in at once
    if not target.is_file():
        raise DataError(f"{package} has no {relative}; its layout changed. Please report this.")
    return target
