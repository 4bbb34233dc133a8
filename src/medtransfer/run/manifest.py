"""manifest.json: seed, package versions, data hashes, git commit, times: what reproduces a run."""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "medtransfer",
    "torch",
    "torchvision",
    "timm",
    "lightning",
    "numpy",
    "scikit-learn",
    "safetensors",
    "pydicom",
    "pillow",
)


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_commit() -> str | None:
    """The commit of the medtransfer source tree, when it is a git checkout."""
    try:
        res = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def build_manifest(
    seed: int,
    config: dict,
    data_hashes: dict[str, str],
    split_sizes: dict[str, int],
    backbone_card: dict,
    started: str,
) -> dict:
    return {
        "seed": seed,
        "started": started,
        "finished": None,
        "command": " ".join(sys.argv),
        "platform": platform.platform(),
        "versions": package_versions(),
        "git_commit": git_commit(),
        "data_hashes": data_hashes,
        "split_sizes": split_sizes,
        "backbone": backbone_card,
        "config": config,
    }


# settings that say how to run, not what is computed: a resumed run may change them (a search trial is given
# the time left, which differs on every resume)
RESUME_FREE = ("resume", "progress", "overwrite", "max_seconds")


def resumable_manifest(out: Path, config: dict, data_hashes: dict[str, str]) -> dict | None:
    """The manifest of the run at ``out`` (finished, else interrupted in ``out.partial``) once checked against
    the config and data it is asked to resume with; a run that differs is refused, naming what differs."""
    import json

    from medtransfer.errors import RunError

    for folder in (out, out.with_name(out.name + ".partial")):
        path = folder / "manifest.json"
        if not path.is_file():
            continue
        recorded = json.loads(path.read_text())
        conflicts = resume_conflicts(recorded, config, data_hashes)
        if conflicts:
            raise RunError(
                f"{folder} was made with another config or data, so it cannot be resumed: {'; '.join(conflicts)}. "
                "Resume with the original settings, or start over with --overwrite or another --out."
            )
        return recorded
    return None


def resume_conflicts(recorded: dict, config: dict, data_hashes: dict[str, str]) -> list[str]:
    """What differs between a run's manifest and the config and data it is now asked to resume with."""
    import json

    then = recorded.get("config", {})
    now_ = json.loads(json.dumps(config, default=str))  # the manifest's own JSON types (tuples → lists)
    keys = sorted((set(then) | set(now_)) - set(RESUME_FREE))
    out = [f"{k}: {then.get(k)!r} then, {now_.get(k)!r} now" for k in keys if then.get(k) != now_.get(k)]
    before = recorded.get("data_hashes", {})
    changed = sorted(s for s in set(before) | set(data_hashes) if before.get(s) != data_hashes.get(s))
    if changed:
        out.append(f"data: the {', '.join(changed)} split(s) hold other samples or labels")
    return out
