"""The model card of a finished run: what the model is, what it was trained and measured on, what it is not for.

One dict serves ``/model-card`` and the bundle's MODEL_CARD.md; every figure is read from the run's own
metrics.json (test scored once; the operating point and any search chosen on validation).
"""

from __future__ import annotations

import json
from pathlib import Path

RESEARCH_ONLY = "Research use only: not a medical device, not for diagnosis or treatment decisions."


def model_card(run: Path) -> dict:
    """The card of the run (or bundle) folder ``run``."""
    import yaml

    meta = json.loads((run / "model" / "model.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text()) if (run / "metrics.json").is_file() else {}
    config = yaml.safe_load((run / "config.yaml").read_text()) if (run / "config.yaml").is_file() else {}
    backbone = meta.get("backbone_card", {})
    verdict = (metrics.get("versus_baseline") or {}).get("verdict")
    limitations = [
        f"Measured only on the test split of {config.get('data', 'its training data')}; performance on other "
        "sites, devices or populations is unknown until measured there.",
        "Inputs unlike the training data (another modality, resolution or staining) are not detected.",
    ]
    if verdict:
        limitations.append(f"Against the classical baseline on the same test rows: {verdict}.")
    return {
        "name": run.resolve().name,
        "task": meta["task"]["kind"],
        "classes": list(meta["task"]["class_names"]),
        "intended_use": RESEARCH_ONLY,
        "model": {"kind": meta.get("kind", "network"), "backbone": backbone.get("name"),
                  "architecture": backbone.get("architecture"), "source": backbone.get("source"),
                  "licence": backbone.get("licence"), "changes": backbone.get("changes")},  # fmt: skip
        "trained_on": config.get("data"),
        "seed": config.get("seed"),
        "test_metrics": {k: v for k, v in metrics.get("test", {}).items() if not isinstance(v, dict)},
        "operating_point": {k: v for k, v in (metrics.get("operating_point") or {}).items()
                            if k in ("method", "threshold", "positive_class", "test")},  # fmt: skip
        "chosen_on": "validation" if "auto" in metrics else None,
        "limitations": limitations,
    }


def card_markdown(card: dict) -> str:
    """MODEL_CARD.md for a bundle."""
    model = card["model"]
    lines = [f"# {card['name']}", "", f"**{card['intended_use']}**", "",
             f"- task: {card['task']} ({', '.join(repr(c) for c in card['classes'])})",
             f"- model: {model['kind']}; backbone {model['backbone']} ({model['architecture']})",
             f"- source weights: {model['source']}; licence {model['licence']}",
             f"- trained on: {card['trained_on']} (seed {card['seed']})"]  # fmt: skip
    if card.get("chosen_on"):
        lines.append("- source model and fine-tuning chosen by medtransfer auto on the validation split")
    lines += ["", "## Test metrics (scored once; 95% bootstrap CI)", "", "| metric | value | 95% CI |", "|---|---|---|"]
    test = card["test_metrics"]
    for name in sorted(k for k in test if not k.endswith("_ci") and isinstance(test[k], int | float)):
        ci = test.get(f"{name}_ci")
        lines.append(f"| {name} | {test[name]:.3f} | {f'{ci[0]:.3f} – {ci[1]:.3f}' if ci else '–'} |")
    point = card["operating_point"]
    if "threshold" in point:
        lines += ["", f"Operating point ({point['method']}, chosen on validation): P({point['positive_class']}) ≥ "
                      f"{point['threshold']:.3f}."]  # fmt: skip
    lines += ["", "## Limitations", "", *(f"- {text}" for text in card["limitations"]), ""]
    return "\n".join(lines)
