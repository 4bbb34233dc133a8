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


def _chain_table():
    from medtransfer.data.table import SampleTable
    from medtransfer.data.task import TaskSpec

    ids = ["a", "b", "c", "d", "e", "f"]
    return SampleTable(modality="image", inputs=list(range(6)), targets=np.array([0, 1, 0, 1, 0, 1]),
                       task=TaskSpec(kind="binary", class_names=("x", "y")), ids=ids,
                       groups=["g1", "g2", "g2", "g3", "g4", "g5"])  # fmt: skip


def test_on_leak_fix_moves_a_chain_of_copies_and_shared_patients_as_one_set_then_audits_again():
    """a (train) is a copy of b (val); b shares a patient with c (test). Moving pair by pair leaves b in train
    and c in val, still linked across splits; the set {a, b, c} must end in one split."""
    from medtransfer.data.modality import Fingerprints
    from medtransfer.leakage_audit import audit_split, resolve_leaks

    table = _chain_table()
    splits = {"train": np.array([0, 3]), "val": np.array([1, 4]), "test": np.array([2, 5])}
    prints = Fingerprints(exact=["k1", "k1", "k2", "k3", "k4", "k5"])
    report = audit_split(table, splits, prints)
    assert report.leaks == 2  # one copy pair, one shared patient
    fixed = resolve_leaks(table, splits, report, "fix", prints)
    assert sorted(fixed["train"]) == [0, 1, 2, 3] and list(fixed["val"]) == [4] and list(fixed["test"]) == [5]
    assert report.after_fix["leaks"] == 0 and "0 leaks left" in report.summary()


def test_near_copy_chains_move_together_though_their_ends_are_not_alike():
    from medtransfer.data.modality import Fingerprints
    from medtransfer.leakage_audit import audit_split, resolve_leaks

    table = _chain_table()
    table.groups = None
    bits = np.zeros((6, 256), dtype=np.uint8)
    bits[:, :] = np.arange(6)[:, None] * 40 <= np.arange(256)[None, :]  # rows far apart ...
    bits[1] = bits[0]
    bits[1, :5] = 1 - bits[1, :5]  # b: 5 bits from a
    bits[2] = bits[1]
    bits[2, 5:10] = 1 - bits[2, 5:10]  # c: 5 bits from b, 10 from a
    prints = Fingerprints(exact=list("abcdef"), near=np.packbits(bits, axis=1), near_fraction=0.02)
    splits = {"train": np.array([0, 3]), "val": np.array([1, 4]), "test": np.array([2, 5])}
    report = audit_split(table, splits, prints)
    assert {(p["a"], p["b"]) for p in report.near_duplicates} == {("a", "b"), ("b", "c")}
    fixed = resolve_leaks(table, splits, report, "fix", prints)
    assert sorted(fixed["train"]) == [0, 1, 2, 3] and report.after_fix["leaks"] == 0


def test_the_image_rule_confirms_re_encoded_copies_but_not_look_alikes():
    """On real BreastMNIST images: JPEG copies are flagged; distinct images whose hashes are as close as a
    copy's (but whose pixels do not correlate) are not (docs/benchmarks.md, near-duplicate images)."""
    from bench.near_duplicates import jpeg

    from medtransfer.data.images.fingerprints import average_hashes, thumbnails
    from medtransfer.data.modality import get_modality
    from medtransfer.data.sources import read_data
    from medtransfer.leakage_audit import audit_split

    table = read_data("breastmnist")
    images = table.inputs[:300]
    bits = np.unpackbits(average_hashes(images), axis=1).astype(int)
    close = (bits[:, None, :] != bits[None, :, :]).sum(axis=2) <= 12
    corr = thumbnails(images) @ thumbnails(images).T
    look_alikes = [(i, j) for i, j in zip(*np.nonzero(np.triu(close, 1) & (corr < 0.95)), strict=True)]
    assert look_alikes, "the test needs distinct images with close hashes"
    rng = np.random.default_rng(0)
    sub = table.subset(np.arange(320) % 300)
    sub.inputs = list(images) + [jpeg(x, rng) for x in images[:20]]
    sub.ids = [f"img{i}" for i in range(300)] + [f"copy{i}" for i in range(20)]
    splits = {"train": np.arange(300), "test": np.arange(300, 320)}
    report = audit_split(sub, splits, get_modality("image").fingerprints(sub.inputs))
    found = {p["b"] for p in report.near_duplicates if p["a"] == p["b"].replace("copy", "img")}
    assert len(found) >= 12  # most JPEG copies (recall ~0.8 on this edit)
    # the look-alikes, placed in two splits, are not called copies
    i, j = look_alikes[0]
    pair = {"train": np.array([i]), "test": np.array([j])}
    assert audit_split(table, pair, get_modality("image").fingerprints(table.inputs)).near_duplicates == []


def test_gray_thumbnails_correlate_as_their_three_channel_copies_do():
    """A gray set is thumbnailed in one channel (a third of the memory) with the same correlations."""
    from medtransfer.data.images.fingerprints import thumbnails
    from medtransfer.data.sources import read_data

    images = read_data("breastmnist").inputs[:200]
    gray, rgb = thumbnails(images), thumbnails(images, channels=3)
    assert gray.shape[1] * 3 == rgb.shape[1]
    np.testing.assert_allclose(gray @ gray.T, rgb @ rgb.T, atol=1e-5)
    colour = [np.repeat(x[:, :, None] if x.ndim == 2 else x, 3, axis=2) for x in images[:3]]
    assert thumbnails(images[:3] + colour).shape[1] == rgb.shape[1]  # one colour image: three channels for all
