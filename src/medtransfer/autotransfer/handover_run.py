"""A run directory holding a model that is not one fine-tuned network: the classical model, or an ensemble,
for when it beats every single transferred model on validation.

Same contract as a ``fit`` run (config.yaml, manifest.json, metrics.json, predictions.csv, model/, report.html),
written atomically; ``medtransfer.load`` predicts with it like with any run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    table, split, leakage = split_for_fit(cfg, table)
    plugin = get_modality(table.modality)
    train = table.subset(split.indices["train"])
    model = fit_classical(table.task, plugin.simple_features(train.inputs), train.targets, plugin.simple_features_name,
                          plugin.baseline_estimator, cfg.seed)  # fmt: skip
    save = lambda folder: save_classical(model, folder, {"modality": table.modality})  # noqa: E731
    return write_model_run(cfg, table, model, save,
                           card={"name": "classical", "architecture": model.description, "pretrained": False},
                           inputs_described=f"{plugin.simple_features_name} (hand-made features; no backbone)",
                           split=(split, leakage))  # fmt: skip


def write_model_run(
    cfg: FitConfig,
    table: SampleTable,
    model: Any,
    save: Callable[[Path], None],
    card: dict,
    inputs_described: str,
    split: tuple | None = None,
) -> FitResult:
    """Score ``model`` (anything with ``predict_inputs(inputs, modality)``) on val and test once and write the
    run; ``save(folder)`` writes its ``model/``, ``card`` is what the manifest records of it, ``split`` the
    (split, leakage report) when the caller made them already."""
    started = now()
    if split is None:
        table, split, leakage = split_for_fit(cfg, table)
    else:
        split, leakage = split
    plugin = get_modality(table.modality)
    parts = {name: table.subset(idx) for name, idx in split.indices.items() if len(idx)}
    wanted = ("val", "test") if cfg.score_test else ("val",)
    scored = {name: (parts[name].targets, model.predict_inputs(parts[name].inputs, plugin)) for name in wanted}
    metrics = evaluate_splits(table.task, scored, cfg.seed, cfg.target_sensitivity)
    metrics["training"] = {"model": model.description}
    rows = [r for name, (y, p) in scored.items() for r in prediction_rows(table.task, parts[name].ids, name, y, p)]
    hashes = {name: table_hash(part, plugin.input_bytes) for name, part in parts.items()}
    run = RunDir.start(cfg.out_dir(), cfg.resume, cfg.overwrite)
    run.write_yaml("config.yaml", cfg.model_dump())
    manifest = build_manifest(cfg.seed, cfg.model_dump(), hashes, split.sizes(), card, started)
    run.write_json("manifest.json", manifest)
    run.write_json("data_summary.json", {
        "source": table.source, "modality": table.modality, "split_method": split.method,
        "sizes": {k: len(v) for k, v in parts.items()}, "class_counts": {k: v.class_counts() for k, v in parts.items()},
        "input_description": inputs_described, "leakage_audit": leakage.summary(),
    })  # fmt: skip
    run.write_json("audit.json", leakage.to_dict())
    trained_on = sorted({h for name in ("train", "val") for h in row_hashes(parts[name], plugin.input_bytes)})
    atomic_write_text(run.path(TRAINED_ON), "\n".join(trained_on) + "\n")
    write_predictions(rows, run.path("predictions.csv"))
    run.write_json("metrics.json", metrics)
    save(run.path("model"))
    run.write_json("manifest.json", {**manifest, "finished": now()})
    render_report(run.partial)
    return FitResult(run.finish(), metrics, model, cfg)
