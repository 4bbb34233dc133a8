"""The fit pipeline: data → backbone + head → strategy → training → evaluation → run directory → report.

This is the one place that wires the stages together; the CLI and the Python API both call ``run_fit``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from medtransfer.adapt.head import HeadSpec
from medtransfer.adapt.model import TransferModel
from medtransfer.adapt.saved_model import save_model
from medtransfer.backbones.registry import create_backbone
from medtransfer.config import FitConfig
from medtransfer.data.hashing import row_hashes, table_hash
from medtransfer.data.modality import Fingerprints, Modality, backbone_modalities, get_modality
from medtransfer.data.sources import read_data
from medtransfer.data.splits import Split, make_split, subsample_train
from medtransfer.data.table import SampleTable
from medtransfer.errors import ConfigError
from medtransfer.evaluation.baselines import baseline_metrics
from medtransfer.evaluation.calibration import fit_temperature
from medtransfer.evaluation.clinical import evaluate_splits, subgroup_metrics
from medtransfer.evaluation.metrics import probabilities
from medtransfer.evaluation.predictions import prediction_rows, write_dropped, write_predictions
from medtransfer.explanations.gallery import write_gallery
from medtransfer.leakage_audit import LeakageReport, audit_split, resolve_leaks
from medtransfer.report.html import render_report
from medtransfer.run.manifest import build_manifest, now, resumable_manifest
from medtransfer.run.rundir import TRAINED_ON, RunDir, atomic_write_text
from medtransfer.run.seeding import derive_seed, seeded_torch
from medtransfer.strategies.strategy import Strategy, create_strategy
from medtransfer.train.devices import accelerator_device, is_writer
from medtransfer.train.feature_cache import backbone_features
from medtransfer.train.loop import TrainData, train_model, write_log_csv
from medtransfer.train.predict import model_outputs, on_device

log = logging.getLogger("medtransfer")


@dataclass
class FitResult:
    """What ``fit`` returns: where the run is, its metrics and the fitted model (in eval mode)."""

    run_dir: Path
    metrics: dict
    model: TransferModel
    config: FitConfig

    def __repr__(self) -> str:
        test = self.metrics.get("test", {})
        shown = ", ".join(f"{k}={v:.3f}" for k, v in test.items() if k in ("auroc", "accuracy", "rmse"))
        return f"FitResult(run_dir='{self.run_dir}', test: {shown or 'n/a'})"


def run_fit(cfg: FitConfig, table: SampleTable | None = None) -> FitResult:
    """Validate everything first, then train and write the run directory atomically.

    Every random draw (initial weights, shuffling, augmentation, dropout) comes from ``cfg.seed``; the
    caller's global generators are left as they were."""
    with seeded_torch(derive_seed(cfg.seed, "fit")), on_device(accelerator_device(cfg.accelerator)):
        if not is_writer():  # a rank launched beside rank 0 (torchrun, srun, Lightning's ddp): it only trains
            return _train_beside_rank_zero(cfg, table)
        return _run_fit(cfg, table)


def split_for_fit(cfg: FitConfig, table: SampleTable | None = None) -> tuple[SampleTable, Split, LeakageReport]:
    """The data read, split and audited as a fit does it, with ``--on-leak`` applied."""
    (table, split), leakage, prints = audit_data(cfg, table)
    split = Split(resolve_leaks(table, split.indices, leakage, cfg.on_leak, prints), split.method)
    if leakage.moved:
        split.method += f"; leakage fix moved {len(leakage.moved)} samples"
    elif leakage.leaks:
        log.warning("leakage between splits: %s (see audit.json; --on-leak fix|error)", leakage.summary())
    return table, split, leakage


