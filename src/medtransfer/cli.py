"""The command line: parses flags and calls the Python API. Errors a user can fix exit 2 with one line."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from medtransfer.errors import MedtransferError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Transfer learning for medicine: fine-tune, evaluate and use pretrained models.",
)

Opt = typer.Option


@app.command()
def fit(
    data: Annotated[str | None, Opt("--data", "-d", help="built-in dataset, folder, CSV or .npz")] = None,
    config: Annotated[Path | None, Opt("--config", "-c", help="YAML with the same settings; flags override")] = None,
    backbone: Annotated[
        str | None, Opt(help="registry name, timm:<arch> or file:<path> (default: the best for the data's kind)")
    ] = None,
    arch: Annotated[str | None, Opt(help="timm architecture for file:<path> backbones")] = None,
    pretrained: Annotated[bool | None, Opt("--pretrained/--no-pretrained", help="start from random weights")] = None,
    strategy: Annotated[str | None, Opt(help="linear_probe | partial | full | gradual | lora")] = None,
    unfreeze_blocks: Annotated[int | None, Opt(help="blocks trained by 'partial'")] = None,
    unfreeze_every: Annotated[int | None, Opt(help="epochs per unfrozen block for 'gradual'")] = None,
    pooling: Annotated[str | None, Opt(help="token transformers: mean (default) | cls")] = None,
    head: Annotated[str | None, Opt(help="mlp (GAP → 1024 ReLU → n) | linear")] = None,
    image_size: Annotated[int | None, Opt(help="input size in px (default: the backbone's)")] = None,
    augment: Annotated[str | None, Opt(help="none | light | strong")] = None,
    epochs: Annotated[int | None, Opt()] = None,
    min_steps: Annotated[int | None, Opt(help="small data: raise epochs until training takes this many steps")] = None,
    batch_size: Annotated[int | None, Opt()] = None,
    lr: Annotated[float | None, Opt(help="head learning rate; backbone blocks get less")] = None,
    backbone_lr_scale: Annotated[float | None, Opt(help="backbone lr = lr × this (top block)")] = None,
    layer_decay: Annotated[float | None, Opt(help="lr factor per block further from the output")] = None,
    weight_decay: Annotated[float | None, Opt()] = None,
    dropout: Annotated[float | None, Opt(help="dropout before the head's last layer")] = None,
    scheduler: Annotated[str | None, Opt(help="cosine | onecycle | none")] = None,
    class_weights: Annotated[bool | None, Opt("--class-weights/--no-class-weights")] = None,
    patience: Annotated[int | None, Opt(help="early-stopping patience in epochs")] = None,
    monitor: Annotated[str | None, Opt(help="val_loss | val_auroc")] = None,
    label_column: Annotated[str | None, Opt(help="label column(s) of a CSV; comma-separated = multi-label")] = None,
    path_column: Annotated[str | None, Opt()] = None,
    input_column: Annotated[str | None, Opt(help="SMILES / sequence column of a CSV (default: by name)")] = None,
    skip_invalid: Annotated[
        bool | None, Opt("--skip-invalid", help="drop invalid records (listed in dropped.csv) instead of stopping")
    ] = None,
    strip_salts: Annotated[bool | None, Opt("--strip-salts", help="molecules: keep the largest fragment")] = None,
    labels: Annotated[
        str | None, Opt(help="FASTA: side CSV with an id column (the header's first word) and --label-column")
    ] = None,
    label_pattern: Annotated[
        str | None, Opt(help="FASTA: regex whose group 1 is the label in each header (default label=(\\S+))")
    ] = None,
    iupac: Annotated[str | None, Opt(help="DNA ambiguity codes: n (to N) | keep | error")] = None,
    long_inputs: Annotated[
        str | None, Opt(help="sequences longer than the backbone reads: truncate | window (encode every window)")
    ] = None,
    split: Annotated[
        str | None, Opt(help="auto (predefined, else groups / scaffolds, else stratified) | random")
    ] = None,
    group_column: Annotated[str | None, Opt(help="patient / group id: no group in two splits")] = None,
    split_column: Annotated[str | None, Opt(help="column with train / val / test per row")] = None,
    subgroup_column: Annotated[str | None, Opt(help="attribute column(s), e.g. sex,site: metrics per subgroup")] = None,
    task: Annotated[str | None, Opt(help="binary | multiclass | multilabel | regression (default: inferred)")] = None,
    positive_class: Annotated[str | None, Opt(help="binary: the class sensitivity refers to")] = None,
    target_sensitivity: Annotated[
        float | None, Opt(help="binary: operating point reaching this sensitivity on validation (default Youden)")
    ] = None,
    calibrate: Annotated[str | None, Opt(help="none | temperature (fitted on validation)")] = None,
    val_fraction: Annotated[float | None, Opt()] = None,
    test_fraction: Annotated[float | None, Opt()] = None,
    max_train_samples: Annotated[int | None, Opt(help="subsample training data (low-data studies)")] = None,
    on_leak: Annotated[str | None, Opt(help="leakage between splits: error | warn | fix")] = None,
    seed: Annotated[int | None, Opt()] = None,
    seeds: Annotated[int | None, Opt(help="N runs (seed, seed+1, …) aggregated as mean ± sd")] = None,
    compare_scratch: Annotated[
        bool | None, Opt("--compare-scratch", help="also train from scratch; report the transfer gain")
    ] = None,
    gallery: Annotated[
        bool | None, Opt("--gallery/--no-gallery", help="report: explain the most confident right and wrong cases")
    ] = None,
    deterministic: Annotated[bool | None, Opt("--deterministic/--no-deterministic")] = None,
    out: Annotated[
        str | None, Opt("--out", "-o", help="run directory (default runs/<data>-<backbone>-<strategy>)")
    ] = None,
    resume: Annotated[bool | None, Opt("--resume/--no-resume", help="continue an interrupted run")] = None,
    overwrite: Annotated[bool | None, Opt("--overwrite/--no-overwrite")] = None,
    trust_checkpoint: Annotated[bool | None, Opt("--trust-checkpoint", help="allow pickled weights files")] = None,
    progress: Annotated[bool | None, Opt("--progress/--no-progress")] = None,
) -> None:
    """Fine-tune a pretrained backbone and write runs/<name>/ with metrics, predictions, model and report."""
    from medtransfer.api import fit as api_fit

    settings = {k: v for k, v in locals().items() if k not in ("config", "api_fit") and v is not None}
    result = api_fit(config=config, **settings)
    _print_metrics(result.metrics)
    typer.echo(f"run: {result.run_dir}  (report: {result.run_dir / 'report.html'})")


@app.command()
def pretrain(
    modality: Annotated[str, Opt(help="molecule | dna | protein")],
    corpus: Annotated[
        str, Opt(help="corpus file, or named (molecule: moses; dna: ecoli, augustus_splice; protein: uniprot20k)")
    ],
    out: Annotated[Path, Opt("--out", "-o", help="backbone folder to write (resumes when it holds a checkpoint)")],
    name: Annotated[str | None, Opt(help="backbone name in its card (default: the folder name)")] = None,
    tokenizer: Annotated[
        str | None, Opt(help="tokens: char (dna / protein default), kmer3–kmer6 (DNA), smiles_regex (molecules)")
    ] = None,
    exclude: Annotated[
        list[str] | None, Opt(help="dataset or FASTA whose sequences are cut out of the corpus (repeatable)")
    ] = None,
    hidden_size: Annotated[int, Opt()] = 256,
    layers: Annotated[int, Opt()] = 4,
    heads: Annotated[int, Opt()] = 4,
    intermediate_size: Annotated[int, Opt()] = 512,
    max_length: Annotated[int, Opt(help="tokens per input, longer ones truncated")] = 128,
    piece_length: Annotated[
        int | None, Opt(help="DNA / protein: corpus cut into pieces this long (default: --max-length − 2)")
    ] = None,
    steps: Annotated[int, Opt()] = 4000,
    batch_size: Annotated[int, Opt()] = 128,
    lr: Annotated[float, Opt()] = 5e-4,
    heldout: Annotated[int, Opt(help="texts held out to measure the masked-LM loss")] = 512,
    eval_every: Annotated[int, Opt()] = 250,
    save_every: Annotated[int, Opt(help="checkpoint every N steps")] = 100,
    seed: Annotated[int, Opt()] = 0,
    teacher: Annotated[
        str | None, Opt(help="distil: also regress this backbone's per-token states (same vocabulary, e.g. unirep_256)")
    ] = None,
    distill_weight: Annotated[float, Opt(help="weight of the distillation loss beside the masked-LM loss")] = 1.0,
    progress: Annotated[bool, Opt("--progress/--no-progress")] = True,
) -> None:
    """Pretrain the project's own encoder on unlabelled data (masked LM, optionally distilling a teacher); the
    folder is a --backbone."""
    from medtransfer.api import pretrain as api_pretrain

    settings = {
        k: v
        for k, v in locals().items()
        if k not in ("modality", "corpus", "out", "name", "tokenizer", "exclude", "progress", "api_pretrain")
    }
    folder = api_pretrain(
        modality, corpus, out, name=name, progress=progress, tokenizer=tokenizer, exclude=exclude or (), **settings
    )
    typer.echo(f"backbone: {folder}  (card: {folder / 'MODEL_CARD.md'}; use --backbone {folder})")


@app.command()
def evaluate(
    run: Annotated[Path, typer.Argument(help="a finished run directory")],
    data: Annotated[str, Opt("--data", "-d", help="built-in dataset, folder, CSV or .npz")],
    split: Annotated[str | None, Opt(help="train | val | test | all (default: test if present, else all)")] = None,
    label_column: Annotated[str, Opt()] = "label",
    out: Annotated[Path | None, Opt("--out", "-o", help="write metrics.json and predictions.csv here")] = None,
) -> None:
    """Score a saved model on data, with exactly the preprocessing it was trained with."""
    from medtransfer.api import evaluate as api_evaluate
    from medtransfer.evaluation.predictions import write_predictions

    result = api_evaluate(run, data, split=split, label_column=label_column)
    _print_metrics({"task": result["task"], result["data"]: result["metrics"]})
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2))
        write_predictions(result["rows"], out / "predictions.csv")
        typer.echo(f"written: {out}")


@app.command()
def predict(
    run: Annotated[Path, typer.Argument(help="a finished run directory")],
    inputs: Annotated[list[Path], Opt("--input", "-i", help="image files, folders, or a CSV with a path column")],
    out: Annotated[Path | None, Opt("--out", "-o", help="CSV to write (default: print)")] = None,
) -> None:
    """Predict new inputs with a saved model."""
    from medtransfer.api import predict as api_predict
    from medtransfer.evaluation.predictions import write_predictions

    rows = api_predict(run, inputs)
    if out:
        write_predictions(rows, out)
        typer.echo(f"{len(rows)} predictions written to {out}")
    else:
        for r in rows:
            typer.echo(f"{r['id']}\t{r['prediction']}")


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="first finished run")],
    run_b: Annotated[Path, typer.Argument(help="second finished run, scored on the same data")],
    split: Annotated[str, Opt(help="split of predictions.csv to compare")] = "test",
    out: Annotated[Path | None, Opt("--out", "-o", help="write the comparison as JSON")] = None,
) -> None:
    """Do two models differ on the same test set? Paired bootstrap per metric, DeLong for AUROC."""
    from rich.console import Console
    from rich.table import Table

    from medtransfer.api import compare as api_compare

    result = api_compare(run_a, run_b, split=split)
    table = Table("metric", "A", "B", "A − B [95% CI]", "p", title=f"{result['n']} shared {split} samples")
    for name, r in result["paired_bootstrap"].items():
        ci = r["difference_ci"]
        interval = f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else ""
        table.add_row(
            name, f"{r['a']:.3f}", f"{r['b']:.3f}", f"{r['difference']:+.3f}{interval}", f"{r['p_value']:.3g}"
        )
    console = Console()
    console.print(table)
    if "delong" in result:
        d = result["delong"]
        console.print(
            f"DeLong: AUROC {d['auroc_a']:.3f} vs {d['auroc_b']:.3f}, z = {d['z']:.2f}, p = {d['p_value']:.3g}"
        )
    if out:
        out.write_text(json.dumps(result, indent=2))


@app.command()
def audit(
    data: Annotated[str, Opt("--data", "-d", help="built-in dataset, folder, CSV or .npz")],
    label_column: Annotated[str, Opt()] = "label",
    group_column: Annotated[str | None, Opt()] = None,
    label_pattern: Annotated[str | None, Opt(help="FASTA: regex whose group 1 is the label in each header")] = None,
    labels: Annotated[str | None, Opt(help="FASTA: side CSV of labels joined on the record id")] = None,
    split: Annotated[str | None, Opt(help="auto | random: the split a fit would use")] = None,
    seed: Annotated[int, Opt()] = 0,
    out: Annotated[Path | None, Opt("--out", "-o", help="write the audit as JSON")] = None,
) -> None:
    """Leakage audit of the split a fit would use: duplicates, near-duplicates, shared patients, label conflicts."""
    from medtransfer.api import audit as api_audit

    given = {"label_pattern": label_pattern, "labels": labels, "split": split}
    report = api_audit(
        data,
        seed=seed,
        label_column=label_column,
        group_column=group_column,
        **{k: v for k, v in given.items() if v is not None},
    )
    typer.echo(report["summary"])
    for kind in ("exact_duplicates", "near_duplicates", "shared_groups", "conflicting_labels"):
        for item in report[kind][:10]:
            typer.echo(f"  {kind}: {item}")
    if out:
        out.write_text(json.dumps(report, indent=2))


@app.command()
def backbones() -> None:
    """List built-in backbones with weight source and licence."""
    from medtransfer.api import backbones as api_backbones

    _table(
        api_backbones(),
        ("name", "modality", "source", "licence", "params"),
        "also: timm:<architecture> (online) and file:<path> --arch <architecture>",
    )


@app.command()
def datasets() -> None:
    """List built-in datasets with task, size and licence."""
    from medtransfer.api import datasets as api_datasets
    from medtransfer.data.catalog import data_dir

    _table(
        api_datasets(),
        ("name", "modality", "task", "classes", "size", "licence"),
        f"data folder: {data_dir()} (set MEDTRANSFER_DATA); missing files download with their md5",
    )


@app.command()
def explain(
    run: Annotated[Path, typer.Argument(help="a finished run directory")],
    inputs: Annotated[list[Path], Opt("--input", "-i", help="files, folders, a CSV or a .smi / .sdf of inputs")],
    out: Annotated[Path, Opt("--out", "-o", help="folder for the pictures and index.html")],
    method: Annotated[str | None, Opt(help="grad_cam | integrated_gradients | occlusion (default: per model)")] = None,
    target: Annotated[str | None, Opt(help="class to explain (default: the predicted class)")] = None,
    sanity: Annotated[bool, Opt(help="run the model-randomisation sanity check")] = True,
) -> None:
    """Explain predictions: one picture per input plus index.html."""
    from medtransfer.api import explain as api_explain
    from medtransfer.explanations.explain_run import sanity_line

    result = api_explain(run, inputs, method, out, target, sanity)
    typer.echo(sanity_line(result.sanity))
    typer.echo(f"{len(result.explanations)} explanations written to {result.out_dir / 'index.html'}")


@app.command()
def report(run: Annotated[Path, typer.Argument(help="a run directory")]) -> None:
    """Re-render report.html of a finished run."""
    from medtransfer.report import render_report

    typer.echo(str(render_report(run)))


def _table(rows: list[dict], columns: tuple[str, ...], footer: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns)
    for r in rows:
        table.add_row(*(str(r.get(c, "")) for c in columns))
    console = Console()
    console.print(table)
    console.print(footer)


def _print_metrics(metrics: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    skip = {
        "details",
        "training",
        "calibration",
        "operating_point",
        "baselines",
        "versus_baseline",
        "subgroups",
        "val_per_seed",
        "test_per_seed",
    }
    splits = [k for k, v in metrics.items() if isinstance(v, dict) and k not in skip]
    names = sorted({m for s in splits for m in metrics[s] if not m.endswith("_ci")})
    table = Table("metric", *splits, title=f"{metrics.get('task', '')} metrics (95% bootstrap CI)")
    for m in names:
        table.add_row(m, *(_with_ci(metrics[s], m) for s in splits))
    Console().print(table)
    for name, b in metrics.get("baselines", {}).items():
        shown = ", ".join(f"{k} {b[k]:.3f}" for k in ("auroc", "accuracy", "rmse") if k in b)
        Console().print(f"baseline {name}: {shown}")
    versus = metrics.get("versus_baseline")
    if versus:
        ci = versus["difference_ci"]
        interval = f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else ""
        Console().print(
            f"this model − baseline ({versus['metric']}): {versus['difference']:+.3f}{interval}: {versus['verdict']}"
        )
    gain = metrics.get("transfer_gain")
    if gain:
        ci = gain["difference_ci"]
        interval = f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else ""
        Console().print(f"transfer gain ({gain['metric']}): {gain['difference']:+.3f}{interval}: {gain['verdict']}")
    point = metrics.get("operating_point")
    if point and "threshold" in point:
        test = point.get("test", {})
        Console().print(
            f"operating point ({point['method']}, chosen on validation): threshold {point['threshold']:.3f} → "
            + ", ".join(f"{k} {test[k]:.3f}" for k in ("sensitivity", "specificity", "ppv", "npv") if k in test)
            + " on test"
        )


def _with_ci(values: dict, name: str) -> str:
    if name not in values:
        return "–"
    ci = values.get(f"{name}_ci")
    return f"{values[name]:.4f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def _configure_logging() -> None:
    from rich.logging import RichHandler

    handler = RichHandler(show_time=False, show_path=False)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", handlers=[handler])
    logging.getLogger("medtransfer").setLevel(logging.INFO)
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)


def main() -> None:
    """Console entry point: a MedtransferError becomes one line on stderr and exit status 2."""
    _configure_logging()
    try:
        app(standalone_mode=False)
    except MedtransferError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:  # click's usage errors: print like click does, exit 2
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
