"""AutoTransfer's pick: the best validation score, or the classical model where validation cannot tell it from
the best (within one standard error)."""

from __future__ import annotations

import pytest

from medtransfer.autotransfer.val_scores import pick_winner, set_val, standard_error


def _row(trial: str, scores: list[float], ci: list[float] | None = None) -> dict:
    row = {"trial": trial}
    set_val(row, [(s, ci) for s in scores])
    return row


def test_the_classical_model_is_kept_where_the_best_leads_it_by_less_than_one_standard_error():
    probe = _row("minilm_l6/linear_probe", [0.70, 0.55, 0.62])  # mean 0.623, sd 0.075, se 0.043
    assert standard_error(probe) == pytest.approx(0.075 / 3**0.5, abs=1e-3)
    near, far = _row("classical", [0.60, 0.61, 0.62]), _row("classical", [0.56, 0.57, 0.58])
    assert pick_winner([near, probe]) == (near, probe)  # 0.610 >= 0.623 - 0.043
    assert pick_winner([far, probe]) == (probe, probe)  # 0.570 < 0.580: the probe's lead is more than noise
    assert pick_winner([probe, _row("classical", [0.70, 0.70, 0.70])])[0]["trial"] == "classical"  # best outright


def test_one_split_reads_its_bootstrap_ci_and_rows_without_a_spread_compare_as_they_are():
    single = _row("chemnet/full", [0.80], ci=[0.70, 0.90])  # se = 0.2 / 3.92
    assert standard_error(single) == pytest.approx(0.2 / 3.92)
    assert pick_winner([_row("classical", [0.76], ci=[0.6, 0.9]), single])[0]["trial"] == "classical"
    assert pick_winner([_row("classical", [0.74], ci=[0.6, 0.9]), single])[0] is single
    bare = {"trial": "ensemble of 3", "val_score": 0.80, "val_ci": None, "val_sd": None}
    assert pick_winner([{"trial": "classical", "val_score": 0.799}, bare])[0] is bare  # no spread: the best wins
    unscored = {"trial": "skipped", "val_score": None}
    assert pick_winner([unscored, bare]) == (bare, bare)  # without a classical row, the best