def _run_fit(cfg: FitConfig, table: SampleTable | None, train_in: Path | None = None) -> FitResult:
    """The fit; with ``train_in`` (ranks 1…) it stops after training, whose checkpoints are rank 0's in that folder."""
    started = now()
    table, split, leakage = split_for_fit(cfg, table)
    parts = {name: table.subset(idx) for name, idx in split.indices.items() if len(idx)}
    modality = get_modality(table.modality)
    strategy = create_strategy(cfg.strategy, cfg.unfreeze_blocks, cfg.unfreeze_every)
    backbone = create_backbone(
        cfg.backbone,
        cfg.pretrained,
        arch=cfg.arch,
        trust_pickle=cfg.trust_checkpoint,
        trust_remote_code=cfg.trust_remote_code,
        seed=cfg.seed,
        **modality.backbone_kwargs(table),
    )
    if cfg.pooling:
        backbone.set_pooling(cfg.pooling)
    if backbone.card.modality not in backbone_modalities(modality):
        raise ConfigError(
            f"backbone {cfg.backbone} reads {backbone.card.modality} data but {cfg.data} is {table.modality} data. "
            f"Pick a {table.modality} backbone: medtransfer backbones."
        )
    settings = {"image_size": cfg.image_size, "augment": cfg.augment, "long_inputs": cfg.long_inputs, "tta": cfg.tta}
    pre = modality.preprocessing(backbone.card, table, settings)
    if cfg.tta != "none" and pre.get("tta") != cfg.tta:
        raise ConfigError(f"--tta {cfg.tta} applies to images; {table.modality} data has no test-time views.")
    model = TransferModel(backbone, HeadSpec(cfg.head, cfg.head_hidden, cfg.dropout), table.task.num_outputs)
    model.test_time_flip = pre.get("tta") == "flip"
    if table.task.kind == "regression":
        y = torch.as_tensor(parts["train"].targets, dtype=torch.float32)
        model.target_mean.fill_(float(y.mean()))
        model.target_std.fill_(float(y.std().clamp(min=1e-8)))
    hashes = {name: table_hash(part, modality.input_bytes) for name, part in parts.items()}

    summary = {  # computed before the run directory exists: a table that cannot be summarised leaves none
        "source": table.source,
        "modality": table.modality,
        "split_method": split.method,
        "sizes": {k: len(v) for k, v in parts.items()},
        "class_counts": {k: v.class_counts() for k, v in parts.items()},
        "input_description": modality.describe(table, pre),
        "leakage_audit": leakage.summary(),
    }
    recorded = resumable_manifest(cfg.out_dir(), cfg.model_dump(), hashes) if cfg.resume else None
    if recorded and recorded.get("finished") and cfg.resume and cfg.out_dir().is_dir():
        log.info("%s is finished with this config and data: kept as it is", cfg.out_dir())
        return load_result(cfg.out_dir(), cfg)
    run = RunDir.start(cfg.out_dir(), cfg.resume, cfg.overwrite)
    run.write_yaml("config.yaml", cfg.model_dump())
    manifest = build_manifest(cfg.seed, cfg.model_dump(), hashes, split.sizes(), backbone.card.to_dict(), started)
    if recorded:
        manifest["started"], manifest["resumed"] = recorded["started"], [*recorded.get("resumed", []), started]
    run.write_json("manifest.json", manifest)
    run.write_json("data_summary.json", summary)
    run.write_json("audit.json", leakage.to_dict())
    trained_on = sorted({h for name in ("train", "val") for h in row_hashes(parts[name], modality.input_bytes)})
    atomic_write_text(run.path(TRAINED_ON), "\n".join(trained_on) + "\n")  # evaluate warns on overlap
    if table.dropped:
        write_dropped(table.dropped, run.path("dropped.csv"))

    data = TrainData(
        train=modality.dataset(parts["train"].inputs, parts["train"].targets, pre, train=True),
        train_plain=modality.dataset(parts["train"].inputs, parts["train"].targets, pre, train=False),
        val=modality.dataset(parts["val"].inputs, parts["val"].targets, pre, train=False),
        train_targets=parts["train"].targets,
        val_targets=parts["val"].targets,
        preprocessing=pre,
        data_hashes=hashes,
    )
    outcome = train_model(model, table.task, strategy, data, cfg, train_in or run.partial)
    if train_in is not None:
        return FitResult(train_in, {}, model, cfg)
    write_log_csv(outcome.log_rows, run.path("log.csv"))
    model.eval()

    metrics, rows = _score(model, strategy, modality, parts, pre, hashes, cfg, table)
    metrics["training"] = {
        "best_epoch": outcome.best_epoch,
        "epochs_run": outcome.epochs_run,
        "monitor": outcome.monitor,
        "best_score": outcome.best_score,
        **outcome.schedule,
    }
    write_predictions(rows, run.path("predictions.csv"))
    run.write_json("metrics.json", metrics)
    save_model(
        model,
        run.path("model"),
        {"name": cfg.backbone, "arch": cfg.arch, **modality.backbone_kwargs(table)},
        table.task,
        pre,
    )
    if cfg.gallery and cfg.score_test and "test" in parts:
        write_gallery(run.partial, parts["test"].inputs, [r for r in rows if r["split"] == "test"])
    run.write_json("manifest.json", {**manifest, "finished": now()})
    render_report(run.partial)
    final = run.finish()
    log.info("run written to %s", final)
    return FitResult(final, metrics, model, cfg)


