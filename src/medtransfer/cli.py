"""The command line: parses flags and calls the Python API. Errors a user can fix exit 2 with one line."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from medtransfer.cli_output import show_metrics, show_table
from medtransfer.errors import MedtransferError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Transfer learning for medicine: fine-tune, evaluate and use pretrained models.",
)

Opt = typer.Option


DATA, MODEL, TRAIN, EVAL, RUN = "Data", "Model and strategy", "Training", "Evaluation", "Run"
DEVICES = "Devices and distribution"
STRATEGY_NAMES = "linear_probe, partial, full, gradual, lora, setfit"  # the strategy registry's keys (tested)
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
    input_column: Annotated[str | None, _fit_opt("input_column", DATA, "SMILES / sequence / text column (auto: by name)")] = None,  # noqa: E501
    modality: Annotated[str | None, _fit_opt("modality", DATA, "image | molecule | dna | protein | text: read the data as this (auto: by its columns)")] = None,  # noqa: E501
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
    tta: Annotated[str | None, _fit_opt("tta", TRAIN, "test-time augmentation: flip averages each prediction over the image and its mirror (images)")] = None,  # noqa: E501
    epochs: Annotated[int | None, _fit_opt("epochs", TRAIN)] = None,
    min_steps: Annotated[int | None, _fit_opt("min_steps", TRAIN, "small data: raise epochs until training takes this many steps")] = None,  # noqa: E501
    batch_size: Annotated[int | None, _fit_opt("batch_size", TRAIN)] = None,
    lr: Annotated[float | None, _fit_opt("lr", TRAIN, "head learning rate; pretrained blocks get less")] = None,
    backbone_lr_scale: Annotated[float | None, _fit_opt("backbone_lr_scale", TRAIN, "backbone lr = lr × this at the top block (auto: the card's, else 0.1)")] = None,  # noqa: E501
    layer_decay: Annotated[float | None, _fit_opt("layer_decay", TRAIN, "lr factor per block further from the output (auto: the card's, else 0.8)")] = None,  # noqa: E501
    weight_decay: Annotated[float | None, _fit_opt("weight_decay", TRAIN)] = None,
    scheduler: Annotated[str | None, _fit_opt("scheduler", TRAIN)] = None,
    class_weights: Annotated[bool | None, _fit_opt("class_weights", TRAIN, "weight classes by inverse frequency", "--class-weights/--no-class-weights")] = None,  # noqa: E501
    mixup: Annotated[float | None, _fit_opt("mixup", TRAIN, "mixup's Beta(α, α) for classification (0: off)")] = None,
    patience: Annotated[int | None, _fit_opt("patience", TRAIN, "early-stopping patience in validations")] = None,
    monitor: Annotated[str | None, _fit_opt("monitor", TRAIN, "validation metric for early stopping and the checkpoint")] = None,  # noqa: E501
    subgroup_column: Annotated[str | None, _fit_opt("subgroup_column", EVAL, "attribute column(s), e.g. sex,site: metrics per subgroup")] = None,  # noqa: E501
    positive_class: Annotated[str | None, _fit_opt("positive_class", EVAL, "binary: the class sensitivity refers to")] = None,  # noqa: E501
    target_sensitivity: Annotated[float | None, _fit_opt("target_sensitivity", EVAL, "binary: operating point reaching this sensitivity on validation (auto: Youden)")] = None,  # noqa: E501
    calibrate: Annotated[str | None, _fit_opt("calibrate", EVAL, "temperature: fitted on validation")] = None,
    tabpfn: Annotated[str | None, _fit_opt("tabpfn", EVAL, "a TabPFN checkpoint you have: the classical contestant becomes TabPFN in context (tables)")] = None,  # noqa: E501
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
    accelerator: Annotated[str | None, _fit_opt("accelerator", DEVICES, "cpu, gpu, mps or auto (Lightning's)")] = None,  # noqa: E501
    devices: Annotated[int | None, _fit_opt("devices", DEVICES, "devices (processes) per node; --batch-size is per device")] = None,  # noqa: E501
    num_nodes: Annotated[int | None, _fit_opt("num_nodes", DEVICES, "machines (under torchrun or SLURM's srun)")] = None,  # noqa: E501
    distributed: Annotated[str | None, _fit_opt("distributed", DEVICES, "how training processes start: ddp (Lightning re-launches this command, or torchrun / srun does), ddp_spawn (spawned for training only), fsdp (sharded); auto: ddp when several")] = None,  # noqa: E501
    precision: Annotated[str | None, _fit_opt("precision", DEVICES, "32-true; on GPU 16-mixed or bf16-mixed (refused on CPU)")] = None,  # noqa: E501
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
        from medtransfer.cli_search import run_search

        run_search(settings.pop("progress", True), config, budget=budget, **settings)
        return
    result = api_fit(config=config, **settings)
    if not result.metrics:  # a training rank other than 0: rank 0 reports
        return
    show_metrics(result.metrics)
    typer.echo(f"run: {result.run_dir}  (report: {result.run_dir / 'report.html'})")


@app.command()
def pretrain(
    modality: Annotated[str, Opt(help="molecule | dna | protein | text")],
    corpus: Annotated[
        str, Opt(help="corpus file, or named (molecule: moses; dna: ecoli, augustus_splice; protein: uniprot20k; "
                 "text: a text dataset, CSV / JSON Lines, .txt per line, or a folder of .txt)")
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
    init: Annotated[
        str | None, Opt(help="continue this backbone's encoder and vocabulary (domain-adaptive; text: minilm_l6)")
    ] = None,
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
    show_metrics({"task": result["task"], result["data"]: result["metrics"]})
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2))
        write_predictions(result["rows"], out / "predictions.csv")
        typer.echo(f"written: {out}")


@app.command()
def predict(
    run: Annotated[Path, typer.Argument(help="a finished run directory, or a bundle")],
    inputs: Annotated[list[Path], Opt("--input", "-i", help="image files, folders, or a CSV with a path column")],
    out: Annotated[Path | None, Opt("--out", "-o", help="CSV to write, a batch at a time (default: print)")] = None,
    skip_invalid: Annotated[
        bool, Opt("--skip-invalid", help="leave invalid inputs out (listed in <out>.invalid.csv) and carry on")
    ] = False,
    batch_size: Annotated[int, Opt(help="inputs read and predicted at a time")] = 256,
    progress: Annotated[bool, Opt(help="progress bar on stderr while writing --out")] = True,
) -> None:
    """Predict new inputs with a saved model, streaming them a batch at a time."""
    from medtransfer.api import load
    from medtransfer.prediction_stream import predict_to_csv

    if out:
        done = predict_to_csv(load(run), inputs, out, skip_invalid, batch_size, progress)
        refused = f"; {done.invalid} invalid inputs listed in {done.invalid_out}" if done.invalid else ""
        typer.echo(f"{done.predicted} predictions written to {out}{refused}")
        return
    for rows, dropped in load(run).iter_predictions(inputs, skip_invalid, batch_size)[1]:
        for r in rows:
            typer.echo(f"{r['id']}\t{r['prediction']}")
        for d in dropped:
            typer.echo(f"left out: {d.get('file', '')}:{d.get('row', '')}  {d.get('reason', '')}", err=True)


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
def backbones(
    all_: Annotated[bool, Opt("--all", help="also list the tiny test_* models (for tests and examples)")] = False,
) -> None:
    """List built-in backbones with weight source and licence, and how to name any other model."""
    from medtransfer.api import backbones as api_backbones

    rows = [r for r in api_backbones() if all_ or not r["name"].startswith("test_")]
    show_table(
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

    show_table(
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


# the commands of the search (auto, rank) and of using a model (export, serve) live in their own modules
from medtransfer import cli_search, cli_use  # noqa: E402, F401
