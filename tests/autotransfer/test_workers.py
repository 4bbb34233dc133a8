"""Search workers sharing one race through Optuna's storage (a journal file; PostgreSQL where
``MEDTRANSFER_TEST_POSTGRES`` names a database, as .ci/run starts one): no trial run twice, every trial recorded,
one run handed over, and a worker killed mid-trial leaves a race the other finishes (its trial taken over)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.autotransfer.test_auto import SETTINGS

pytestmark = pytest.mark.slow
WORKER = """
import json, logging, sys, medtransfer
logging.basicConfig(level=logging.INFO)  # the log names every trial this worker fits
settings = json.loads(sys.argv[4])
result = medtransfer.auto(sys.argv[1], budget="10m", out=sys.argv[2], storage=sys.argv[3], resume=True, **settings)
print("RUN", result.run_dir, result.leaderboard[0]["trial"] if result.leaderboard else "")
"""


def start(npz: Path, out: Path, storage: str, stale_s: float = 60.0) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MEDTRANSFER_CLAIM_STALE_S": str(stale_s)}
    command = [sys.executable, "-c", WORKER, str(npz), str(out), storage, json.dumps(SETTINGS)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def trials_run(log: str) -> list[tuple[str, str]]:
    """(trial, rung) of every race trial a worker fitted, from its log lines."""
    lines = [line.split("auto: ", 1)[1] for line in log.splitlines() if "auto: " in line and ", rung " in line]
    return [(line.split(", rung ")[0], line.split(", rung ")[1].split(":")[0]) for line in lines]


@pytest.fixture(params=["journal", "postgresql"])
def storage(request, tmp_path) -> str:
    if request.param == "journal":
        return f"journal:{tmp_path / 'race.journal'}"
    url = os.environ.get("MEDTRANSFER_TEST_POSTGRES")
    if not url:
        pytest.skip("no PostgreSQL: .ci/run starts one and sets MEDTRANSFER_TEST_POSTGRES")
    pytest.importorskip("psycopg2")
    from medtransfer.autotransfer.shared_race import SharedRace, shared_storage

    SharedRace(shared_storage(url), "medtransfer-auto-auto").forget()  # the database outlives a test
    return url


def race_claims(storage: str, name: str) -> dict[str, dict]:
    import optuna

    from medtransfer.autotransfer.shared_race import shared_storage

    store = shared_storage(storage)
    return {s.study_name: optuna.load_study(study_name=s.study_name, storage=store).user_attrs
            for s in optuna.get_all_study_summaries(store) if s.study_name.startswith(name + "/")}  # fmt: skip


def test_two_workers_share_one_race_and_hand_over_one_run(npz_data, tmp_path, storage):
    out = tmp_path / "auto"
    workers = [start(npz_data, out, storage) for _ in range(2)]
    logs = [w.communicate(timeout=900) for w in workers]
    assert all(w.returncode == 0 for w in workers), [e[-3000:] for _, e in logs]
    fitted = [t for _, err in logs for t in trials_run(err)]
    assert fitted and len(fitted) == len(set(fitted))  # no trial (raced or tuned) was run by both workers
    raced_here = [t for t in fitted if "(tuned" not in t[0]]
    claims = race_claims(storage, "medtransfer-auto-auto")
    race = {k: v for k, v in claims.items() if k != "medtransfer-auto-auto/final"}
    assert len(race) == len(raced_here) and all("row" in v for v in race.values())  # every claimed trial recorded
    assert {(v["row"]["trial"], str(v["row"]["rung"])) for v in race.values()} == set(raced_here)
    runs = {line.split()[1] for o, _ in logs for line in o.splitlines() if line.startswith("RUN")}
    assert runs == {str(out)}  # both workers report the one run that one of them wrote
    board = json.loads((out / "leaderboard.json").read_text())["leaderboard"]
    raced = {(r["trial"], str(r["rung"])) for r in board if r["stage"].startswith(("rung", "winner", "best", "saved"))
             and r.get("val_score") is not None and r["trial"] != "classical" and "tuned" not in r["trial"]
             and not r["trial"].startswith("ensemble")}  # fmt: skip
    assert raced <= set(raced_here)


def test_a_worker_killed_mid_trial_leaves_a_race_the_other_finishes(npz_data, tmp_path):
    out, storage = tmp_path / "auto", f"journal:{tmp_path / 'race.journal'}"  # claims work alike in PostgreSQL
    first = start(npz_data, out, storage, stale_s=6.0)
    trials = Path(str(out) + ".trials")
    deadline = time.time() + 600
    while not list(trials.glob("*.partial")) and time.time() < deadline and first.poll() is None:
        time.sleep(0.5)  # until a trial is being fitted
    first.send_signal(signal.SIGKILL)
    first.communicate()
    second = start(npz_data, out, storage, stale_s=6.0)
    _, err = second.communicate(timeout=900)
    assert second.returncode == 0, err[-3000:]
    assert "claimed by a worker that stopped: running it again" in err
    claims = race_claims(storage, "medtransfer-auto-auto")
    assert any(v.get("abandoned") for v in claims.values())
    assert (out / "leaderboard.json").is_file() and (out / "metrics.json").is_file()
