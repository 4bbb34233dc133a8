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


DATA, MODEL, TRAIN, EVAL, RUN = "Data", "Model and strategy", "Training", "Evaluation", "Run"
STRATEGY_NAMES = "linear_probe, partial, full, gradual, lora"  # the strategy registry's keys (tested)
AUTO_BUDGET = "10m"  # fit's search budget when neither backbone nor strategy is given: a laptop's coffee break


def _fit_opt(field: str, panel: str, help: str = "", *flags: str) -> typer.models.OptionInfo:
    """An option for a FitConfig field: its effective default and its valid choices shown in --help.

    Every option defaults to None so a YAML config can layer underneath; the default shown is FitConfig's."""
    from typing import Literal, get_args, get_origin

    from medtransfer.config import FitConfig

    info = FitConfig.model_fields[field]
    args = [info.annotation, *get_args(info.annotation)]
    choices = next((get_args(a) for a in args if get_origin(a) is Literal), ())
    default = info.default
    shown = default if type(default) in (int, float) else {True: "on", False: "off", None: "auto"}.get(default, default)
    text = help + (f" (one of: {', '.join(map(str, choices))})" if choices else "")  # [...] is rich markup
    return Opt(*flags, help=text, show_default=str(shown), rich_help_panel=panel)


@app.command()
def fit(
    data: Annotated[str | None, Opt("--data", "-d", help="built-in dataset (medtransfer datasets), folder, CSV, "
                                    ".npz, FASTA or SDF", rich_help_panel=DATA)] = None,  # fmt: skip
    label_column: Annotated[str | None, _fit_opt("label_column", DATA, "label column(s) of a CSV; a,b = multi-label")] = None,  # noqa: E501
    path_column: Annotated[str | None, _fit_opt("path_column", DATA, "image path column (auto: path / image / file)")] = None,  # noqa: E501
    input_column: Annotated[str | None, _fit_opt("input_column", DATA, "SMILES / sequence column (auto: by name)")] = None,  # noqa: E501
    skip_invalid: Annotated[bool | None, _fit_opt("skip_invalid", DATA, "drop invalid records (listed in dropped.csv) instead of stopping", "--skip-invalid")] = None,  # noqa: E501
    strip_salts: Annotated[bool | None, _fit_opt("strip_salts", DATA, "molecules: keep the largest fragment", "--strip-salts")] = None,  # noqa: E501
    labels: Annotated[str | None, _fit_opt("labels", DATA, "FASTA: side CSV with an id column and --label-column")] = None,  # noqa: E501
    label_pattern: Annotated[str | None, _fit_opt("label_pattern", DATA, "FASTA: regex whose group 1 is the label (auto: label=(\\S+))")] = None,  # noqa: E501
    iupac: Annotated[str | None, _fit_opt("iupac", DATA, "DNA ambiguity codes: to N, kept, or refused")] = None,
    long_inputs: Annotated[str | None, _fit_opt("long_inputs", DATA, "sequences longer than the backbone reads")] = None,  # noqa: E501
    split: Annotated[str | None, _fit_opt("split", DATA, "auto: predefined, else groups / scaffolds / clusters, else stratified")] = None,  # noqa: E501
    group_column: Annotated[str | None, _fit_opt("group_column", DATA, "patient / group id: no group in two splits")] = None,  # noqa: E501
    split_column: Annotated[str | None, _fit_opt("split_column", DATA, "column with train / val / test per row")] = None,  # noqa: E501
    val_fraction: Annotated[float | None, _fit_opt("val_fraction", DATA)] = None,
    test_fraction: Annotated[float | None, _fit_opt("test_fraction", DATA)] = None,
    max_train_samples: Annotated[int | None, _fit_opt("max_train_samples", DATA, "subsample training data (low-data studies)")] = None,  # noqa: E501
    on_leak: Annotated[str | None, _fit_opt("on_leak", DATA, "leakage between splits")] = None,
    task: Annotated[str | None, _fit_opt("task", DATA, "auto: inferred from the labels")] = None,
    backbone: Annotated[str | None, _fit_opt("backbone", MODEL, "registry name (medtransfer backbones), hf:<repo>, timm:<arch>, file:<path>, or a folder; auto: the data's default")] = None,  # noqa: E501
    arch: Annotated[str | None, _fit_opt("arch", MODEL, "timm architecture for file:<path> backbones")] = None,
    pretrained: Annotated[bool | None, _fit_opt("pretrained", MODEL, "start from the pretrained weights", "--pretrained/--no-pretrained")] = None,  # noqa: E501
    strategy: Annotated[str | None, _fit_opt("strategy", MODEL, f"what trains (one of: {STRATEGY_NAMES})")] = None,
    unfreeze_blocks: Annotated[int | None, _fit_opt("unfreeze_blocks", MODEL, "blocks trained by 'partial'")] = None,  # noqa: E501
    unfreeze_every: Annotated[int | None, _fit_opt("unfreeze_every", MODEL, "epochs per unfrozen block for 'gradual'")] = None,  # noqa: E501
    pooling: Annotated[str | None, _fit_opt("pooling", MODEL, "token transformers (auto: mean)")] = None,
    head: Annotated[str | None, _fit_opt("head", MODEL, "mlp: GAP → Dense(1024, ReLU) → Dense(n); linear: Dense(n)")] = None,  # noqa: E501
    head_hidden: Annotated[int | None, _fit_opt("head_hidden", MODEL, "width of the mlp head's hidden layer")] = None,  # noqa: E501
    dropout: Annotated[float | None, _fit_opt("dropout", MODEL, "dropout before the head's last layer")] = None,
    image_size: Annotated[int | None, _fit_opt("image_size", MODEL, "input size in px (auto: the backbone's)")] = None,  # noqa: E501
    augment: Annotated[str | None, _fit_opt("augment", TRAIN, "training augmentation")] = None,
    epochs: Annotated[int | None, _fit_opt("epochs", TRAIN)] = None,
    min_steps: Annotated[int | None, _fit_opt("min_steps", TRAIN, "small data: raise epochs until training takes this many steps")] = None,  # noqa: E501
    batch_size: Annotated[int | None, _fit_opt("batch_size", TRAIN)] = None,
    lr: Annotated[float | None, _fit_opt("lr", TRAIN, "head learning rate; pretrained blocks get less")] = None,
    backbone_lr_scale: Annotated[float | None, _fit_opt("backbone_lr_scale", TRAIN, "backbone lr = lr × this at the top block (auto: the card's, else 0.1)")] = None,  # noqa: E501
    layer_decay: Annotated[float | None, _fit_opt("layer_decay", TRAIN, "lr factor per block further from the output (auto: the card's, else 0.8)")] = None,  # noqa: E501
    weight_decay: Annotated[float | None, _fit_opt("weight_decay", TRAIN)] = None,
    scheduler: Annotated[str | None, _fit_opt("scheduler", TRAIN)] = None,
    class_weights: Annotated[bool | None, _fit_opt("class_weights", TRAIN, "weight classes by inverse frequency", "--class-weights/--no-class-weights")] = None,  # noqa: E501
    patience: Annotated[int | None, _fit_opt("patience", TRAIN, "early-stopping patience in validations")] = None,
    monitor: Annotated[str | None, _fit_opt("monitor", TRAIN, "validation metric for early stopping and the checkpoint")] = None,  # noqa: E501
    subgroup_column: Annotated[str | None, _fit_opt("subgroup_column", EVAL, "attribute column(s), e.g. sex,site: metrics per subgroup")] = None,  # noqa: E501
    positive_class: Annotated[str | None, _fit_opt("positive_class", EVAL, "binary: the class sensitivity refers to")] = None,  # noqa: E501
    target_sensitivity: Annotated[float | None, _fit_opt("target_sensitivity", EVAL, "binary: operating point reaching this sensitivity on validation (auto: Youden)")] = None,  # noqa: E501
    calibrate: Annotated[str | None, _fit_opt("calibrate", EVAL, "temperature: fitted on validation")] = None,
    seeds: Annotated[int | None, _fit_opt("seeds", EVAL, "N runs (seed, seed+1, …) aggregated as mean ± sd")] = None,  # noqa: E501
    compare_scratch: Annotated[bool | None, _fit_opt("compare_scratch", EVAL, "also train the same architecture from scratch (every weight); report the transfer gain", "--compare-scratch")] = None,  # noqa: E501
    gallery: Annotated[bool | None, _fit_opt("gallery", EVAL, "report: explain the most confident right and wrong cases", "--gallery/--no-gallery")] = None,  # noqa: E501
    seed: Annotated[int | None, _fit_opt("seed", RUN, "every random draw derives from it")] = None,
    config: Annotated[
        Path | None, Opt("--config", "-c", help="YAML with the same settings; flags override", rich_help_panel=RUN)
    ] = None,
    out: Annotated[str | None, _fit_opt("out", RUN, "run directory (auto: runs/<data>-<backbone>-<strategy>)", "--out", "-o")] = None,  # noqa: E501
    resume: Annotated[bool | None, _fit_opt("resume", RUN, "continue an interrupted run (refused if its config or data changed)", "--resume/--no-resume")] = None,  # noqa: E501
    overwrite: Annotated[bool | None, _fit_opt("overwrite", RUN, "replace a finished run at --out", "--overwrite/--no-overwrite")] = None,  # noqa: E501
    deterministic: Annotated[bool | None, _fit_opt("deterministic", RUN, "deterministic kernels", "--deterministic/--no-deterministic")] = None,  # noqa: E501
    trust_checkpoint: Annotated[bool | None, _fit_opt("trust_checkpoint", RUN, "allow pickled weight files (file:<path>.pt)", "--trust-checkpoint")] = None,  # noqa: E501
    trust_remote_code: Annotated[bool | None, _fit_opt("trust_remote_code", RUN, "let an hf: model run its own Python code (e.g. DNABERT-2)", "--trust-remote-code")] = None,  # noqa: E501
    progress: Annotated[bool | None, _fit_opt("progress", RUN, "progress bars", "--progress/--no-progress")] = None,  # noqa: E501
    budget: Annotated[str, Opt(help="with neither --backbone nor --strategy (nor either in --config), fit searches "
                               "them as medtransfer auto does, within this wall-clock budget", rich_help_panel=MODEL)
                      ] = AUTO_BUDGET,  # fmt: skip
) -> None:
    """Fine-tune a pretrained backbone and write runs/<name>/ with metrics, predictions, model and report.

    Without --backbone and --strategy, fit chooses both on validation within --budget (medtransfer auto)."""
    from medtransfer.api import fit as api_fit
    from medtransfer.api import searches

    settings = {k: v for k, v in locals().items() if k not in ("config", "api_fit", "searches", "budget")
                and v is not None}  # fmt: skip
    if searches(config, settings):
        note = "no --backbone or --strategy: choosing both on validation within %s (as auto does); name them to fit one"
        logging.getLogger("medtransfer").info(note, budget)
        _auto(settings.pop("progress", True), config, budget=budget, **settings)
        return
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
    split: Annotated[
        str | None, Opt(help="train, val, test or all (default: the run's own test split on its own data; else the "
                        "data's test split, else all)")  # fmt: skip
    ] = None,
    label_column: Annotated[str | None, Opt(help="default: the run's")] = None,
    input_column: Annotated[str | None, Opt(help="default: the run's")] = None,
    path_column: Annotated[str | None, Opt(help="default: the run's")] = None,
    label_pattern: Annotated[str | None, Opt(help="FASTA: default: the run's")] = None,
    labels: Annotated[str | None, Opt(help="FASTA side labels CSV: default: the run's")] = None,
    out: Annotated[Path | None, Opt("--out", "-o", help="write metrics.json and predictions.csv here")] = None,
) -> None:
    """Score a saved model on data, with exactly the preprocessing and read options it was trained with; on the
    run's own data its own split is replayed, so the test split is the rows it never saw."""
    from medtransfer.api import evaluate as api_evaluate
    from medtransfer.evaluation.predictions import write_predictions

    result = api_evaluate(run, data, split=split, label_column=label_column, input_column=input_column,
                          path_column=path_column, label_pattern=label_pattern, labels_file=labels)  # fmt: skip
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
    skip_invalid: Annotated[
        bool, Opt("--skip-invalid", help="leave invalid inputs out (listed in <out>.invalid.csv) instead of stopping")
    ] = False,
) -> None:
    """Predict new inputs with a saved model."""
    from medtransfer.api import predict as api_predict
    from medtransfer.evaluation.predictions import write_predictions

    invalid = out.with_suffix(".invalid.csv") if out else None
    rows = api_predict(run, inputs, skip_invalid=skip_invalid, invalid_out=invalid)
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
def export(
    run: Annotated[Path, typer.Argument(help="a finished run directory")],
    out: Annotated[Path, Opt("--out", "-o", help="folder for the export")],
    format: Annotated[str, Opt("--format", help="onnx (checked against PyTorch with onnxruntime) or bundle (what load and serve read)")] = "onnx",  # noqa: E501
) -> None:
    """Export a run: ONNX for other tools, or a bundle (weights, model card, checksums) to load and serve."""
    from medtransfer.api import export as api_export

    written = api_export(run, out, format)
    if format == "bundle":
        typer.echo(f"written: {written}  (MODEL_CARD.md inside; medtransfer serve {written} serves it)")
        return
    parity = json.loads((written.parent / "parity.json").read_text())
    typer.echo(
        f"written: {written}  (largest difference from PyTorch on {parity['n_inputs']} inputs: "
        f"{parity['max_abs_difference']:.1e}; preprocessing and labels in {written.parent / 'model.json'})"
    )


