"""The `marquee run` processes of one $MARQUEE_HOME, recorded in $MARQUEE_HOME/runs.json so that `marquee stop`
can end them (SIGTERM, as an IDE or a process manager would) and nobody mistakes a dead run for a live one.

Each record carries the process's start time as well as its pid, so a pid the system has since given to another
program is never signalled. Records of processes that have ended are dropped whenever the file is read.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

RUNS_FILE = "runs.json"


@dataclass(frozen=True)
class RunRecord:
    """One `marquee run`: its pid, its start time (seconds since the epoch, as the system reports it) and the
    API URL it serves (empty until it serves)."""

    pid: int
    started: float
    api_url: str = ""

    def is_alive(self) -> bool:
        try:
            process = psutil.Process(self.pid)
            return bool(process.status() != psutil.STATUS_ZOMBIE and abs(process.create_time() - self.started) < 1.0)
        except psutil.Error:
            return False


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[list[RunRecord]]:
    """The live records, under an exclusive lock; what the block leaves in the list is written back."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / RUNS_FILE
    with (home / (RUNS_FILE + ".lock")).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            records: list[RunRecord] = []
            with contextlib.suppress(OSError, ValueError, TypeError):
                records = [RunRecord(**item) for item in json.loads(path.read_text())]
            live = [record for record in records if record.is_alive()]
            yield live
            if live:
                path.write_text(json.dumps([asdict(record) for record in live], indent=1) + "\n")
            else:
                path.unlink(missing_ok=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def register(home: Path, *, api_url: str = "") -> RunRecord:
    """Record this process as a `marquee run` of `home` (again, with its URL, once it serves)."""
    record = RunRecord(pid=os.getpid(), started=psutil.Process().create_time(), api_url=api_url)
    with _locked(home) as records:
        records[:] = [r for r in records if r.pid != record.pid] + [record]
    return record


def unregister(home: Path) -> None:
    """Remove this process's record."""
    with _locked(home) as records:
        records[:] = [r for r in records if r.pid != os.getpid()]


def live_runs(home: Path) -> list[RunRecord]:
    """The `marquee run` processes of `home` that are still running (this one excluded)."""
    with _locked(home) as records:
        return [r for r in records if r.pid != os.getpid()]


def stop_runs(home: Path, *, timeout: float = 30.0) -> list[RunRecord]:
    """SIGTERM every live `marquee run` of `home` and wait for each to stop (SIGKILL after `timeout` seconds:
    the caller then stops what it left running). Returns the runs that were stopped."""
    runs = live_runs(home)
    for run in runs:
        with contextlib.suppress(psutil.Error):
            psutil.Process(run.pid).send_signal(signal.SIGTERM)
    # Polled rather than psutil.wait_procs: an ended run that its parent has not reaped yet is a zombie, which
    # wait_procs would wait out to the timeout; is_alive() counts it as ended.
    deadline = time.monotonic() + timeout
    while any(run.is_alive() for run in runs) and time.monotonic() < deadline:
        time.sleep(0.1)
    for run in runs:
        if run.is_alive():
            with contextlib.suppress(psutil.Error):
                psutil.Process(run.pid).kill()
    return runs
