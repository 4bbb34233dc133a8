"""Kill a real ``medtransfer fit`` process with SIGKILL mid-training, then resume it (tests and bench)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def fit_command(data: Path, out: Path, epochs: int = 10) -> list[str]:
    return [sys.executable, "-m", "medtransfer", "fit", "--data", str(data), "--out", str(out),
            "--backbone", "test_efficientnet", "--image-size", "32", "--strategy", "full", "--augment", "light",
            "--epochs", str(epochs), "--patience", str(epochs), "--batch-size", "16", "--no-progress"]  # fmt: skip


def kill_mid_training(command: list[str], out: Path, delay: float, timeout: float = 300) -> bool:
    """Start ``command``; ``delay`` s after its first every-epoch checkpoint exists, SIGKILL it.

    Returns True when the process was killed before it finished (the trial counts), False otherwise.
    """
    last = out.with_name(out.name + ".partial") / "checkpoints" / "last.ckpt"
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.monotonic()
    while not last.exists() and proc.poll() is None and time.monotonic() - start < timeout:
        time.sleep(0.02)
    time.sleep(delay)
    if proc.poll() is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


def final_metrics(out: Path) -> dict:
    metrics = json.loads((out / "metrics.json").read_text())
    return {"val": metrics["val"], "test": metrics["test"], "training": metrics["training"]}
