"""Shared by benchmark scripts: resumable result logs, mean ± sd, and docs/benchmarks.md sections."""

from __future__ import annotations

import fcntl
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
OUT = ROOT / "bench" / "out"


def in_child(cmd: list[str]) -> dict:
    """Run ``cmd`` in its own process, ``--result FILE`` appended for the JSON it writes: that result with the
    child's wall seconds and peak resident memory (its own maximum RSS, so measurements do not share a heap)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        result_file = Path(fh.name)
    started = time.perf_counter()
    child = subprocess.Popen([*cmd, "--result", str(result_file)])
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    row = json.loads(result_file.read_text())
    result_file.unlink()
    return {**row, "wall_s": wall, "peak_mb": usage.ru_maxrss / 1024}  # Linux reports kilobytes


def run_once(results: Path, key: str, fn: Callable[[], dict]) -> dict:
    """Run ``fn`` unless ``key`` is already in the JSON-lines ``results`` file (so a benchmark resumes)."""
    done = load_results(results)
    if key in done:
        return done[key]
    start = time.perf_counter()
    row = fn()
    row.update(key=key, wall_s=time.perf_counter() - start)
    results.parent.mkdir(parents=True, exist_ok=True)
    with open(results, "a") as fh:
        fh.write(json.dumps(row) + "\n")
    return row


def load_results(results: Path) -> dict[str, dict]:
    if not results.is_file():
        return {}
    rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    return {r["key"]: r for r in rows}


def mean_sd(values: list[float], digits: int = 3) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) the section between ``<!-- bench:name -->`` markers in docs/benchmarks.md."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    # benchmarks run side by side: a lock around read-modify-write, and an atomic replace, so one never reads
    # the file half-written by another (which once lost the file's head)
    with open(DOCS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = DOCS.read_text() if DOCS.is_file() else "# Benchmarks\n\nFigures written by the scripts in `bench/`.\n"
        if start in text and end in text:
            text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
        tmp = DOCS.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, DOCS)


def by_seed(done: dict[str, dict], data: str, row: str, size: str, field: str = "value") -> dict[str, float]:
    """``field`` of ``data|row|seed|size`` in a result log, by seed (rows logged without that field left out)."""
    return {
        k.split("|")[2]: r[field]
        for k, r in done.items()
        if k.startswith(f"{data}|{row}|") and k.endswith(f"|{size}") and r.get(field) is not None
    }


def values_for(done: dict[str, dict], data: str, row: str, size: str, field: str = "value") -> list[float]:
    """``field`` of every seed of ``data|row|seed|size`` in a result log."""
    return list(by_seed(done, data, row, size, field).values())


def paired_difference(diff: list[float]) -> str:
    """Mean of paired differences with its 95% t-interval: '+0.060 [+0.025, +0.095]'."""
    d = np.asarray(diff, dtype=float)
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return f"{d.mean():+.3f} [{d.mean() - half:+.3f}, {d.mean() + half:+.3f}]"


def per_split(done: dict[str, dict], data: str, size: str, field: str) -> list[float]:
    """One value per seed of a baseline that every row of a run computes on the same split (e.g. the forest)."""
    seen: dict[str, float] = {}
    for key, row in done.items():
        d, _, seed, n = key.split("|")
        if d == data and n == size:
            seen.setdefault(seed, row[field])
    return list(seen.values())


def cell(values: list[float]) -> str:
    """A 'mean ± sd | n' table cell."""
    return f"{mean_sd(values)} | {len(values)}"
