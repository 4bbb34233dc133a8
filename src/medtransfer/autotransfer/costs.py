"""What a trial of the race is expected to cost, from the trials already run: the budget starts a trial only when
its projection fits.

A source's fine-tune costs about what another's did times the ratio of their forward passes, and ``rank`` has
timed every source's forward pass over the same rows (its ``features_seconds``). Without that scaling a BERT's
first full fine-tune was projected at a small CNN's seconds, started with too little budget left, and overran it
(1.1–1.2× the budget on BBBP and ClinTox: docs/benchmarks.md, AutoTransfer's validation study).

The search keeps back what handing over its leader would cost (``handover_seconds``): the best trial run again,
or the ensemble's members loaded and run on validation and test, whichever costs more. Keeping back only the
re-run let BBBP's search end at the budget's edge and then spend 11 s handing over the ensemble (1.22×). The
re-run also does what its trial did not (``final_extras``): the test split scored, with the classical baseline
refitted and compared to the winner by paired bootstrap, and the explanation gallery. Leaving those out, splice's
15.5 s search handed over a 2 s trial in 4.7 s and ended at 1.10× its budget.

The first trial of its kind has no trial to scale from: it is projected from its source's forward pass and its
epochs (``first_of_kind_seconds``). Projected at 0 s, GBSG2's first fine-tune started 9 s into a 26 s budget,
took 19 s and ended the search at 1.22×.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medtransfer.autotransfer.ensemble import ensemble_members
from medtransfer.autotransfer.rank import CLASSICAL
from medtransfer.autotransfer.space import ETA, Trial
from medtransfer.backbones.concat_backbone import SCHEME, member_names
from medtransfer.explanations.methods import IG_STEPS

RATIO_BOUNDS = (0.1, 10.0)  # a warm feature cache times loading, not computing: keep its ratios modest
BOOTSTRAP_PASSES = 3  # test's CIs, then the paired bootstrap's resamples of the winner and of the baseline
SANITY_MODELS = 2  # the gallery explains each case with the model and with a randomised copy of it
FORWARD_BACKWARD = 3  # a forward and a backward pass cost about three forward passes
# fit settings a linear probe's frozen backbone never sees: probes that differ only in these read equal features
HEAD_ONLY = frozenset({"epochs", "lr", "weight_decay", "class_weights", "mixup"})
# an epoch of fine-tuning (its train and validation passes) on one decision split, in rank's forward passes over
# the same train + val rows: the study's 109 rung-0 fine-tunes took 0.03-3.4 above a run's fixed cost (median
# 0.44; 87% at most 1.0), so 1.0 errs long for most while a cheap first fine-tune still starts
EPOCH_FORWARDS = 1.0


@dataclass(frozen=True)
class HandoverRows:
    """The rows handing over touches, against what the search timed: forward passes scale with rows over the
    rows ``rank`` timed, bootstrap passes with test rows over validation rows (the classical trial's CIs)."""

    val: int
    test: int
    ranked: int
    gallery_cases: int = 0  # cases the final run's gallery explains (2 per class); 0 without a gallery

    def share(self, rows: float) -> float:
        return rows / max(1, self.ranked)


def forward_seconds(rank_rows: list[dict]) -> dict[str, float]:
    """Source name → the seconds ``rank`` took for its features (the architecture's cost, whatever its weights)."""
    return {row["candidate"].split("@")[0]: float(row["features_seconds"]) for row in rank_rows}


def source_seconds(forward_s: dict[str, float], name: str) -> float | None:
    """A source's forward seconds; a ``concat:`` composite's are the sum of its members'."""
    if name.startswith(SCHEME):
        parts = [forward_s.get(member) for member in member_names(name)]
        return float(sum(parts)) if all(parts) else None
    return forward_s.get(name)


def projected_seconds(
    trial: Trial, rung: int, board: list[dict], forward_s: dict[str, float], splits: int = 1
) -> float:
    """Seconds ``trial`` is expected to take at ``rung``: its own previous rung × ETA; else the trials of its
    kind (probes; or fine-tunes of any strategy, all of which train the backbone) at this rung, with its extra
    settings where any such trial had them, each scaled by the forward-pass ratio of the two sources; else, the
    first of its kind, ``first_of_kind_seconds`` (``splits``: the decision splits each trial fits on)."""
    own = [r["seconds"] for r in board if r["trial"] == trial.label and r["rung"] == rung - 1 and r["seconds"]]
    if own:
        return own[0] * ETA
    kind = _kind(trial.strategy)
    ran = [r for r in board if r.get("settings") and r["seconds"] and r["rung"] == rung]
    ran = [r for r in ran if _kind(r["strategy"]) == kind]
    extra = dict(trial.settings)
    alike = [r for r in ran if all(r["settings"].get(k) == v for k, v in extra.items())] or ran
    if not alike:
        return first_of_kind_seconds(trial, rung, board, forward_s, splits)
    mine = source_seconds(forward_s, trial.candidate.name)
    return float(
        np.mean([r["seconds"] * _ratio(mine, source_seconds(forward_s, r["settings"]["backbone"])) for r in alike])
    )


def first_of_kind_seconds(
    trial: Trial, rung: int, board: list[dict], forward_s: dict[str, float], splits: int = 1
) -> float:
    """A trial with none of its kind to scale from: a run's fixed cost (the cheapest trial run so far: loading,
    setting up, scoring) plus its passes over the train + val rows rank timed (``training_seconds``)."""
    ran = [r["seconds"] for r in _neural(board) if r["seconds"]]
    return (min(ran) if ran else 0.0) + training_seconds(trial, rung, forward_s, splits)


def training_seconds(trial: Trial, rung: int, forward_s: dict[str, float], splits: int = 1) -> float:
    """A trial's passes over the train + val rows on each decision split, at its source's forward seconds: a
    probe reads its features once; a fine-tune runs ``EPOCH_FORWARDS`` per epoch. 0 for a source rank did not
    time (nothing to scale from)."""
    forward = source_seconds(forward_s, trial.candidate.name) or 0.0
    passes = 1.0 if _kind(trial.strategy) == "probe" else trial.fit_settings(rung)["epochs"] * EPOCH_FORWARDS
    return splits * passes * forward


def handover_seconds(board: list[dict], forward_s: dict[str, float], rows: HandoverRows) -> float:
    """Seconds to keep for handing over the leader: re-running the best neural trial with what its trial left
    out (``final_extras``), or the ensemble of the best few: one run's fixed cost (the cheapest trial's seconds),
    test's CIs, and the members' backbone passes over the validation and test rows (``member_passes``: the loaded
    members predict raw inputs, no cached features)."""
    neural = [r for r in _neural(board) if r["val_score"] is not None]
    if not neural:
        return 0.0
    best = max(neural, key=lambda r: r["val_score"])
    rerun = best["seconds"] + final_extras(board, forward_s, best["settings"]["backbone"], rows)
    members = ensemble_members(board)
    if len(members) < 2:
        return rerun
    forward = sum(source_seconds(forward_s, backbone) or 0.0 for backbone in member_passes(members))
    test_cis = _test_ci_seconds(board, rows)
    return max(rerun, min(r["seconds"] for r in neural) + test_cis + rows.share(rows.val + rows.test) * forward)


def member_passes(members: list[dict]) -> list[str]:
    """The backbone passes an ensemble of these leaderboard rows runs, by source: probes of one pretrained source
    whose settings differ only in how the head trained (``HEAD_ONLY``) read the same features and share a pass
    (``ensemble_model.shared_passes``); any other member runs its own. A test-time view (``tta``) adds a pass over
    the mirror images, shared alike. A pair counted as sharing must share: counting BBBP's three rxnfp_bert probes
    as one pass when each ran its own left its reserve 8 s short (1.11× the budget)."""
    passes: dict[tuple, str] = {}
    for index, member in enumerate(members):
        settings = member["settings"]
        probe = settings.get("strategy") == "linear_probe" and settings.get("pretrained", True)
        reads = {k: v for k, v in settings.items() if k not in HEAD_ONLY | {"tta"}} if probe else index
        for view in {"none", settings.get("tta", "none")}:  # a mirror view: one more pass, shared like the first
            passes[(repr(reads), view)] = settings["backbone"]
    return list(passes.values())


def final_extras(board: list[dict], forward_s: dict[str, float], source: str, rows: HandoverRows) -> float:
    """What re-running a trial as the final run adds to the trial's seconds: the classical baseline fitted again
    (the classical trial's fit) and its paired bootstrap against the winner on test, with test's CIs (the classical
    trial's CI seconds per validation row, times test rows); test's forward pass; and with a gallery, Integrated
    Gradients' steps forward and back for each case, on the model and a randomised copy (the costliest default
    method: grad-CAM's single pass costs less, so a CNN's reserve errs long)."""
    bootstrap = BOOTSTRAP_PASSES * _test_ci_seconds(board, rows)
    explained = rows.gallery_cases * SANITY_MODELS * IG_STEPS * FORWARD_BACKWARD
    forward = source_seconds(forward_s, source) or 0.0
    return _classical(board).get("fit_seconds", 0.0) + bootstrap + rows.share(rows.test + explained) * forward


def _neural(board: list[dict]) -> list[dict]:
    """The trials that trained a model (not the classical one, not an ensemble of others)."""
    return [r for r in board if r.get("run") and r["trial"] != CLASSICAL]


def _classical(board: list[dict]) -> dict:
    return next((r for r in board if r["trial"] == CLASSICAL), {})


def _test_ci_seconds(board: list[dict], rows: HandoverRows) -> float:
    """One bootstrap pass over test: the classical trial's CI seconds on validation, scaled by test / val rows."""
    return _classical(board).get("ci_seconds", 0.0) * rows.test / max(1, rows.val)


def _kind(strategy: str) -> str:
    return "probe" if strategy == "linear_probe" else "fine-tune"


def _ratio(mine: float | None, theirs: float | None) -> float:
    if not mine or not theirs:
        return 1.0
    return float(np.clip(mine / theirs, *RATIO_BOUNDS))
