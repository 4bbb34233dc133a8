"""``medtransfer explain``: explain inputs with a finished run and write one picture per input plus an index."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from medtransfer.adapt.model import TransferModel
from medtransfer.errors import DataError, ExplainError
from medtransfer.explanations.attribute_inputs import (
    BATCH,
    Explanation,
    explain_inputs,
    model_inputs,
    target_indices,
    token_lengths,
)
from medtransfer.explanations.display import get_display
from medtransfer.explanations.sanity import sanity_check
from medtransfer.inference import LoadedModel, load


@dataclass
class ExplainResult:
    """The explanations (with their arrays), the sanity check of the method, and the output folder."""

    explanations: list[Explanation]
    sanity: dict | None
    out_dir: Path | None


def explain(
    run: str | Path,
    inputs: list[str | Path],
    method: str | None = None,
    out: str | Path | None = None,
    target: str | None = None,
    sanity: bool = True,
) -> ExplainResult:
    """Explain ``inputs`` (files, folders, CSV, .smi) with the model of ``run``; write pictures to ``out``."""
    loaded = load(run)
    if not isinstance(loaded.model, TransferModel):
        raise ExplainError(
            f"{run} holds {loaded.model.handed_over}, which won on validation; attribution maps explain one "
            "network. Explain one of the search's neural trials (in <out>.trials/) instead."
        )
    sources = [Path(s) for s in inputs]
    missing = [s for s in sources if not s.exists()]
    if missing:
        raise DataError(f"input {missing[0]} not found. Pass files, folders or a CSV / .smi of inputs.")
    raw, ids, _ = loaded.modality.read_inputs(sources)
    if not raw:
        raise DataError(f"no inputs found in {', '.join(map(str, sources))}.")
    explanations = explain_inputs(loaded, raw, ids, method, target)
    check = run_sanity(loaded, raw, explanations, target) if sanity else None
    if out is not None:
        write_explanations(loaded, raw, explanations, check, Path(out))
    return ExplainResult(explanations, check, None if out is None else Path(out))


def run_sanity(loaded: LoadedModel, raw: list, explanations: list[Explanation], target: str | None) -> dict:
    """The randomisation check on the first inputs (one batch), reusing their trained-model maps."""
    x = model_inputs(loaded, raw[:BATCH])
    with torch.no_grad():
        outputs = loaded.model(x).numpy()
    targets = torch.as_tensor(target_indices(loaded, outputs, target))
    trained = [e.attribution for e in explanations[:BATCH]]
    return sanity_check(loaded.model, x, targets, explanations[0].method, token_lengths(loaded, x), trained)


def write_explanations(
    loaded: LoadedModel, raw: list, explanations: list[Explanation], check: dict | None, out: Path
) -> list[dict]:
    """One PNG per input, attributions.npz (the arrays), explanations.json and index.html; the records."""
    out.mkdir(parents=True, exist_ok=True)
    display = get_display(loaded.modality.name)
    records = []
    for k, (item, e) in enumerate(zip(raw, explanations, strict=True)):
        name = f"{k:04d}-{safe_name(e.id)}.png"
        display.render(item, e.values, out / name)
        records.append(record(e, name))
    arrays = {f"{k:04d}": e.values for k, e in enumerate(explanations)}
    np.savez_compressed(out / "attributions.npz", **arrays)
    (out / "explanations.json").write_text(json.dumps({"run": str(loaded.run_dir), "sanity": check,
                                                       "explanations": records}, indent=2))  # fmt: skip
    (out / "index.html").write_text(index_page(loaded.run_dir.name, records, check), encoding="utf-8")
    return records


def record(e: Explanation, file: str) -> dict:
    """What explanations.json says about one input; per-atom / per-residue values inline (small)."""
    row = {"id": e.id, "method": e.method, "target": e.target, "score": e.score, "file": file, "unit": e.unit}
    if e.unit != "pixel":
        row["values"] = [round(float(v), 6) for v in e.values]
    return row


def safe_name(text: str, limit: int = 40) -> str:
    name = re.sub(r"\.(png|jpe?g|tiff?|bmp|dcm|npy)$", "", Path(text).name, flags=re.IGNORECASE)
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:limit] or "input"


def sanity_line(check: dict | None) -> str:
    if not check:
        return "Sanity check not run."
    rho = check["rank_correlation"]
    shown = "n/a" if rho is None else f"{rho:.2f}"
    return (
        f"Sanity check ({check['test']}), {check['method']}: rank correlation with a randomised model "
        f"{shown} over {check['inputs']} inputs (pass below {check['threshold']}): {check['verdict']}."
    )


def index_page(run_name: str, records: list[dict], check: dict | None) -> str:
    """A self-contained page: every explanation with its target and score."""
    cells = "\n".join(
        f'<figure><img src="{html.escape(r["file"])}" alt="{html.escape(r["id"])}">'
        f"<figcaption>{html.escape(r['id'])}<br>{html.escape(r['target'])}: {r['score']:.3f}</figcaption></figure>"
        for r in records
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Explanations: {html.escape(run_name)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em}}figure{{display:inline-block;margin:.5em;
text-align:center}}img{{height:224px;image-rendering:pixelated}}.fail{{color:#b00}}</style></head>
<body><h1>Explanations: {html.escape(run_name)}</h1>
<p class="{"" if (check or {}).get("passed", True) is True else "fail"}">{html.escape(sanity_line(check))}</p>
<p>Red: evidence for the target; blue (molecules, sequences): against it. Research use only.</p>
{cells}
</body></html>
"""
