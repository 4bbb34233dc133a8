"""``medtransfer export --format bundle``: one folder that ``medtransfer.load`` and ``medtransfer serve`` read.

A bundle is a finished run trimmed to what using the model needs: ``model/`` (weights, model.json, the
tokenizer where there is one), ``metrics.json`` and ``config.yaml`` (what the card reports), MODEL_CARD.md,
and ``checksums.sha256`` over every file, checked when the bundle is loaded.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from medtransfer.errors import ExportError, RunError
from medtransfer.exporting.model_card import card_markdown, model_card

CHECKSUMS = "checksums.sha256"
KEPT = ("metrics.json", "config.yaml", "manifest.json")


def export_bundle(run: str | Path, out: str | Path) -> Path:
    """Write the bundle of ``run`` to ``out`` (refused if ``out`` holds anything); returns ``out``."""
    run, out = Path(run), Path(out)
    if not (run / "model" / "model.json").is_file():
        raise RunError(f"{run} has no saved model (model/model.json): is it a finished run directory?")
    if out.exists() and any(out.iterdir()):
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
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
