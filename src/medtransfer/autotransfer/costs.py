"""What a trial of the race is expected to cost, from the trials already run: the budget starts a trial only when
its projection fits.

A source's fine-tune costs about what another's did times the ratio of their forward passes, and ``rank`` has
timed every source's forward pass over the same rows (its ``features_seconds``). Without that scaling a BERT's
first full fine-tune was projected at a small CNN's seconds, started with too little budget left, and overran it
(1.1–1.2× the budget on BBBP and ClinTox: docs/benchmarks.md, AutoTransfer's validation study).

The search keeps back what handing over its leader would cost (``handover_seconds``): the best trial run again,
or the ensemble's members loaded and run on validation and test, whichever costs more. Keeping back only the
re-run let BBBP's search end at the budget's edge and then spend 11 s handing over the ensemble (1.22×).
"""

from __future__ import annotations

import numpy as np

from medtransfer.autotransfer.ensemble import ensemble_members
from medtransfer.autotransfer.rank import CLASSICAL
from medtransfer.autotransfer.space import ETA, Trial
from medtransfer.backbones.concat_backbone import SCHEME, member_names

RATIO_BOUNDS = (0.1, 10.0)  # a warm feature cache times loading, not computing: keep its ratios modest


def forward_seconds(rank_rows: list[dict]) -> dict[str, float]:
    """Source name → the seconds ``rank`` took for its features (the architecture's cost, whatever its weights)."""
    return {row["candidate"].split("@")[0]: float(row["features_seconds"]) for row in rank_rows}


def source_seconds(forward_s: dict[str, float], name: str) -> float | None:
    """A source's forward seconds; a ``concat:`` composite's are the sum of its members'."""
    if name.startswith(SCHEME):
        parts = [forward_s.get(member) for member in member_names(name)]
        return float(sum(parts)) if all(parts) else None
    return forward_s.get(name)


def projected_seconds(trial: Trial, rung: int, board: list[dict], forward_s: dict[str, float]) -> float:
    """Seconds ``trial`` is expected to take at ``rung``: its own previous rung × ETA; else the trials of its
    kind (probes; or fine-tunes of any strategy, all of which train the backbone) at this rung, with its extra
    settings where any such trial had them, each scaled by the forward-pass ratio of the two sources; else 0 (the
    first of its kind runs: there is nothing to project from)."""
    own = [r["seconds"] for r in board if r["trial"] == trial.label and r["rung"] == rung - 1 and r["seconds"]]
    if own:
        return own[0] * ETA
    kind = _kind(trial.strategy)
    ran = [r for r in board if r.get("settings") and r["seconds"] and r["rung"] == rung]
    ran = [r for r in ran if _kind(r["strategy"]) == kind]
    extra = dict(trial.settings)
    alike = [r for r in ran if all(r["settings"].get(k) == v for k, v in extra.items())] or ran
    if not alike:
        return 0.0
    mine = source_seconds(forward_s, trial.candidate.name)
    return float(
        np.mean([r["seconds"] * _ratio(mine, source_seconds(forward_s, r["settings"]["backbone"])) for r in alike])
    )


def handover_seconds(board: list[dict], forward_s: dict[str, float], predict_share: float) -> float:
    """Seconds to keep for handing over the leader: re-running the best neural trial, or the ensemble of the best
    few: one run's fixed cost (scoring, report: the cheapest trial's seconds) plus each member's forward pass over
    the validation and test rows (``predict_share`` × the seconds rank took over train + val; no trial has
    cached a fine-tuned member's features, nor any member's on test)."""
    neural = [r for r in board if r.get("run") and r["val_score"] is not None and r["trial"] != CLASSICAL]
    if not neural:
        return 0.0
    rerun = max(neural, key=lambda r: r["val_score"])["seconds"]
    members = ensemble_members(board)
    if len(members) < 2:
        return rerun
    # probes of one source share its frozen features; each fine-tuned member computes its own
    passes = {m["settings"]["backbone"] if m["strategy"] == "linear_probe" else m["trial"]: m for m in members}
    forward = sum(source_seconds(forward_s, m["settings"]["backbone"]) or 0.0 for m in passes.values())
    return max(rerun, min(r["seconds"] for r in neural) + predict_share * forward)


def _kind(strategy: str) -> str:
    return "probe" if strategy == "linear_probe" else "fine-tune"


def _ratio(mine: float | None, theirs: float | None) -> float:
    if not mine or not theirs:
        return 1.0
    return float(np.clip(mine / theirs, *RATIO_BOUNDS))
