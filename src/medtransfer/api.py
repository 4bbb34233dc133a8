"""The Python API: the same functions the CLI calls, with keyword arguments instead of flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medtransfer.config import build_config
from medtransfer.data.options import ReadOptions
from medtransfer.data.table import SampleTable


def fit(data: str | Path | SampleTable | None = None, *, config: str | Path | None = None, **settings: Any):
    """Fine-tune a pretrained backbone on ``data`` and write a run directory; returns a ``FitResult``.

    ``data`` is a built-in dataset name, a folder, CSV or .npz path, or an in-memory ``SampleTable``.
    ``settings`` are ``FitConfig`` fields (``backbone``, ``strategy``, ``epochs``, ``out``, ...), applied on
    top of the YAML ``config`` file when one is given.

    >>> result = medtransfer.fit("breastmnist", strategy="linear_probe", epochs=5)  # doctest: +SKIP
    """
    from medtransfer.errors import ConfigError
    from medtransfer.multiseed import run_seeds
    from medtransfer.pipeline import run_fit, with_default_backbone
    from medtransfer.train.devices import launched_world
    from medtransfer.transfer_gain import run_with_scratch

    table = _data_setting(data, settings)
    cfg = build_config(Path(config) if config else None, **settings)
    _check_names(cfg)
    if cfg.backbone is None:
        cfg, table = with_default_backbone(cfg, table)
    several = launched_world() > 1 or (cfg.devices * cfg.num_nodes > 1 and cfg.distributed != "ddp_spawn")
    if several and (cfg.seeds > 1 or cfg.compare_scratch):
        raise ConfigError(
            "--seeds and --compare-scratch run several fits in one command, which launched ranks cannot follow: "
            "use --distributed ddp_spawn, or launch one fit per seed (--seed N)."
        )
    if cfg.seeds > 1:
        return run_seeds(cfg, table)
    return run_with_scratch(cfg, table) if cfg.compare_scratch else run_fit(cfg, table)


def searches(config: str | Path | None, settings: dict[str, Any]) -> bool:
    """Whether ``medtransfer fit`` with these flags searches (runs ``auto``): neither a backbone nor a strategy
    is given, in the flags or the YAML ``config``, and no ``--seeds`` / ``--compare-scratch`` study is asked for
    (those evaluate one named model)."""
    from medtransfer.config import read_config_file

    given = {**(read_config_file(Path(config)) if config else {}), **settings}
    explicit = ("backbone", "strategy", "compare_scratch")
    return not any(given.get(k) for k in explicit) and int(given.get("seeds") or 1) == 1


def _check_names(cfg) -> None:
    """A typo'd strategy or backbone fails here, before any data is read."""
    from medtransfer.backbones.registry import check_backbone_name
    from medtransfer.strategies.strategy import STRATEGIES

    STRATEGIES.get(cfg.strategy)
    if cfg.backbone is not None:
        check_backbone_name(cfg.backbone)
    if cfg.tabpfn is not None:
        from medtransfer.evaluation.tabpfn_adapter import tabpfn_checkpoint

        tabpfn_checkpoint(cfg.tabpfn)


def load(run: str | Path, device: str = "auto"):
    """Load a finished run for prediction: ``medtransfer.load("runs/x").predict(images)``; ``device``: where
    it predicts ("cuda", "cpu" …; "auto": the GPU when there is one)."""
    from medtransfer.inference import load as load_run

    return load_run(run, device)


def evaluate(run: str | Path, data: str | Path, split: str | None = None, **read_options: Any) -> dict:
    """Metrics of a finished run on ``data``: on the run's own data, the run's own split is replayed (its test
    split by default); other data is read with the run's read options (``read_options`` override them, e.g.
    ``label_column``) and rows the run trained on are counted in ``seen_in_training``."""
    from medtransfer.inference import evaluate_data

    given = {k: v for k, v in read_options.items() if v is not None}
    ReadOptions(**given)  # unknown options fail here, with their names
    return evaluate_data(run, str(data), given, split)