@app.command()
def serve(
    run: Annotated[Path, typer.Argument(help="a finished run directory, or a bundle (export --format bundle)")],
    host: Annotated[str, Opt(help="address to listen on; localhost only unless told otherwise")] = "127.0.0.1",
    port: Annotated[int, Opt()] = 8000,
    max_upload_mb: Annotated[float, Opt(help="largest request body (413 past it)")] = 16.0,
    max_batch: Annotated[int, Opt(help="most inputs per request")] = 64,
    max_pixels: Annotated[int, Opt(help="most pixels per decoded image")] = 4096 * 4096,
    timeout: Annotated[float, Opt(help="seconds a request may take (504 past it)")] = 60.0,
    api_key: Annotated[str | None, Opt(envvar="MEDTRANSFER_API_KEY", help="require this key (X-API-Key header)")] = None,  # noqa: E501
) -> None:
    """Serve a run over HTTP: Open Inference Protocol v2 (/v2/...), POST /predict, /model-card, a page at /."""
    import uvicorn

    from medtransfer.serving.app import create_app
    from medtransfer.serving.limits import ServeLimits

    if host not in ("127.0.0.1", "localhost", "::1") and not api_key:
        logging.getLogger("medtransfer").warning("serving on %s without --api-key: anyone who can reach it may use "
                                                 "it", host)  # fmt: skip
    limits = ServeLimits(max_upload_mb=max_upload_mb, max_batch=max_batch, max_pixels=max_pixels, timeout_s=timeout)
    uvicorn.run(create_app(run, limits, api_key), host=host, port=port, log_level="info")


