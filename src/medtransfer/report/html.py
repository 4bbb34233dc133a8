"""Render ``report.html`` from the files of a run directory (so any finished run can be re-reported)."""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path

import numpy as np

from medtransfer.data.task import TaskSpec
from medtransfer.evaluation.predictions import prediction_arrays
from medtransfer.report import plots

METRIC_ORDER = (
    "auroc",
    "auprc",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "sensitivity",
    "specificity",
    "rmse",
    "mae",
    "r2",
    "spearman",
)


def render_report(run: Path) -> Path:
    """Write ``run/report.html``: data summary, metrics, curves, confusion matrix and a model card."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    metrics = json.loads((run / "metrics.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    model = json.loads((run / "model" / "model.json").read_text())
    summary = json.loads((run / "data_summary.json").read_text())
    task = model["task"]
    rows = _read_csv(run / "predictions.csv")
    test = [r for r in rows if r["split"] == "test"] or [r for r in rows if r["split"] == "val"]
    figures = _figures(task, test, _read_csv(run / "log.csv"), metrics)
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
    )
    html = env.get_template("report.html").render(
        run_name=run.name.removesuffix(".partial"),
        metrics=metrics,
        manifest=manifest,
        model=model,
        summary=summary,
        task=task,
        figures=figures,
        metric_names=_metric_names(metrics),
        details=metrics.get("details", {}).get("test", {}),
        gallery=_gallery(run),
    )
    out = run / "report.html"
    out.write_text(html, encoding="utf-8")
    # the same numbers for machines: metrics, data summary, model card
    card = {"backbone": model["backbone_card"], "head": model["head"], "preprocessing": model["preprocessing"]}
    report_json = {
        "run": run.name.removesuffix(".partial"),
        "metrics": metrics,
        "data": summary,
        "model": card,
        "intended_use": "research only; not a medical device",
    }
    (run / "report.json").write_text(json.dumps(report_json, indent=2), encoding="utf-8")
    return out


def _gallery(run: Path) -> dict | None:
    """The explained test cases (explanations/gallery/gallery.json) with their pictures inlined."""
    path = run / "explanations" / "gallery" / "gallery.json"
    if not path.is_file():
        return None
    gallery = json.loads(path.read_text())
    for case in gallery["cases"]:
        case["png"] = base64.b64encode((run / case["file"]).read_bytes()).decode("ascii")
    check = gallery.get("sanity")
    rho = (check or {}).get("rank_correlation")
    gallery["sanity_line"] = (
        f"Sanity check (model randomisation, Adebayo et al. 2018): rank correlation with a randomised model "
        f"{'n/a' if rho is None else f'{rho:.2f}'}: "
        f"{check.get('verdict') or ('passed' if check['passed'] else 'FAILED')}."
        if check
        else ""
    )
    return gallery


def _metric_names(metrics: dict) -> list[str]:
    present = set(metrics.get("val", {})) | set(metrics.get("test", {}))
    return [m for m in METRIC_ORDER if m in present]


def _figures(task: dict, rows: list[dict], log_rows: list[dict], metrics: dict) -> dict[str, str]:
    figs: dict[str, str] = {}
    if log_rows:
        figs["Training curves"] = plots.curves_plot([{k: float(v) for k, v in r.items() if v} for r in log_rows])
    if not rows:
        return figs
    names = task["class_names"]
    spec = TaskSpec.from_dict(task)
    y, probs = prediction_arrays(spec, rows)
    if task["kind"] == "regression":
        figs["Parity"] = plots.parity_plot(y, probs)
        figs["Residuals"] = plots.residual_plot(y, probs)
        return figs
    onehot = y if task["kind"] == "multilabel" else np.eye(len(names))[y]  # multi-label: NaN where missing
    if task["kind"] == "binary":  # one curve, for the positive class
        keep = [task["positive"]]
        onehot, probs, names = onehot[:, keep], probs[:, keep], [names[keep[0]]]
    figs["ROC curve"] = plots.roc_plot(onehot, probs, names)
    figs["Precision–recall curve"] = plots.pr_plot(onehot, probs, names)
    split = "test" if "test" in metrics else "val"
    bins = metrics.get("details", {}).get(split, {}).get("reliability")
    if bins:
        figs["Reliability diagram"] = plots.reliability_plot(bins, metrics["calibration"][split]["ece"])
    cm = metrics.get("details", {}).get("test", {}).get("confusion_matrix")
    if cm is not None:
        figs["Confusion matrix"] = plots.confusion_plot(np.array(cm), task["class_names"])
    return figs


def _read_csv(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))
