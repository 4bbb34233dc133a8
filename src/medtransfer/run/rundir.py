"""Runs are written to ``<out>.partial/`` and renamed to ``<out>/`` only when complete.

A crash leaves the marked ``.partial`` folder, which ``--resume`` continues in place.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from medtransfer.errors import RunError

TRAINED_ON = "trained_on.txt"  # short content hashes of the train + val inputs, one a line


@dataclass
class RunDir:
    final: Path

    @property
    def partial(self) -> Path:
        return self.final.with_name(self.final.name + ".partial")

    @classmethod
    def start(cls, out: Path, resume: bool, overwrite: bool) -> RunDir:
        """Prepare ``out``; refuse to clobber a finished run unless ``overwrite``."""
        run = cls(Path(out))
        if run.final.exists() and not overwrite:
            raise RunError(f"{run.final} already holds a finished run. Choose another --out, or pass --overwrite.")
        if run.partial.exists() and not resume:
            if not overwrite:
                raise RunError(
                    f"{run.partial} holds an interrupted run. Continue it with --resume, or start over with "
                    "--overwrite."
                )
            shutil.rmtree(run.partial)
        run.partial.mkdir(parents=True, exist_ok=True)
        return run

    def path(self, name: str) -> Path:
        return self.partial / name

    def write_json(self, name: str, obj: Any) -> None:
        atomic_write_text(self.path(name), json.dumps(obj, indent=2, default=_jsonable))

    def write_yaml(self, name: str, obj: Any) -> None:
        atomic_write_text(self.path(name), yaml.safe_dump(obj, sort_keys=False))

    def finish(self) -> Path:
        """Rename the complete run into place (replacing a previous run only under ``--overwrite``)."""
        if self.final.exists():
            shutil.rmtree(self.final)
        os.replace(self.partial, self.final)
        return self.final


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")
