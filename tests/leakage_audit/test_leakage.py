"""The leakage audit finds planted duplicates and shared patients, and --on-leak decides what happens."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import medtransfer
from medtransfer.errors import DataError
from tests.conftest import planted_npz


@pytest.fixture
def leaky_npz(tmp_path):
    """The planted-square set with test images 0 and 1 copied into train (one with a flipped label)."""
    path = planted_npz(tmp_path / "clean.npz")
    data = dict(np.load(path))
    data["train_images"] = np.concatenate([data["train_images"], data["test_images"][:2]])
    data["train_labels"] = np.concatenate([data["train_labels"], 1 - data["test_labels"][:1], data["test_labels"][1:2]])
    np.savez_compressed(tmp_path / "leaky.npz", **data)
    return tmp_path / "leaky.npz"


def test_audit_finds_planted_exact_duplicates_and_label_conflicts(leaky_npz):
    report = medtransfer.audit(leaky_npz)
    pairs = {(p["a"], p["b"]) for p in report["exact_duplicates"]}
    assert {("train/60", "test/0"), ("train/61", "test/1")} <= pairs
    assert any(set(c["ids"]) == {"train/60", "test/0"} for c in report["conflicting_labels"])


def test_clean_split_has_no_exact_duplicates(npz_data):
    assert medtransfer.audit(npz_data)["exact_duplicates"] == []


def test_on_leak_error_stops_before_any_run_directory(leaky_npz, tiny_fit_settings):
    with pytest.raises(DataError, match="leakage between splits"):
        medtransfer.fit(leaky_npz, on_leak="error", **tiny_fit_settings)
    out = tiny_fit_settings["out"]
    assert not Path(out).exists() and not Path(out + ".partial").exists()


def test_on_leak_fix_moves_test_copies_into_train_and_records_it(leaky_npz, tiny_fit_settings):
    result = medtransfer.fit(leaky_npz, on_leak="fix", **dict(tiny_fit_settings, epochs=1))
    audit = json.loads((result.run_dir / "audit.json").read_text())
    moved = {(m["id"], m["from"], m["to"]) for m in audit["moved"]}
    assert {("test/0", "test", "train"), ("test/1", "test", "train")} <= moved
    ids = {r.split(",")[0] for r in (result.run_dir / "predictions.csv").read_text().splitlines()[1:]}
    assert "test/0" not in ids and "test/1" not in ids
    assert "leakage audit" in (result.run_dir / "report.html").read_text()


def test_shared_patients_are_reported(image_csv):
    report = medtransfer.audit(image_csv, label_column="diagnosis", group_column="patient_id")
    assert report["shared_groups"] == []  # the group-aware split keeps every patient in one split