def predict(
    run: str | Path, inputs: list[str | Path], skip_invalid: bool = False, invalid_out: str | Path | None = None
) -> list[dict]:
    """Prediction rows for files, folders or a CSV / .smi / FASTA of inputs, with the run's own preprocessing.

    An invalid input (unreadable image, bad SMILES, unknown residue) stops with an error naming it; with
    ``skip_invalid`` it is left out, counted in a warning and, given ``invalid_out``, listed in that CSV."""
    import logging

    from medtransfer.evaluation.predictions import write_dropped

    rows, dropped = load(run).predict_files([Path(p) for p in inputs], skip_invalid)
    if dropped:
        where = f"; listed in {invalid_out}" if invalid_out else ""
        logging.getLogger("medtransfer").warning("%d invalid inputs left out%s", len(dropped), where)
        if invalid_out:
            write_dropped(dropped, Path(invalid_out))
    return rows


def explain(
    run: str | Path,
    inputs: list[str | Path],
    method: str | None = None,
    out: str | Path | None = None,
    target: str | None = None,
    sanity: bool = True,
):
    """Explain inputs with a finished run: ``.explanations[i].values`` per pixel / atom, pictures in ``out``.

    ``method``: grad_cam (images, default), integrated_gradients (molecules and sequences, default), occlusion.
    ``target``: the class to explain (default: each input's predicted class).
    """
    from medtransfer.explanations import explain as explain_run

    return explain_run(run, inputs, method, out, target, sanity)


def compare(run_a: str | Path, run_b: str | Path, split: str = "test") -> dict:
    """Paired comparison of two runs on the same samples: bootstrap per metric and DeLong for AUROC."""
    from medtransfer.compare_runs import compare_runs

    return compare_runs(Path(run_a), Path(run_b), split)


def audit(data: str | Path, seed: int = 0, **settings: Any) -> dict:
    """The leakage audit of the split ``fit`` would make from ``data`` with these settings."""
    from medtransfer.pipeline import audit_data

    cfg = build_config(None, data=str(data), seed=seed, **settings)
    return audit_data(cfg)[1].to_dict()


def pretrain(
    modality: str,
    corpus: str,
    out: str | Path,
    *,
    name: str | None = None,
    progress: bool = True,
    tokenizer: str | None = None,
    exclude: tuple[str, ...] | list[str] = (),
    **settings: Any,
) -> Path:
    """Pretrain the project's own encoder for ``modality`` on ``corpus``; returns the backbone folder.

    ``tokenizer``: a token splitter name (default the modality's; ``kmer3``–``kmer6`` for DNA).
    ``exclude``: built-in datasets or FASTA files whose sequences are cut out of a DNA / protein corpus first,
    so a benchmark's test sequences are never pretrained on.

    ``settings`` are PretrainSettings fields (hidden_size, layers, steps, batch_size, lr, seed, ...).
    """
    from medtransfer.errors import ConfigError
    from medtransfer.pretraining.mlm import PretrainSettings
    from medtransfer.pretraining.run import run_pretrain

    try:
        parsed = PretrainSettings(**settings)
    except TypeError as exc:
        raise ConfigError(f"unknown pretraining setting: {exc}") from exc
    return run_pretrain(
        modality, corpus, Path(out), parsed, name=name, progress=progress, tokenizer=tokenizer, exclude=tuple(exclude)
    )


def rank(
    data: str | Path | SampleTable,
    candidates: list[str] | None = None,
    out: str | Path | None = None,
    *,
    seed: int = 0,
    **settings: Any,
) -> dict:
    """Score candidate source models on ``data`` from frozen features of its train + val rows (test unread).

    ``candidates``: backbone names, ``name@random`` for an architecture with random weights, ``classical`` for
    the baseline's hand-made features (default: every offline backbone of the data's kind, the default one at
    random, and the classical features). ``settings`` are read / split settings as for ``fit``. Returns the
    table as a dict (per candidate: each score, its rank and seconds); with ``out``, also ``out/rank.json``.
    ``data`` may also be a ``SampleTable`` already read, as for ``auto``.
    """
    from medtransfer.autotransfer.rank import Candidate, rank_candidates, write_rank

    table = _data_setting(data, settings)
    cfg = build_config(None, seed=seed, **settings)
    parsed = [Candidate.parse(c) for c in candidates] if candidates else None
    result = rank_candidates(cfg, parsed, table)
    if out is not None:
        write_rank(result, Path(out))
    return result.to_dict()


