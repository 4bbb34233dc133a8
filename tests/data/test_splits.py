"""Splits: stratified, group-aware (no patient in two splits), predefined kept, subsampling."""

from __future__ import annotations

import numpy as np

from medtransfer.data.images.readers import read_image_csv, read_image_npz
from medtransfer.data.options import ReadOptions
from medtransfer.data.splits import make_split, subsample_train


def test_group_split_never_puts_a_patient_in_two_splits(image_csv):
    table = read_image_csv(image_csv, ReadOptions(label_column="diagnosis"))
    split = make_split(table, 0.2, 0.2, seed=3)
    groups = {k: {table.groups[i] for i in v} for k, v in split.indices.items()}
    assert not groups["train"] & groups["val"] and not groups["train"] & groups["test"]
    assert not groups["val"] & groups["test"]
    assert "no group in two splits" in split.method
    assert sum(split.sizes().values()) == len(table)


def test_stratified_split_keeps_class_balance(image_folder):
    from medtransfer.data.images.readers import read_image_folder

    table = read_image_folder(image_folder)
    split = make_split(table, 0.25, 0.25, seed=0)
    for idx in split.indices.values():
        counts = np.bincount(table.targets[idx], minlength=2)
        assert abs(counts[0] - counts[1]) <= 1
    all_idx = np.concatenate(list(split.indices.values()))
    assert len(np.unique(all_idx)) == len(table)


def test_predefined_split_is_kept(npz_data):
    table = read_image_npz(npz_data)
    split = make_split(table, 0.15, 0.15, seed=0)
    assert split.sizes() == {"train": 60, "val": 20, "test": 20}
    assert split.method == "predefined split of the source"


def test_subsample_train_is_stratified_and_only_touches_train(npz_data):
    table = read_image_npz(npz_data)
    split = subsample_train(table, make_split(table, 0.15, 0.15, 0), max_train=10, seed=0)
    assert split.sizes() == {"train": 10, "val": 20, "test": 20}
    assert np.bincount(table.targets[split.indices["train"]]).tolist() == [5, 5]
