"""The race's cost model: a trial is projected from its own previous rung, else from trials of its kind scaled by
the forward-pass seconds rank measured, preferring trials with the same extra settings; and what handing over
the leader costs, which the search keeps back."""

from __future__ import annotations

import pytest

from medtransfer.autotransfer.costs import (
    EPOCH_FORWARDS,
    HandoverRows,
    final_extras,
    forward_seconds,
    handover_seconds,
    projected_seconds,
)
from medtransfer.autotransfer.rank import Candidate
from medtransfer.autotransfer.space import ETA, Trial
from medtransfer.explanations.methods import IG_STEPS

FORWARD = forward_seconds([
    {"candidate": "chemnet", "features_seconds": 0.8},
    {"candidate": "rxnfp_bert", "features_seconds": 3.2},
    {"candidate": "tiny@random", "features_seconds": 0.001},
])  # fmt: skip


def _row(trial: Trial, rung: int, seconds: float) -> dict:
    return {"trial": trial.label, "strategy": trial.strategy, "rung": rung, "seconds": seconds,
            "settings": trial.fit_settings(rung)}  # fmt: skip


def test_forward_seconds_are_per_architecture():
    assert FORWARD == {"chemnet": 0.8, "rxnfp_bert": 3.2, "tiny": 0.001}


def test_a_source_is_projected_from_others_of_its_kind_by_their_forward_passes():
    cnn_full, bert_full = Trial(Candidate("chemnet")), Trial(Candidate("rxnfp_bert"))
    bert_lora, bert_probe = Trial(Candidate("rxnfp_bert"), "lora"), Trial(Candidate("rxnfp_bert"), "linear_probe")
    scratch = Trial(Candidate("chemnet", pretrained=False))
    # the first of its kind: its 2 epochs at rank's forward seconds (3.2 s), on each of 3 decision splits
    assert projected_seconds(bert_full, 0, [], FORWARD) == pytest.approx(2 * EPOCH_FORWARDS * 3.2)
    assert projected_seconds(bert_full, 0, [], FORWARD, splits=3) == pytest.approx(3 * 2 * EPOCH_FORWARDS * 3.2)
    board = [_row(cnn_full, 0, 5.0), _row(scratch, 0, 3.0)]
    # a BERT's forward pass is 4x the CNN's: its fine-tune is projected at 4x theirs (the old projection: 4 s)
    assert projected_seconds(bert_full, 0, board, FORWARD) == pytest.approx(4 * (5.0 + 3.0) / 2)
    assert projected_seconds(bert_lora, 0, board, FORWARD) == pytest.approx(16.0)  # LoRA trains through it too
    # no probe has run, and fine-tunes do not scale to one: one pass for its features, plus a run's fixed cost
    # (the cheapest trial so far: the 3 s control, once it is a run on the board)
    assert projected_seconds(bert_probe, 0, board, FORWARD) == pytest.approx(3.2)
    ran = [{**row, "run": "r"} for row in board]
    assert projected_seconds(bert_probe, 0, ran, FORWARD) == pytest.approx(3.0 + 3.2)
    assert projected_seconds(Trial(Candidate("unknown"), "linear_probe"), 0, ran, FORWARD) == 3.0  # not timed
    board.append(_row(bert_full, 0, 17.0))
    assert projected_seconds(bert_full, 1, board, FORWARD) == 17.0 * ETA  # its own previous rung, longer
    assert projected_seconds(cnn_full, 0, board, FORWARD) == pytest.approx((5.0 + 3.0 + 17.0 / 4) / 3)


def test_trials_with_the_same_settings_are_preferred_and_ratios_are_bounded():
    small = Trial(Candidate("chemnet"), "linear_probe", (("image_size", 64),))
    large = Trial(Candidate("chemnet"), "linear_probe", (("image_size", 128),))
    other = Trial(Candidate("rxnfp_bert"), "linear_probe", (("image_size", 128),))
    board = [_row(small, 0, 2.0)]
    assert projected_seconds(large, 0, board, FORWARD) == 2.0  # no 128-px probe yet: every probe counts
    board.append(_row(other, 0, 8.0))
    assert projected_seconds(large, 0, board, FORWARD) == pytest.approx(2.0)  # the 128-px one, scaled by 1/4
    tiny = Trial(Candidate("tiny"), "linear_probe", (("image_size", 128),))
    assert projected_seconds(tiny, 0, board, FORWARD) == pytest.approx(0.8)  # 1/3200 clipped to 1/10