def _train_beside_rank_zero(cfg: FitConfig, table: SampleTable | None) -> FitResult:
    """Ranks 1… run the same fit with a scratch run folder that is deleted afterwards. Their training works in
    rank 0's folder, where Lightning writes checkpoints and logs from rank 0 only and every rank resumes from the
    same checkpoint. No metrics: rank 0 scores the whole validation and test splits once."""
    import shutil
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="medtransfer-rank-"))
    try:
        update = {"out": str(scratch / "run")}
        trained = _run_fit(cfg.model_copy(update=update), table, train_in=RunDir(cfg.out_dir()).partial)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return FitResult(cfg.out_dir(), {}, trained.model, cfg)


def load_result(run_dir: Path, cfg: FitConfig) -> FitResult:
    """A finished run directory as the ``FitResult`` that wrote it (e.g. a sub-run skipped on resume)."""
    import json

    from medtransfer.adapt.saved_model import load_model

    model, _ = load_model(run_dir / "model")
    return FitResult(run_dir, json.loads((run_dir / "metrics.json").read_text()), model, cfg)


def replay_split(run_dir: Path, split: str | None) -> tuple[SampleTable, str]:
    """The rows of ``split`` (default test; ``all`` for every row) exactly as the run at ``run_dir`` split its
    own data: the same read options, seed, subsampling and leakage fix. Returns them and the split's name."""
    import yaml

    cfg = FitConfig(**yaml.safe_load((run_dir / "config.yaml").read_text()))
    table, split_, _ = split_for_fit(cfg)
    indices = split_.indices
    if split == "all":
        return table.subset(np.sort(np.concatenate(list(indices.values())))), "all"
    wanted = split or ("test" if len(indices.get("test", [])) else "val")
    if wanted not in indices or not len(indices[wanted]):
        raise ConfigError(f"{run_dir} has no {wanted!r} split; choose train, val, test or all.")
    return table.subset(indices[wanted]), wanted


def with_default_backbone(cfg: FitConfig, table: SampleTable | None = None) -> tuple[FitConfig, SampleTable]:
    """``cfg`` with its data modality's default backbone, and the data read to learn that modality."""
    table = table or read_data(cfg.data, cfg.read_options())
    backbone = get_modality(table.modality).default_backbone
    log.info("backbone: %s, the default for %s data (--backbone to choose another)", backbone, table.modality)
    return cfg.model_copy(update={"backbone": backbone}), table


