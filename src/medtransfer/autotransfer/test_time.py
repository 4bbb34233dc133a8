"""The test-time augmentation contestant: the best single trial's own models, validated again with each test-time
view the modality offers (images: the mirror image averaged in), so the lever becomes part of the winner only
where validation says it helps.

No training: each decision split's trial model predicts its own validation rows once more with the view on.
Where it wins, the winner's final run is that trial's settings with ``tta`` set, test scored once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from medtransfer.autotransfer.ensemble import is_ensemble, member_dirs, validation_rows
from medtransfer.autotransfer.rank import CLASSICAL
from medtransfer.autotransfer.val_scores import set_val, val_score
from medtransfer.data.table import SampleTable

STAGE = "test-time augmentation"


def tta_rows(
    board: list[dict],
    tables: list[SampleTable],
    metric: str,
    views: tuple[str, ...],
    seed: int,
    affords: Callable[[float], bool] = lambda seconds: True,
) -> list[dict]:
    """One leaderboard row per test-time view in ``views`` (``tta`` values): the best neural trial on validation
    (each decision split) with that view on; none where no single neural trial has run, it already uses one, or
    ``affords(projected seconds)`` says the budget cannot take the extra validation passes."""
    from medtransfer.evaluation.bootstrap import confidence_intervals
    from medtransfer.evaluation.metrics import compute_metrics
    from medtransfer.inference import load

    ran = [r for r in board if r.get("run") and r["val_score"] is not None and r["trial"] != CLASSICAL]
    ran = [r for r in ran if not is_ensemble(r) and r.get("settings", {}).get("tta", "none") == "none"]
    if not ran or not views:
        return []
    best = max(ran, key=lambda r: r["val_score"])
    runs = member_dirs(Path(best["run"]), len(tables))
    validated = [validation_rows(t.task, run)[:2] for t, run in zip(tables, runs, strict=True)]
    share = sum(len(ids) for ids, _ in validated) / sum(len(t) for t in tables)
    # a view's pass over validation costs at most validation's share of a trial that also read it every epoch
    if not affords(2 * len(views) * share * best["seconds"]):
        return []
    inputs = []  # each split's validation inputs, in the order of its trial's predictions
    for table, (ids, _) in zip(tables, validated, strict=True):
        where = {i: k for k, i in enumerate(table.ids)}
        inputs.append([table.inputs[where[i]] for i in ids])
    rows = []
    for view in views:
        started, scores = time.perf_counter(), []
        for table, run, (_, y), x in zip(tables, runs, validated, inputs, strict=True):
            model = load(run)
            model.model.test_time_flip = view == "flip"
            probs = model.predict_proba(x)
            metrics, _ = compute_metrics(table.task, y, probs)
            metrics.update(confidence_intervals(table.task, y, probs, seed=seed))
            scores.append(val_score(metrics, metric))
        row = {"trial": f"{best['trial']} + {view} at test time", "strategy": best["strategy"], "rung": best["rung"],
               "epochs": best["epochs"], "metric": metric, "seconds": time.perf_counter() - started, "stage": STAGE,
               "settings": {**best["settings"], "tta": view}}  # fmt: skip
        set_val(row, scores)
        rows.append(row)
    return rows
