"""Reliability figures: the bad-input corpus through the CLI, and duplicates planted into real datasets.

    python -m bench.reliability

Planted duplicates: a fraction of test samples is copied into train (images: exact copies and copies
with brightness +4 and light noise; molecules: the same molecule written as a different, randomised
SMILES). Recall = planted pairs the audit reports; other new pairs = reported pairs that were neither
planted nor present in the unmodified data (a planted copy also pairs with any twin its original already
had, so these are upper bounds on false positives).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from tests.bad_inputs.corpus import CASES

from bench.common import write_section
from medtransfer.data.modality import get_modality
from medtransfer.data.sources import read_data
from medtransfer.leakage_audit import audit_split


def bad_inputs() -> tuple[int, int, int]:
    clear = crashes = 0
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            args = case.build(Path(tmp) / "in")
            res = subprocess.run([sys.executable, "-m", "medtransfer", "fit", *args, "--out", f"{tmp}/run"],
                                 capture_output=True, text=True, timeout=300)  # fmt: skip
            lines = [x for x in res.stderr.splitlines() if x.startswith("error:")]
            if "Traceback" in res.stderr:
                crashes += 1
            elif res.returncode == 2 and len(lines) == 1 and all(n in lines[0] for n in case.needles):
                clear += 1
    return len(CASES), clear, crashes


def kill_trials(delays=(0.3, 0.8, 1.6)) -> tuple[int, int]:
    """SIGKILL a real fit at several moments, resume it, compare with the uninterrupted run: (trials, identical)."""
    from tests.conftest import planted_npz
    from tests.kill_resume import final_metrics, fit_command, kill_mid_training

    trials = identical = 0
    with tempfile.TemporaryDirectory() as tmp:
        data = planted_npz(Path(tmp) / "planted.npz", n_train=240)
        reference = Path(tmp) / "reference"
        subprocess.run(fit_command(data, reference), check=True, capture_output=True, timeout=900)
        for k, delay in enumerate(delays):
            out = Path(tmp) / f"killed{k}"
            if not kill_mid_training(fit_command(data, out), out, delay):
                continue
            subprocess.run([*fit_command(data, out), "--resume"], check=True, capture_output=True, timeout=900)
            trials += 1
            same_log = (out / "log.csv").read_text() == (reference / "log.csv").read_text()
            identical += final_metrics(out) == final_metrics(reference) and same_log
    return trials, identical


def pairs(table, splits) -> set[tuple[str, str]]:
    report = audit_split(table, splits, get_modality(table.modality).fingerprints(table.inputs))
    return {(p["a"], p["b"]) for p in report.exact_duplicates + report.near_duplicates}


def plant(table, rate: float, copy, seed: int = 0):
    """Copy ``rate`` of the test rows into train via ``copy``; returns the new table, splits and planted pairs."""
    rng = np.random.default_rng(seed)
    test = np.flatnonzero(table.split == "test")
    chosen = rng.choice(test, size=max(1, int(rate * len(test))), replace=False)
    inputs = list(table.inputs) + [copy(table.inputs[i], rng) for i in chosen]
    ids = list(table.ids) + [f"planted/{table.ids[i]}" for i in chosen]
    split = np.concatenate([table.split, np.array(["train"] * len(chosen))])
    targets = np.concatenate([table.targets, table.targets[chosen]])
    new = replace(table, inputs=inputs, ids=ids, split=split, targets=targets, groups=None)
    splits = {s: np.flatnonzero(split == s) for s in ("train", "val", "test")}
    return new, splits, {(f"planted/{table.ids[i]}", table.ids[i]) for i in chosen}


def planted_rows(name: str, table, copy) -> list[str]:
    base_splits = {s: np.flatnonzero(table.split == s) for s in ("train", "val", "test")}
    baseline = pairs(table, base_splits)
    rows = []
    for rate in (0.01, 0.05, 0.2):
        new, splits, planted = plant(table, rate, copy)
        found = pairs(new, splits)
        hit = sum((a, b) in found or (b, a) in found for a, b in planted)
        extra = {p for p in found if p not in baseline and p not in planted and p[::-1] not in planted}
        rows.append(f"| {name} | {rate:.0%} | {len(planted)} | {hit / len(planted):.2f} | {len(extra)} |")
    return rows


def near_image(x: np.ndarray, rng) -> np.ndarray:
    noisy = x.astype(np.int16) + 4 + rng.integers(-2, 3, x.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def random_smiles(smiles: str, rng) -> str:
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles)
    return Chem.MolToSmiles(mol, doRandom=True, canonical=False)


def main() -> None:
    tried, clear, crashes = bad_inputs()
    kills, identical = kill_trials()
    breast = read_data("breastmnist")
    bbbp = read_data("bbbp")
    from medtransfer.data.splits import make_split

    split = make_split(bbbp, 0.1, 0.1, 0)
    labels = np.empty(len(bbbp), dtype=object)
    for name, idx in split.indices.items():
        labels[idx] = name
    bbbp = replace(bbbp, split=labels.astype(str))
    rows = planted_rows("BreastMNIST, exact copies", breast, lambda x, rng: x.copy())
    rows += planted_rows("BreastMNIST, brightness +4 and noise", breast, near_image)
    rows += planted_rows("BBBP, same molecule as randomised SMILES", bbbp, random_smiles)
    text = "\n".join([
        "## Reliability",
        "",
        "`python -m bench.reliability`. Bad-input corpus (tests/bad_inputs/corpus.py) through `medtransfer fit`:",
        "",
        "| bad inputs tried | one clear error line (file / row + fix, exit 2) | crashes (traceback) |",
        "|---|---|---|",
        f"| {tried} | {clear} | {crashes} |",
        "",
        "Planted duplicates (test samples copied into train), found by the audit that runs before every fit:",
        "",
        "| data, kind of copy | rate | planted | recall | other new pairs |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "Other new pairs are upper bounds on false positives: a planted copy also matches any twin its original",
        "already had.",
        "",
        "SIGKILL mid-training, then `medtransfer fit --resume` (tiny model, planted-square data, kills 0.3 / 0.8 /",
        "1.6 s after the first epoch checkpoint), compared with an uninterrupted run of the same seed:",
        "",
        "| kill-and-resume trials | identical log.csv and metrics |",
        "|---|---|",
        f"| {kills} | {identical} |",
    ])  # fmt: skip
    write_section("reliability", text)
    print(text)


if __name__ == "__main__":
    main()
