"""Repeated train / validation splits for small validation sets: same rows, same test, stratified, seeded."""

from __future__ import annotations

import numpy as np
import pytest

from medtransfer.autotransfer.resplits import REPEATS, decision_tables, small_validation
from medtransfer.data.splits import make_split
from medtransfer.data.table import SampleTable
from medtransfer.data.task import TaskSpec


def _table(n: int, positives: float = 0.3) -> SampleTable:
    rng = np.random.default_rng(0)
    y = (rng.random(n) < positives).astype(int)
    inputs = [f"C{'C' * i}O" for i in range(n)]  # one distinct SMILES-like text per row
    return SampleTable(inputs=inputs, targets=y, ids=[f"m{i}" for i in range(n)], task=TaskSpec("binary", ("0", "1")),
                       modality="molecule", source="planted")  # fmt: skip


def _parts(table: SampleTable) -> dict[str, set[str]]:
    return {s: {table.ids[i] for i in np.where(table.split == s)[0]} for s in ("train", "val", "test")}


def test_small_validation_is_split_three_ways_around_a_fixed_test_split():
    table = _table(200)
    split = make_split(table, 0.15, 0.15, seed=4)
    assert small_validation(table, split)
    tables = decision_tables(table, split, seed=4)
    assert len(tables) == REPEATS
    parts = [_parts(t) for t in tables]
    original = {s: {table.ids[i] for i in split.indices[s]} for s in ("train", "val", "test")}
    assert parts[0] == original
    assert all(p["test"] == original["test"] for p in parts)
    assert all(p["train"] | p["val"] == original["train"] | original["val"] for p in parts)
    assert len({frozenset(p["val"]) for p in parts}) == REPEATS
    positives = [sum(t.targets[np.where(t.split == "val")[0]]) for t in tables]
    assert max(positives) - min(positives) <= 1  # stratified: each validation split has the same share
    again = decision_tables(table, split, seed=4)
    assert [_parts(t) for t in again] == parts  # seeded
    other = decision_tables(table, split, seed=5)
    assert [_parts(t)["val"] for t in other][1:] != [p["val"] for p in parts][1:]


def test_a_large_validation_split_is_used_as_it_is_unless_repeats_are_asked_for():
    table = _table(2000, positives=0.5)
    split = make_split(table, 0.15, 0.15, seed=0)
    assert not small_validation(table, split)
    same = decision_tables(table, split, seed=0)
    assert len(same) == 1 and same[0] is table
    assert len(decision_tables(table, split, seed=0, repeats=2)) == 2
    with pytest.raises(Exception, match="at least 1"):
        decision_tables(table, split, seed=0, repeats=0)


def test_few_cases_of_the_rare_class_make_validation_small():
    table = _table(2000, positives=0.02)  # ~6 positives among 300 validation rows
    assert small_validation(table, make_split(table, 0.15, 0.15, seed=0))
