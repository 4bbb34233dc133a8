"""Search workers sharing one race through Optuna's storage (PostgreSQL, MySQL, SQLite, or a journal file).

Several ``medtransfer auto --storage URL --resume`` processes (on one machine, or on several that share the
run's folder) divide the successive-halving trials between them:

- A trial (rung r, contestant i) is **claimed** by creating the study ``<search>/r<r>/t<i>`` in the storage: the
  storage lets exactly one process create a study of a given name, so no trial is run twice. The claimant runs
  the trial and records its leaderboard row on that study; while it runs, it renews a heartbeat there.
- A worker that finds every trial of a rung claimed waits for their rows. A claim whose heartbeat is older
  than ``STALE_S`` (its worker was killed) is taken over under the next attempt's name (``…/t<i>/a1``) and the
  trial is run again there; the stale claim stays as it was, recorded as abandoned.
- Survivors are chosen from the shared rows by the same rule in every worker, so all agree on the next rung; a
  worker that joins late reads the rows already recorded and continues where the race is.
- The Optuna study that tunes the finalist is shared as before (``tune.py``), and the final run into ``--out``
  is claimed the same way: one worker writes it, the others wait for it and report the same run.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from medtransfer.errors import ConfigError

log = logging.getLogger("medtransfer")
# a claim not renewed for this long belongs to a worker that is gone (shorter in tests that kill a worker)
STALE_S = float(os.environ.get("MEDTRANSFER_CLAIM_STALE_S", "60"))
HEARTBEAT_S = STALE_S / 6  # how often a running claim is renewed
POLL_S = 2.0


def shared_storage(url: str):
    """An Optuna storage for ``url``: a journal file (``journal:PATH`` or ``*.journal``), else a database URL
    (``postgresql://…``, ``mysql://…``, ``sqlite:///…``), opened once so polling reuses its connections."""
    from optuna.storages import JournalStorage, RDBStorage
    from optuna.storages.journal import JournalFileBackend

    if url.startswith("journal:") or url.endswith(".journal"):
        path = Path(url.removeprefix("journal:"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    if url.startswith("postgresql://") and importlib.util.find_spec("psycopg") is None:
        url = "postgresql+psycopg2://" + url.removeprefix("postgresql://")  # SQLAlchemy 2.1 defaults to psycopg 3
    try:
        return RDBStorage(url)
    except ImportError as exc:  # e.g. postgresql:// without a driver
        raise ConfigError(f"--storage {url}: its database driver is missing ({exc}); for PostgreSQL: "
                          "pip install 'medtransfer[workers]' (psycopg2).") from exc


class SharedRace:
    """The claims and recorded rows of one search (``name``) in ``storage``."""

    def __init__(self, storage, name: str) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.storage, self.name = storage, name
        self._first_seen: dict[str, float] = {}  # claims seen before their first heartbeat was written

    def _study_name(self, key: str, attempt: int) -> str:
        return f"{self.name}/{key}" + (f"/a{attempt}" if attempt else "")

    def _load(self, key: str, attempt: int):
        import optuna

        try:
            return optuna.load_study(study_name=self._study_name(key, attempt), storage=self.storage)
        except KeyError:
            return None

    def _claim(self, key: str, attempt: int):
        """The claim study if this process created it, else None (another worker holds that name)."""
        import optuna

        try:
            study = optuna.create_study(study_name=self._study_name(key, attempt), storage=self.storage)
        except optuna.exceptions.DuplicatedStudyError:
            return None
        study.set_user_attr("heartbeat", time.time())
        return study

    def _current(self, key: str) -> tuple[int, object | None]:
        """The latest attempt at ``key`` and its claim study (None: unclaimed)."""
        attempt, study = 0, self._load(key, 0)
        while study is not None:
            later = self._load(key, attempt + 1)
            if later is None:
                break
            attempt, study = attempt + 1, later
        return attempt, study

    def forget(self) -> None:
        """Delete this search's claims and rows (a new search under the same name starts clean)."""
        import optuna

        for summary in optuna.get_all_study_summaries(self.storage):
            if summary.study_name.startswith(self.name + "/"):
                optuna.delete_study(study_name=summary.study_name, storage=self.storage)

    def result(self, key: str) -> dict | None:
        """The recorded row of ``key`` (any attempt), or None while none is."""
        _, study = self._current(key)
        return None if study is None else study.user_attrs.get("row")

    def run(self, key: str, work: Callable[[], dict]) -> dict | None:
        """Claim ``key`` and run ``work`` (its row is recorded and returned), or None when another worker holds a
        live claim. A stale claim is taken over under the next attempt's name."""
        attempt, held = self._current(key)
        if held is not None:
            if "row" in held.user_attrs or time.time() - self._last_beat(key, attempt, held) < STALE_S:
                return held.user_attrs.get("row")
            held.set_user_attr("abandoned", True)
            log.warning("auto: %s was claimed by a worker that stopped: running it again", key)
            attempt += 1
        claim = self._claim(key, attempt)
        if claim is None:
            return None
        stop = threading.Event()
        beat = threading.Thread(target=_heartbeat, args=(claim, stop), daemon=True)
        beat.start()
        try:
            row = work()
        finally:
            stop.set()
            beat.join()
        claim.set_user_attr("row", row)
        return row

    def _last_beat(self, key: str, attempt: int, held) -> float:
        """The claim's last heartbeat; a claim created a moment ago has none yet: when this worker first saw it."""
        if "heartbeat" in held.user_attrs:
            return held.user_attrs["heartbeat"]
        return self._first_seen.setdefault(f"{key}/a{attempt}", time.time())

    def gather(self, keys: list[str], work: dict[str, Callable[[], dict]]) -> list[dict]:
        """Every row of ``keys``: run the unclaimed ones here, wait for the others (taking over stale claims)."""
        rows: dict[str, dict] = {}
        while len(rows) < len(keys):
            for key in keys:
                if key not in rows and (row := self.result(key) or self.run(key, work[key])) is not None:
                    rows[key] = row
            if len(rows) < len(keys):
                time.sleep(POLL_S)
        return [rows[k] for k in keys]


def _heartbeat(claim, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_S):
        claim.set_user_attr("heartbeat", time.time())