def audit_data(
    cfg: FitConfig, table: SampleTable | None = None
) -> tuple[tuple[SampleTable, Split], LeakageReport, Fingerprints]:
    """Read and split the data as a fit would, then audit that split for leakage (with the fingerprints used)."""
    table = _with_positive_class(table or read_data(cfg.data, cfg.read_options()), cfg.positive_class)
    _check_monitor(cfg, table)
    if cfg.split == "random":
        table = replace(table, groups=None)
    split = make_split(table, cfg.val_fraction, cfg.test_fraction, cfg.seed)
    split = subsample_train(table, split, cfg.max_train_samples, cfg.seed)
    prints = get_modality(table.modality).fingerprints(table.inputs)
    return (table, split), audit_split(table, split.indices, prints), prints


def _score(
    model: TransferModel,
    strategy: Strategy,
    modality: Modality,
    parts: dict[str, SampleTable],
    pre: dict,
    hashes: dict[str, str],
    cfg: FitConfig,
    table: SampleTable,
) -> tuple[dict, list[dict]]:
    """Score val and test once with the selected model: metrics with CIs, calibration, baselines, subgroups."""
    task = table.task
    scored_splits = ("val", "test") if cfg.score_test else ("val",)
    evaluated = {name: parts[name] for name in scored_splits if name in parts}
    outputs = {
        name: _outputs(
            model, strategy, modality.dataset(part.inputs, part.targets, pre, train=False), pre, hashes[name]
        )
        for name, part in evaluated.items()
    }
    temperature = None
    if cfg.calibrate == "temperature" and task.is_classification:
        temperature = fit_temperature(outputs["val"], evaluated["val"].targets)
        model.temperature.fill_(temperature)  # saved with the model, so predict applies it too
        outputs = {name: out / temperature for name, out in outputs.items()}
    scored, rows = {}, []
    for name, part in evaluated.items():
        probs = probabilities(task, outputs[name])
        scored[name] = (part.targets, probs)
        rows += prediction_rows(task, part.ids, name, part.targets, probs)
    metrics = evaluate_splits(task, scored, cfg.seed, cfg.target_sensitivity)
    if temperature is not None:
        metrics["calibration"]["temperature"] = temperature
    if "test" in scored and evaluated["test"].attributes:
        metrics["subgroups"] = subgroup_metrics(task, *scored["test"], evaluated["test"].attributes, cfg.seed)
    if "test" in evaluated:
        train, test = parts["train"], parts["test"]
        metrics["baselines"], versus = baseline_metrics(
            task,
            modality.simple_features_name,
            modality.simple_features(train.inputs),
            train.targets,
            modality.simple_features(test.inputs),
            test.targets,
            scored["test"][1],
            estimator=f"tabpfn:{cfg.tabpfn}" if cfg.tabpfn else modality.baseline_estimator,
            seed=cfg.seed,
        )
        if versus:
            metrics["versus_baseline"] = versus
    return metrics, rows


def _outputs(model: TransferModel, strategy: Strategy, ds, pre: dict, data_hash: str) -> np.ndarray:
    """Model outputs on a split; a linear probe reads its cached features instead of re-running the backbone."""
    if not strategy.uses_feature_cache or model.test_time_flip:  # mirrored views have no cached features
        return model_outputs(model, ds)
    feats = backbone_features(model.backbone, ds, pre, data_hash)
    with torch.inference_mode():
        return np.concatenate([model.head_forward(chunk).numpy() for chunk in feats.chunks()])


def _with_positive_class(table: SampleTable, positive: str | None) -> SampleTable:
    if positive is None:
        return table
    names = table.task.class_names
    if table.task.kind != "binary":
        raise ConfigError(f"--positive-class applies to binary tasks; this one is {table.task.kind}.")
    if positive not in names:
        raise ConfigError(f"--positive-class {positive!r} is not a class; classes are: {', '.join(names)}.")
    return replace(table, task=replace(table.task, positive=names.index(positive)))


def _check_monitor(cfg: FitConfig, table: SampleTable) -> None:
    if cfg.monitor == "val_auroc" and not table.task.is_classification:
        raise ConfigError(
            f"--monitor val_auroc needs a binary or multiclass task; this is {table.task.kind}. Use --monitor val_loss."
        )