@app.command()
def auto(
    data: Annotated[str, Opt("--data", "-d", help="built-in dataset, folder, CSV, .npz, FASTA or SDF")],
    budget: Annotated[str, Opt(help="wall-clock budget: 90s, 10m, 1h")] = "10m",
    top_k: Annotated[int, Opt(help="sources shortlisted by rank for real fine-tunes")] = 2,
    tune_trials: Annotated[int, Opt(help="Optuna trials on the finalist's lr, weight decay, epochs, depth")] = 6,
    storage: Annotated[str | None, Opt(help="Optuna storage URL for workers to share (default: a file)")] = None,
    label_column: Annotated[str | None, Opt()] = None,
    image_size: Annotated[int | None, Opt(help="images: fix the input size instead of searching it")] = None,
    seed: Annotated[int, Opt()] = 0,
    out: Annotated[str | None, Opt("--out", "-o", help="the winner's run directory (default runs/<data>-auto)")] = None,
    resume: Annotated[bool, Opt("--resume", help="continue an interrupted search")] = False,
    overwrite: Annotated[bool, Opt("--overwrite", help="replace an earlier search at --out")] = False,
    progress: Annotated[bool, Opt("--progress/--quiet", help="a live leaderboard, or log lines only")] = True,
) -> None:
    """Choose the source model and the fine-tuning on validation (rank, then successive halving of real
    fine-tunes beside a from-scratch model and the classical one, then Optuna on the finalist) and keep the
    winner as a run."""
    given = {"label_column": label_column, "image_size": image_size, "out": out}
    _auto(progress, None, data=data, budget=budget, top_k=top_k, tune_trials=tune_trials, storage=storage, seed=seed,
          resume=resume, overwrite=overwrite, **{k: v for k, v in given.items() if v is not None})  # fmt: skip


