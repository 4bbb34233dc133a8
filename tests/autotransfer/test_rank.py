"""medtransfer rank on real data: pretrained features beat random ones, and the order of candidates is moot."""

from __future__ import annotations

import json

import numpy as np
import pytest

import medtransfer

pytestmark = pytest.mark.slow


def test_random_weights_rank_below_the_pretrained_backbone_and_order_does_not_matter(tmp_path):
    candidates = ["efficientnet_lite0", "efficientnet_lite0@random", "classical"]
    settings = {"image_size": 64, "max_train_samples": 300}
    first = medtransfer.rank("breastmnist", candidates, tmp_path / "a", **settings)
    rows = {r["candidate"]: r for r in first["rows"]}
    for score in ("knn", "linear_probe", "logme"):
        assert rows["efficientnet_lite0"][score] > rows["efficientnet_lite0@random"][score], score
    again = medtransfer.rank("breastmnist", candidates[::-1], tmp_path / "b", **settings)
    assert {r["candidate"]: r[f"{s}_rank"] for r in again["rows"] for s in again["scores"]} == {
        r["candidate"]: r[f"{s}_rank"] for r in first["rows"] for s in first["scores"]
    }
    saved = json.loads((tmp_path / "a" / "rank.json").read_text())
    assert saved["n"] == first["n"] and set(saved["scores"]) == {"knn", "linear_probe", "logme", "hscore", "nleep"}


def test_rank_reads_no_test_row(monkeypatch):
    """Only the train and val rows of the split fit would make are featurised."""
    from medtransfer.autotransfer import rank as rank_module

    seen = []
    original = rank_module._features

    def spy(candidate, cfg, table, parts):
        seen.append(sorted(parts))
        return original(candidate, cfg, table, parts)

    monkeypatch.setattr(rank_module, "_features", spy)
    medtransfer.rank("breastmnist", ["classical"])
    assert seen == [["train", "val"]]


def test_a_regression_set_is_ranked_by_the_scores_with_a_regression_form():
    """FreeSolv (hydration free energy): R² for kNN and the probe, LogME on the standardised target; ChemNet's
    pretrained features above the same network with random weights."""
    ranked = medtransfer.rank("freesolv", ["chemnet", "chemnet@random", "classical"])
    assert ranked["scores"] == ["knn", "linear_probe", "logme"]
    rows = {r["candidate"]: r for r in ranked["rows"]}
    for score in ranked["scores"]:
        assert rows["chemnet"][score] > rows["chemnet@random"][score], score
    assert 0.5 < rows["chemnet"]["linear_probe"] <= 1.0  # an R²: ChemNet's descriptors carry solvation energy


def test_a_clinical_table_is_ranked_on_its_raw_columns():
    """NCCTG lung (lifelines): the columns as they are (one reaches 2,600) are the classical candidate's
    features; every score, NLEEP's Gaussian mixture included, rates them with a finite value."""
    ranked = medtransfer.rank("ncctg_lung_death_1y", ["classical"])
    (row,) = ranked["rows"]
    assert "nleep" in ranked["scores"]
    assert all(np.isfinite(row[score]) for score in ranked["scores"])


def test_a_table_already_read_ranks_as_its_name_does():
    from medtransfer.data.sources import read_data

    by_name = medtransfer.rank("breastmnist", ["classical"])
    by_table = medtransfer.rank(read_data("breastmnist"), ["classical"])
    assert by_table["rows"][0]["linear_probe"] == by_name["rows"][0]["linear_probe"]
    assert by_table["n"] == by_name["n"]
