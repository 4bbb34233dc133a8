"""``medtransfer export --format bundle``: one folder (or archive) that ``medtransfer.load`` and ``serve`` read.

A bundle is a finished run trimmed to what using the model needs: ``model/`` (weights, model.json, the
tokenizer where there is one), ``metrics.json`` and ``config.yaml`` (what the card reports), MODEL_CARD.md,
and ``checksums.sha256`` over every file, checked when the bundle is loaded. An ``--out`` ending in
``.tar.gz`` / ``.tgz`` writes the same folder as one archive, to mail or upload; it is unpacked once into the
cache (``$XDG_CACHE_HOME/medtransfer/bundles/<archive digest>``) when loaded.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from medtransfer.cache_dirs import user_cache_dir
from medtransfer.data.hashing import file_digest
from medtransfer.errors import ExportError, RunError
from medtransfer.exporting.model_card import card_markdown, model_card

CHECKSUMS = "checksums.sha256"
KEPT = ("metrics.json", "config.yaml", "manifest.json")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def archive_stem(path: Path) -> str:
    """``model.tar.gz`` → ``model``: the bundle's name inside its archive."""
    name = path.name
    return next(name[: -len(s)] for s in ARCHIVE_SUFFIXES if name.lower().endswith(s))


def export_bundle(run: str | Path, out: str | Path) -> Path:
    """Write the bundle of ``run`` to ``out`` (a folder, refused if it holds anything, or a ``.tar.gz``)."""
    run, out = Path(run), Path(out)
    if not (run / "model" / "model.json").is_file():
        raise RunError(f"{run} has no saved model (model/model.json): is it a finished run directory?")
    if is_archive(out):
        return _export_archive(run, out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out} is not empty: choose a new folder for the bundle.")
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(run / "model", partial / "model")
    for name in KEPT:
        if (run / name).is_file():
            shutil.copy2(run / name, partial / name)
    card = model_card(partial)
    card["name"] = run.resolve().name
    (partial / "MODEL_CARD.md").write_text(card_markdown(card), encoding="utf-8")
    (partial / CHECKSUMS).write_text("".join(f"{digest}  {name}\n" for name, digest in _digests(partial).items()))
    if out.exists():
        out.rmdir()
    partial.rename(out)  # a reader never sees half a bundle
    return out


def _export_archive(run: Path, out: Path) -> Path:
    if out.exists():
        raise ExportError(f"{out} exists: choose a new name for the bundle archive.")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".bundle-") as tmp:
        folder = export_bundle(run, Path(tmp) / archive_stem(out))
        partial = Path(tmp) / "archive.partial"
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(folder, arcname=folder.name)
        partial.rename(out)
    return out


def unpack_archive(archive: Path) -> Path:
    """The bundle folder inside ``archive``, unpacked once into the cache (keyed by the archive's digest, so a
    changed archive is unpacked afresh); members that would land outside the folder are refused."""
    root = user_cache_dir("bundles") / file_digest(archive)[:16]
    name = archive_stem(archive)
    if (root / name / CHECKSUMS).is_file():
        return root / name
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".unpack-") as tmp:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tops = {Path(m.name).parts[0] for m in tar.getmembers() if m.name not in ("", ".")}
                if tops != {name}:
                    held = sorted(tops)[:3]
                    raise RunError(f"{archive} is not a medtransfer bundle archive: it should hold one folder "
                                   f"{name}/, and holds {held}. Re-export it with --format bundle.")  # fmt: skip
                tar.extractall(tmp, filter="data")  # refuses absolute paths, '..' and links out of the folder
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise RunError(f"{archive} cannot be unpacked ({exc}): re-export the bundle.") from exc
        if not (Path(tmp) / name / CHECKSUMS).is_file():
            raise RunError(f"{archive} has no {name}/{CHECKSUMS}: it is not an exported bundle.")
        if not (root / name).exists():  # another process may have unpacked it meanwhile
            os.replace(Path(tmp) / name, root / name)
    return root / name


def verify_bundle(folder: Path) -> None:
    """Raise RunError naming the first file whose checksum differs from the bundle's record (or is missing)."""
    recorded = {}
    for line in (folder / CHECKSUMS).read_text().splitlines():
        digest, name = line.split("  ", 1)
        recorded[name] = digest
    found = _digests(folder)
    for name, digest in recorded.items():
        if found.get(name) != digest:
            state = "is missing" if name not in found else "has changed"
            raise RunError(f"bundle {folder}: {name} {state} since export (checksums.sha256); re-export the bundle.")


def _digests(folder: Path) -> dict[str, str]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != CHECKSUMS)
    return {str(p.relative_to(folder)): file_digest(p) for p in files}