def _auto(progress: bool, config: Path | None, **settings) -> None:
    """Run the search with a live leaderboard (or, ``progress`` off, log lines only) and print its outcome."""
    from medtransfer.api import auto as api_auto
    from medtransfer.autotransfer.live_view import leaderboard_rows, live_view

    if progress:  # the live view is the progress display: the trials' own bars would tear it
        with live_view(_log_console()) as on_update:
            result = api_auto(config=config, progress=False, on_update=on_update, **settings)
    else:
        result = api_auto(config=config, progress=False, **settings)
    _table(leaderboard_rows(result.fit.metrics["auto"]["leaderboard"]),
           ("trial", "val", "seconds", "stage"),
           f"chosen on validation in {result.seconds:.0f} s of {result.budget_s:.0f} s; test scored once, for the "
           f"winner: {result.run_dir}  (report: {result.run_dir / 'report.html'})")  # fmt: skip
    _print_metrics(result.fit.metrics)


def _log_console():
    """The console log lines print to (the RichHandler's), so a live view and the log share it."""
    from rich.logging import RichHandler

    return next((h.console for h in logging.getLogger().handlers if isinstance(h, RichHandler)), None)


@app.command()
def rank(
    data: Annotated[str, Opt("--data", "-d", help="built-in dataset, folder, CSV, .npz, FASTA or SDF")],
    candidates: Annotated[
        str | None, Opt(help="comma-separated: backbone names, name@random, classical (default: every offline one)")
    ] = None,
    label_column: Annotated[str | None, Opt()] = None,
    image_size: Annotated[int | None, Opt(help="images: input size in px (default: the backbone's)")] = None,
    seed: Annotated[int, Opt()] = 0,
    out: Annotated[Path | None, Opt("--out", "-o", help="folder for rank.json")] = None,
) -> None:
    """Rank candidate source models by transferability scores on frozen features (train + val only)."""
    from medtransfer.api import rank as api_rank

    settings = {"label_column": label_column, "image_size": image_size}
    chosen = [c for c in candidates.split(",") if c.strip()] if candidates else None
    result = api_rank(data, chosen, out, seed=seed, **{k: v for k, v in settings.items() if v is not None})
    names = result["scores"]
    rows = [
        {
            "candidate": r["candidate"],
            **{s: f"{r[s]:.3f} (#{r[s + '_rank']})" for s in names},
            "seconds": f"{r['features_seconds'] + sum(r[s + '_seconds'] for s in names):.1f}",
        }
        for r in result["rows"]
    ]
    where = f" Written: {out / 'rank.json'}" if out else ""
    _table(rows, ("candidate", *names, "seconds"),
           f"{result['n']} train + val samples; scores cross-validated there, test unread.{where}")  # fmt: skip


