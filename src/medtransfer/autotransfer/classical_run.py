"""A run directory holding the classical model, for when it beats every transferred model on validation.

Same contract as a ``fit`` run (config.yaml, manifest.json, metrics.json, predictions.csv, model/, report.html),
written atomically; ``medtransfer.load`` predicts with it like with any run.
"""

from __future__ import annotations

from medtransfer.config import FitConfig
from medtransfer.data.hashing import row_hashes, table_hash
from medtransfer.data.modality import get_modality
from medtransfer.data.table import SampleTable
from medtransfer.evaluation.classical_model import fit_classical, save_classical
from medtransfer.evaluation.clinical import evaluate_splits
from medtransfer.evaluation.predictions import prediction_rows, write_predictions
from medtransfer.pipeline import FitResult, split_for_fit
from medtransfer.report import render_report
from medtransfer.run.manifest import build_manifest, now
from medtransfer.run.rundir import TRAINED_ON, RunDir, atomic_write_text


def write_classical_run(cfg: FitConfig, table: SampleTable | None = None) -> FitResult:
    """Train the classical model on the fit's training split, score val and test once, write the run."""
    started = now()
    table, split, leakage = split_for_fit(cfg, table)
    plugin = get_modality(table.modality)
    parts = {name: table.subset(idx) for name, idx in split.indices.items() if len(idx)}
    features = {name: plugin.simple_features(part.inputs) for name, part in parts.items()}
    model = fit_classical(table.task, features["train"], parts["train"].targets, plugin.simple_features_name,
                          plugin.baseline_estimator, cfg.seed)  # fmt: skip
    scored = {name: (parts[name].targets, model.predict_features(features[name])) for name in ("val", "test")}
    metrics = evaluate_splits(table.task, scored, cfg.seed, cfg.target_sensitivity)
    metrics["training"] = {"model": model.description}
    rows = [r for name, (y, p) in scored.items() for r in prediction_rows(table.task, parts[name].ids, name, y, p)]
    hashes = {name: table_hash(part, plugin.input_bytes) for name, part in parts.items()}
    run = RunDir.start(cfg.out_dir(), cfg.resume, cfg.overwrite)
    run.write_yaml("config.yaml", cfg.model_dump())
    card = {"name": "classical", "architecture": model.description, "pretrained": False}
    manifest = build_manifest(cfg.seed, cfg.model_dump(), hashes, split.sizes(), card, started)
    run.write_json("manifest.json", manifest)
    run.write_json("data_summary.json", {
        "source": table.source, "modality": table.modality, "split_method": split.method,
        "sizes": {k: len(v) for k, v in parts.items()}, "class_counts": {k: v.class_counts() for k, v in parts.items()},
        "input_description": f"{plugin.simple_features_name} (hand-made features; no backbone)",
        "leakage_audit": leakage.summary(),
    })  # fmt: skip
    run.write_json("audit.json", leakage.to_dict())
    trained_on = sorted({h for name in ("train", "val") for h in row_hashes(parts[name], plugin.input_bytes)})
    atomic_write_text(run.path(TRAINED_ON), "\n".join(trained_on) + "\n")
    write_predictions(rows, run.path("predictions.csv"))
    run.write_json("metrics.json", metrics)
    save_classical(model, run.path("model"), {"modality": table.modality})
    run.write_json("manifest.json", {**manifest, "finished": now()})
    render_report(run.partial)
    return FitResult(run.finish(), metrics, model, cfg)
