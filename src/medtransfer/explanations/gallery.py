"""The report's gallery: the most confident correct and the most confident wrong test case of each class,
explained with the model's default method and checked against a randomised model."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from medtransfer.errors import ExplainError
from medtransfer.explanations.attribute_inputs import explain_inputs
from medtransfer.explanations.explain_run import run_sanity, write_explanations
from medtransfer.inference import load

log = logging.getLogger("medtransfer")
GALLERY = Path("explanations") / "gallery"
CASE_KINDS = ("most confident correct", "most confident wrong")  # explained per true class


def pick_cases(rows: list[dict], class_names: list[str]) -> list[dict]:
    """Per true class: the correct prediction with the highest probability and the wrong one with the most
    confident (wrong) prediction. Returns {index, class, kind, confidence} in class order."""
    picks = []
    for name in class_names:
        mine = [(i, r) for i, r in enumerate(rows) if r["label"] == name]
        right = [(float(r[f"prob_{name}"]), i) for i, r in mine if r["prediction"] == name]
        wrong = [(float(r[f"prob_{r['prediction']}"]), i) for i, r in mine if r["prediction"] != name]
        for kind, options in zip(CASE_KINDS, (right, wrong), strict=True):
            if options:
                confidence, index = max(options)
                picks.append({"index": index, "class": name, "kind": kind, "confidence": confidence})
    return picks


def write_gallery(run_dir: Path, inputs: list[Any], rows: list[dict]) -> dict | None:
    """Explain the picked test cases into ``run_dir/explanations/gallery``; None where it cannot apply."""
    loaded = load(run_dir)
    if not loaded.task.is_classification or not loaded.model.backbone.explain_kind:
        return None
    picks = pick_cases(rows, list(loaded.task.class_names))
    chosen = [inputs[p["index"]] for p in picks]
    try:
        explanations = explain_inputs(loaded, chosen, [rows[p["index"]]["id"] for p in picks])
        check = run_sanity(loaded, chosen, explanations, None)
        records = write_explanations(loaded, chosen, explanations, check, run_dir / GALLERY)
    except ExplainError as exc:
        log.warning("no explanation gallery in the report: %s", exc)
        return None
    except Exception as exc:  # noqa: BLE001 - the gallery is an extra: a drawing bug must not lose a trained run
        log.warning("no explanation gallery in the report (%s: %s); please report this", type(exc).__name__, exc)
        return None
    cases = [
        {**p, **r, "file": str(GALLERY / r["file"]), "label": rows[p["index"]]["label"],
         "prediction": rows[p["index"]]["prediction"]}
        for p, r in zip(picks, records, strict=True)
    ]  # fmt: skip
    gallery = {"method": explanations[0].method, "sanity": check, "cases": cases}
    (run_dir / GALLERY / "gallery.json").write_text(json.dumps(gallery, indent=2))
    return gallery