@app.command()
def backbones(
    all_: Annotated[bool, Opt("--all", help="also list the tiny test_* models (for tests and examples)")] = False,
) -> None:
    """List built-in backbones with weight source and licence, and how to name any other model."""
    from medtransfer.api import backbones as api_backbones

    rows = [r for r in api_backbones() if all_ or not r["name"].startswith("test_")]
    _table(
        rows,
        ("name", "modality", "params", "licence", "source"),
        "Any other model: hf:<hub repo or local folder> (a Hugging Face encoder with its tokenizer; "
        "--trust-remote-code if it ships code), timm:<architecture> (timm's pretrained weights, online), "
        "file:<weights file> --arch <timm architecture> (local weights), or the folder medtransfer pretrain "
        "wrote." + ("" if all_ else " --all also lists the tiny test_* models."),
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
    """A table whose first column (a name to type) is never cut or wrapped; later columns wrap to fit."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_lines=False, pad_edge=False, box=None)
    for k, column in enumerate(columns):
        first = k == 0
        table.add_column(column, no_wrap=first, min_width=max(len(str(r.get(column, ""))) for r in rows) if first
                         else None, overflow="fold", ratio=None if first else 1)  # fmt: skip
    for r in rows:  # escaped: a trial label's [image_size=64] is text, not rich markup
        table.add_row(*(escape(str(r.get(c, ""))) for c in columns))
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
        "transfer_gain",
        "auto",
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
        ci = gain.get("difference_ci")
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
    """Console entry point: a MedtransferError becomes one line on stderr and exit status 2; so does a usage
    error (an unknown option, a missing value), printed with the command's usage line, as click prints it."""
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
    except _usage_errors() as exc:
        exc.show()
        sys.exit(exc.exit_code)


def _usage_errors() -> tuple[type[Exception], ...]:
    """The exception classes click raises for bad command lines: typer ≥ 0.20 raises its vendored copy."""
    import click

    found: list[type[Exception]] = [click.ClickException]
    try:
        from typer._click.exceptions import ClickException
    except ImportError:  # a typer that uses click itself
        return tuple(found)
    return (*found, ClickException)
