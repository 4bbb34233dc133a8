"""The command line: bad input ends in one line on stderr, exit 2, no traceback, no run directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "medtransfer", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def assert_clean_failure(res: subprocess.CompletedProcess, *needles: str) -> None:
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_missing_data_path(tmp_path):
    res = run_cli("fit", "--data", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "run"))
    assert_clean_failure(res, "nope.csv", "no such file")
    assert not (tmp_path / "run").exists() and not (tmp_path / "run.partial").exists()


def test_wrong_label_column_names_the_columns(tmp_path, image_csv):
    res = run_cli("fit", "--data", str(image_csv), "--out", str(tmp_path / "run"))
    assert_clean_failure(res, "'label' not found", "path, diagnosis, patient_id", "--label-column")
    assert not (tmp_path / "run.partial").exists()


def test_unknown_backbone_suggests(tmp_path, npz_data):
    res = run_cli("fit", "--data", str(npz_data), "--backbone", "efficientnet_lite9", "--out", str(tmp_path / "r"))
    assert_clean_failure(res, "unknown backbone 'efficientnet_lite9'", "Did you mean")


def test_corrupt_image_is_named(tmp_path, image_folder):
    bad = image_folder / "benign" / "5.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    res = run_cli("fit", "--data", str(image_folder), "--out", str(tmp_path / "r"))
    assert_clean_failure(res, str(bad))


def test_invalid_setting_is_a_config_error(tmp_path, npz_data):
    res = run_cli("fit", "--data", str(npz_data), "--epochs", "0", "--out", str(tmp_path / "r"))
    assert_clean_failure(res, "epochs")


def test_yaml_config_with_flag_override_then_evaluate_and_predict(tmp_path, npz_data):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        f"data: {npz_data}\nbackbone: test_efficientnet\nstrategy: full\nimage_size: 32\nepochs: 5\n"
        "head_hidden: 16\nprogress: false\n"
    )
    out = tmp_path / "run"
    res = run_cli("fit", "-c", str(cfg), "--epochs", "1", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "epochs: 1" in (out / "config.yaml").read_text()

    res = run_cli("evaluate", str(out), "--data", str(npz_data), "--out", str(tmp_path / "eval"))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "eval" / "metrics.json").is_file()

    from PIL import Image

    Image.new("L", (28, 28), 200).save(tmp_path / "new.png")
    res = run_cli("predict", str(out), "--input", str(tmp_path / "new.png"), "--out", str(tmp_path / "p.csv"))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "p.csv").read_text().startswith("id,split,label,prediction,prob_0,prob_1")


def test_finished_run_is_not_overwritten(tmp_path, npz_data):
    (tmp_path / "run").mkdir()
    res = run_cli("fit", "--data", str(npz_data), "--backbone", "test_efficientnet", "--out", str(tmp_path / "run"))
    assert_clean_failure(res, "already holds a finished run", "--overwrite")


def test_predict_on_missing_run(tmp_path):
    res = run_cli("predict", str(tmp_path / "norun"), "--input", "x.png")
    assert_clean_failure(res, "run directory", "not found")


@pytest.mark.parametrize("command", ["backbones", "datasets"])
def test_listing_commands_show_licences(command):
    res = run_cli(command)
    assert res.returncode == 0 and "licence" in res.stdout
    assert ("efficientnet_lite0" if command == "backbones" else "breastmnist") in res.stdout


def test_audit_of_a_fasta_with_side_labels_finds_its_duplicates(tmp_path):
    rng = __import__("numpy").random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), 60)) for _ in range(30)]
    seqs[20:] = seqs[:10]  # ten exact copies; three of them labelled the other way
    (tmp_path / "seqs.fa").write_text("".join(f">r{i}\n{s}\n" for i, s in enumerate(seqs)))
    labels = [i % 2 if i not in (20, 21, 22) else 1 - i % 2 for i in range(30)]
    (tmp_path / "labels.csv").write_text("id,label\n" + "".join(f"r{i},{y}\n" for i, y in enumerate(labels)))
    args = ("audit", "--data", str(tmp_path / "seqs.fa"), "--labels", str(tmp_path / "labels.csv"))
    clustered, random = run_cli(*args), run_cli(*args, "--split", "random")
    assert clustered.returncode == 0 == random.returncode, clustered.stderr + random.stderr
    assert (
        clustered.stdout.startswith("0 exact") and "10 repeated inputs, 3 with conflicting labels" in clustered.stdout
    )
    assert not random.stdout.startswith("0 exact") and "exact_duplicates" in random.stdout


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("fit", ["--data", "x", "--bogus"]),
        ("fit", ["--epochs"]),
        ("predict", ["run", "--input", "a", "--bogus"]),
        ("evaluate", ["run", "--data", "x", "extra-argument"]),
        ("compare", ["a"]),
        ("audit", ["--data"]),
        ("explain", ["run", "--input", "a"]),
        ("backbones", ["--nope"]),
        ("pretrain", ["--modality", "dna"]),
        ("datasets", ["extra"]),
        ("report", []),
    ],
)
def test_a_usage_error_prints_the_usage_and_exits_2_without_a_traceback(command, args):
    res = run_cli(command, *args)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and "Error:" in res.stderr


def test_fit_without_data_says_what_to_pass():
    res = run_cli("fit")
    assert_clean_failure(res, "no data given", "--data", "medtransfer datasets")


def test_a_typo_in_the_strategy_fails_before_the_data_is_read(tmp_path):
    res = run_cli("fit", "--data", str(tmp_path / "not-read.csv"), "--strategy", "ful")
    assert_clean_failure(res, "unknown strategy 'ful'", "Did you mean 'full'")


def test_fit_help_groups_options_and_shows_defaults_and_choices():
    from medtransfer.cli import STRATEGY_NAMES
    from medtransfer.strategies.strategy import STRATEGIES

    assert sorted(STRATEGY_NAMES.split(", ")) == STRATEGIES.names()
    res = subprocess.run([sys.executable, "-m", "medtransfer", "fit", "--help"], capture_output=True, text=True,
                         env={**__import__("os").environ, "COLUMNS": "160"}, timeout=120)  # fmt: skip
    out = res.stdout
    for panel in ("Data", "Model and strategy", "Training", "Evaluation", "Run"):
        assert f"─ {panel} " in out
    assert "(one of: error, warn, fix)" in out and "linear_probe, partial, full" in out
    assert "[default: (10)]" in out and "[default: (cosine)]" in out


def test_backbones_fit_80_columns_without_cutting_names_and_hide_test_models():
    import os

    from medtransfer.api import backbones

    res = subprocess.run([sys.executable, "-m", "medtransfer", "backbones"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "80"}, timeout=120)  # fmt: skip
    assert max(len(line) for line in res.stdout.splitlines()) <= 80
    shown = {line.split()[0] for line in res.stdout.splitlines() if line.strip()}
    names = {b["name"] for b in backbones()}
    assert {n for n in names if not n.startswith("test_")} <= shown and not any(n.startswith("test_") for n in shown)
    assert "hf:" in res.stdout and "timm:" in res.stdout and "file:" in res.stdout
    assert "test_efficientnet" in subprocess.run([sys.executable, "-m", "medtransfer", "backbones", "--all"],
                                                 capture_output=True, text=True, timeout=120).stdout  # fmt: skip


def test_rank_prints_each_score_with_its_rank_and_writes_rank_json(tmp_path):
    res = run_cli("rank", "--data", "breastmnist", "--candidates", "classical", "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "classical" in res.stdout and "logme" in res.stdout and "(#1)" in res.stdout
    assert (tmp_path / "rank.json").is_file()


@pytest.mark.slow
def test_fit_without_backbone_or_strategy_searches_like_auto_and_keeps_its_budget(tmp_path, npz_data):
    out = tmp_path / "searched"
    res = run_cli("fit", "--data", str(npz_data), "--budget", "45s", "--image-size", "32", "--batch-size", "16",
                  "--head-hidden", "16", "--out", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    board = __import__("json").loads((out / "leaderboard.json").read_text())
    assert board["chosen_on"] == "validation" and board["budget_s"] == 45 and board["seconds"] <= 45 * 1.1 + 15
    assert "chosen on validation" in res.stdout and "classical" in res.stdout and (out / "report.html").is_file()


def test_fit_searches_only_when_neither_backbone_nor_strategy_is_given(tmp_path):
    from medtransfer.api import searches

    config = tmp_path / "c.yaml"
    config.write_text("data: breastmnist\nbackbone: efficientnet_lite0\n")
    assert searches(None, {"data": "breastmnist", "epochs": 3})
    assert not searches(None, {"data": "breastmnist", "strategy": "full"})
    assert not searches(config, {}) and not searches(None, {"seeds": 3})
    assert not searches(None, {"compare_scratch": True})