def test_the_handover_kept_back_covers_the_ensembles_members_run_on_val_and_test():
    cnn_probe, bert_probe = Trial(Candidate("chemnet"), "linear_probe"), Trial(Candidate("rxnfp_bert"), "linear_probe")
    cnn_full = Trial(Candidate("chemnet"))
    rows = HandoverRows(val=45, test=45, ranked=100)  # val + test: 0.9 of the rows rank timed
    assert handover_seconds([], FORWARD, rows) == 0.0
    board = [{**_row(cnn_full, 0, 3.0), "run": "a", "val_score": 0.80}]
    assert handover_seconds(board, FORWARD, rows) == pytest.approx(3.0 + 0.45 * 0.8)  # its re-run, test predicted
    board += [{**_row(cnn_probe, 0, 1.2), "run": "b", "val_score": 0.81},
              {**_row(bert_probe, 0, 1.4), "run": "c", "val_score": 0.82},
              {"trial": "classical", "seconds": 1.0, "run": "d", "val_score": 0.90}]  # fmt: skip
    # the ensemble of the three neural trials: the cheapest run (1.2 s) + their sources' forward passes over val
    # and test (0.9 × (0.8 + 0.8 + 3.2) s); BBBP's search kept back only the best's 1.4 s and overran by 11 s
    assert handover_seconds(board, FORWARD, rows) == pytest.approx(1.2 + 0.9 * 4.8)
    tuned = {**_row(bert_probe, 0, 1.3), "trial": "rxnfp_bert/linear_probe (tuned 1)", "run": "e", "val_score": 0.85}
    tuned["settings"] = {**tuned["settings"], "lr": 0.01, "weight_decay": 1e-4, "epochs": 7, "class_weights": True}
    board.append(tuned)
    # the tuned probe replaces the full fine-tune among the members; it reads the features the other probe of its
    # source reads (its settings differ only in how the head trains): the two share one pass
    assert handover_seconds(board, FORWARD, rows) == pytest.approx(1.2 + 0.9 * (0.8 + 3.2))
    tuned["settings"]["tta"] = "flip"  # its mirror images: one more pass (the other probe would share it too)
    assert handover_seconds(board, FORWARD, rows) == pytest.approx(1.2 + 0.9 * (0.8 + 3.2 + 3.2))
    tuned["settings"].update(tta="none", image_size=64)  # other inputs, other features: its own pass
    assert handover_seconds(board, FORWARD, rows) == pytest.approx(1.2 + 0.9 * (0.8 + 3.2 + 3.2))
    tuned["settings"].pop("image_size")
    tuned["settings"]["strategy"] = "partial"  # a fine-tune changes its backbone's weights: its own pass
    assert handover_seconds(board, FORWARD, rows) == pytest.approx(1.2 + 0.9 * (0.8 + 3.2 + 3.2))
    tuned["settings"]["strategy"] = "linear_probe"
    board[-1]["seconds"] = 30.0  # the leader's re-run (a long fine-tune, say) costs more than running the members
    assert handover_seconds(board, FORWARD, rows) == pytest.approx(30.0 + 0.45 * 3.2)


def test_the_final_run_keeps_back_test_scoring_the_baseline_and_the_gallery():
    """Splice's 15.5 s search kept back its winner's 2 s trial and handed it over in 4.7 s (1.10× the budget):
    scoring test with the baseline's paired bootstrap, which no trial does, took the difference."""
    bert_full = Trial(Candidate("rxnfp_bert"))
    classical = {"trial": "classical", "seconds": 0.5, "run": "c", "val_score": 0.7, "fit_seconds": 0.2,
                 "ci_seconds": 0.3}  # fmt: skip
    board = [classical, {**_row(bert_full, 0, 2.0), "run": "a", "val_score": 0.8}]
    rows = HandoverRows(val=50, test=100, ranked=200)
    # the baseline refitted (0.2 s), 3 bootstrap passes over twice val's rows (3 × 0.3 × 2), test's forward pass
    scoring = 0.2 + 3 * 0.3 * 2 + 100 / 200 * 3.2
    assert final_extras(board, FORWARD, "rxnfp_bert", rows) == pytest.approx(scoring)
    assert handover_seconds(board, FORWARD, rows) == pytest.approx(2.0 + scoring)
    # a gallery of 4 cases: Integrated Gradients' steps forward and back, on the model and its randomised copy
    shown = HandoverRows(val=50, test=100, ranked=200, gallery_cases=4)
    explained = 4 * 2 * IG_STEPS * 3 / 200 * 3.2
    assert final_extras(board, FORWARD, "rxnfp_bert", shown) == pytest.approx(scoring + explained)
    # an ensemble's run scores test with CIs only (no baseline, no gallery), its members' passes over val + test
    board.append({**_row(Trial(Candidate("chemnet"), "linear_probe"), 0, 1.0), "run": "b", "val_score": 0.79})
    members = 1.0 + 0.3 * 2 + 150 / 200 * (3.2 + 0.8)
    assert handover_seconds(board, FORWARD, rows) == pytest.approx(max(2.0 + scoring, members))
