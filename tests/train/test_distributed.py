"""Training on two processes (DDP, gloo on CPU, one thread per rank), launched by torchrun and spawned by
Lightning: the same metrics as one process, one run directory, nothing written by the other rank.

Tolerance: the head trains on cached features with dropout 0, and the two ranks' batches of 16 together hold
the samples of one process's batch of 32, so the runs differ only by float summation order (1e-4 stated). A
backbone with dropout draws its masks per rank, so a full fine-tune agrees with one process only statistically.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import medtransfer
from medtransfer.errors import ConfigError
from medtransfer.train.sampling import EpochShuffleSampler
from tests.test_text_fit import KEYWORD, note

FIT = ["--backbone", "test_text_bert", "--strategy", "linear_probe", "--epochs", "6", "--dropout", "0",
       "--accelerator", "cpu", "--no-progress", "--no-gallery"]  # fmt: skip
SPAWN = """
import sys, medtransfer
if __name__ == "__main__":
    medtransfer.fit(sys.argv[1], out=sys.argv[2], backbone="test_text_bert", strategy="linear_probe", epochs=6,
                    dropout=0.0, accelerator="cpu", progress=False, gallery=False, batch_size=16, devices=2,
                    distributed="ddp_spawn")
"""


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    rng = np.random.default_rng(3)
    rows = [f'"{note(rng, i % 2 == 1)[0]}",{KEYWORD if i % 2 else "clear"}' for i in range(200)]
    (root / "notes.csv").write_text("note,label\n" + "\n".join(rows) + "\n")
    return root / "notes.csv"


def scores(run) -> dict[str, float]:
    m = json.loads((run / "metrics.json").read_text())
    return {"val": m["val"]["auroc"], "test": m["test"]["auroc"], "loss": m["training"]["best_score"]}


def launch(command: list[str], tmp_path, name: str):
    """Run ``command`` as two ranks would see it: one thread each, scratch folders under a private TMPDIR."""
    tmp = tmp_path / f"tmp-{name}"
    tmp.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(tmp), "MEDTRANSFER_CACHE": str(tmp_path / name)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not list(tmp.glob("medtransfer-rank-*")), "rank 1's scratch folder was left behind"


@pytest.mark.slow
def test_two_processes_match_one_and_write_one_run(notes, tmp_path):
    one = medtransfer.fit(str(notes), out=str(tmp_path / "one"), backbone="test_text_bert", strategy="linear_probe",
                          epochs=6, dropout=0.0, accelerator="cpu", progress=False, gallery=False, batch_size=32)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                "-m", "medtransfer", "fit", "--data", str(notes), *FIT, "--batch-size", "16", "--devices", "2",
                "--distributed", "ddp", "--out", str(tmp_path / "torchrun")]  # fmt: skip
    launch(torchrun, tmp_path, "torchrun")
    launch([sys.executable, "-c", SPAWN, str(notes), str(tmp_path / "spawned")], tmp_path, "spawned")
    expected = scores(one.run_dir)
    for name in ("torchrun", "spawned"):
        run = tmp_path / name
        got = scores(run)
        assert all(abs(got[k] - expected[k]) < 1e-4 for k in expected), (name, got, expected)
        assert not run.with_name(name + ".partial").exists() and (run / "report.html").is_file()
        epochs = [line.split(",")[0] for line in (run / "log.csv").read_text().splitlines()[1:]]
        assert epochs == sorted(set(epochs), key=int)  # one row per epoch: no rank logged twice
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["config"]["devices"] == 2 and "finished" in manifest


def test_ranks_split_each_batch_of_one_process_between_them(monkeypatch):
    one = list(EpochShuffleSampler(37, seed=5))
    shards = []
    for rank in range(2):
        monkeypatch.setattr(EpochShuffleSampler, "_rank_world", staticmethod(lambda r=rank: (r, 2)))
        shards.append(list(EpochShuffleSampler(37, seed=5)))
    assert len(shards[0]) == len(shards[1]) == 19  # 37 padded to 38: one place repeated, as DistributedSampler does
    for k in range(2):  # batch k of 4 per rank = batch k of 8 in one process (same samples, same sample seeds)
        assert sorted(shards[0][4 * k : 4 * k + 4] + shards[1][4 * k : 4 * k + 4]) == sorted(one[8 * k : 8 * k + 8])


def test_half_precision_on_cpu_and_distribution_on_one_device_are_refused(notes, tmp_path):
    with pytest.raises(ConfigError, match="GPU option"):
        medtransfer.fit(str(notes), backbone="test_text_bert", strategy="linear_probe", accelerator="cpu",
                        precision="bf16-mixed", progress=False, out=str(tmp_path / "bf16"))  # fmt: skip
    with pytest.raises(ConfigError, match="needs --devices > 1"):
        medtransfer.fit(str(notes), backbone="test_text_bert", strategy="linear_probe", accelerator="cpu",
                        distributed="ddp_spawn", progress=False, out=str(tmp_path / "one"))  # fmt: skip
    with pytest.raises(ConfigError, match="launched ranks cannot follow"):
        medtransfer.fit(str(notes), backbone="test_text_bert", strategy="linear_probe", accelerator="cpu", seeds=2,
                        devices=2, distributed="ddp", progress=False, out=str(tmp_path / "seeds"))  # fmt: skip
