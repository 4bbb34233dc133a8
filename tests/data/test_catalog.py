"""Built-in datasets: found in the data folder, md5-checked, and a clear error offline when missing."""

from __future__ import annotations

import pytest

from medtransfer.data.catalog import DATASETS, fetch_file, list_datasets, load_dataset
from medtransfer.errors import DataError


def test_every_medmnist_2d_set_is_registered():
    names = {d["name"] for d in list_datasets()}
    assert {
        "breastmnist",
        "pneumoniamnist",
        "dermamnist",
        "retinamnist",
        "bloodmnist",
        "pathmnist",
        "chestmnist",
        "octmnist",
        "organamnist",
        "organcmnist",
        "organsmnist",
        "tissuemnist",
    } <= names
    assert all(d["licence"] for d in list_datasets())


def test_breastmnist_loads_with_official_splits():
    table = load_dataset("breastmnist")
    sizes = {s: int((table.split == s).sum()) for s in ("train", "val", "test")}
    assert sizes == {"train": 546, "val": 78, "test": 156}
    assert table.task.class_names == ("malignant", "normal, benign")


def test_missing_file_offline_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDTRANSFER_DATA", str(tmp_path))
    url = "http://127.0.0.1:9/bloodmnist.npz"  # a closed local port: fails at once, like no network
    with pytest.raises(DataError) as err:
        fetch_file("medmnist/bloodmnist.npz", url, "0" * 32)
    msg = str(err.value)
    assert str(tmp_path / "medmnist" / "bloodmnist.npz") in msg and "MEDTRANSFER_DATA" in msg and "md5" in msg
    assert not list(tmp_path.rglob("*.part"))


def test_unknown_dataset_suggests_close_names():
    with pytest.raises(DataError, match="Did you mean 'breastmnist'"):
        DATASETS.get("breastmnst")