def auto(
    data: str | Path | SampleTable | None = None,
    *,
    budget: str | float = "10m",
    top_k: int = 2,
    tune_trials: int | None = None,
    storage: str | None = None,
    val_repeats: int | None = None,
    on_update=None,
    config: str | Path | None = None,
    **settings: Any,
):
    """Choose the source model and how to fine-tune it for ``data`` within ``budget`` ("90s", "10m", "1h" or
    seconds); returns an ``AutoResult`` whose ``run_dir`` is the winner's ordinary run directory.

    ``tune_trials``: Optuna trials on the finalist's learning rate, weight decay, epochs and depth (default 6,
    0 for none); ``storage``: where search workers share the race and the tuning study (``postgresql://…``,
    ``sqlite:///…``, or ``journal:PATH`` on a shared disk; workers that join use ``resume=True``; default: this
    process alone, its tuning study in a journal file beside the run, so a search resumes); ``val_repeats``: how
    many train / validation splits of the same rows each trial is judged on (default: 3 when validation is
    small, else 1; the test rows never move); ``on_update(stage, leaderboard, clock)``: called after every
    trial. ``settings`` are ``FitConfig`` fields; the ones given are kept fixed, the rest may be searched.
    """
    from medtransfer.autotransfer.search import TUNE_TRIALS, run_auto

    table = _data_setting(data, settings)
    cfg = build_config(Path(config) if config else None, **settings)
    if cfg.out is None:  # not given in the flags nor the config file
        cfg = cfg.model_copy(update={"out": str(Path("runs") / f"{Path(cfg.data).stem}-auto")})
    trials = TUNE_TRIALS if tune_trials is None else tune_trials
    return run_auto(cfg, parse_budget(budget), top_k, table, trials, storage, on_update, val_repeats)


def _data_setting(data: str | Path | SampleTable | None, settings: dict) -> SampleTable | None:
    """Put ``data`` into ``settings`` as the config's ``data`` (a table already read: its source, unless given);
    return the table, or None where ``data`` names a dataset or path to read."""
    if isinstance(data, SampleTable):
        settings.setdefault("data", data.source or "in-memory table")
        return data
    if data is not None:
        settings["data"] = str(data)
    return None


def parse_budget(budget: str | float) -> float:
    """Seconds from ``90``, ``"90s"``, ``"10m"`` or ``"1.5h"``."""
    from medtransfer.errors import ConfigError

    text = str(budget).strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        seconds = float(text[:-1]) * units[text[-1]] if text[-1:] in units else float(text)
    except ValueError as exc:
        raise ConfigError(f"budget {budget!r} is not a duration: write e.g. 90s, 10m or 1h.") from exc
    if seconds <= 0:
        raise ConfigError(f"budget {budget!r} must be positive.")
    return seconds


def export(run: str | Path, out: str | Path, format: str = "onnx", inputs: list | None = None) -> Path:
    """Export a finished run for other tools; returns the written file.

    ``format="onnx"``: ``out/model.onnx`` with a dynamic batch, checked against PyTorch with onnxruntime at
    batch 1 and N on ``inputs`` (default: rows of the run's own validation split), the difference written to
    ``out/parity.json``; ``out/model.json`` holds the preprocessing, tokenizer and class names.
    ``format="bundle"``: the folder ``out`` that ``load`` and ``serve`` read (weights, model.json, tokenizer,
    MODEL_CARD.md, checksums checked on load); an ``out`` ending in ``.tar.gz`` writes it as one archive."""
    from medtransfer.errors import ConfigError
    from medtransfer.exporting.bundle import export_bundle
    from medtransfer.exporting.onnx_export import export_onnx

    if format == "bundle":
        return export_bundle(run, out)
    if format != "onnx":
        raise ConfigError(f"export format {format!r} is unknown: use onnx or bundle.")
    return export_onnx(run, out, inputs)


def backbones() -> list[dict]:
    """Registered backbones with source and licence."""
    from medtransfer.backbones.registry import list_backbones

    return list_backbones()


def datasets() -> list[dict]:
    """Built-in datasets with task, size and licence."""
    from medtransfer.data.catalog import list_datasets

    return list_datasets()
