"""`marquee run`'s watch over its embedded PostgreSQL (marquee_local.postgres_watch), with a stand-in postmaster (a
process the test ends) and a stand-in restart: what it says when the server dies, when it comes back, and when it
cannot. The real kill -9 of a running stack's server is in tests/test_stack_lifecycle.py."""

from __future__ import annotations

import argparse
import subprocess
import threading
from pathlib import Path

import psutil
import pytest

from marquee_local import postgres_watch, run
from marquee_local.postgres import EmbeddedPostgres


class _Restarts:
    """A restart that fails `failures` times with a server log's tail, then starts a new stand-in postmaster."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.started: list[subprocess.Popen[bytes]] = []

    def __call__(self, embedded: EmbeddedPostgres) -> psutil.Process:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(
                "LOG:  starting PostgreSQL\nFATAL:  pre-existing shared memory block (key 1, ID 2) is still in use\n"
            )
        process = subprocess.Popen(["sleep", "60"])
        self.started.append(process)
        return psutil.Process(process.pid)


def _watch(tmp_path: Path, restarts: _Restarts, *, tries: int = 3) -> tuple[list[str], threading.Thread, int]:
    """Start the watch on a stand-in postmaster, kill it, and return the log, the watch's thread and the pid."""
    lines: list[str] = []
    context = run.RunContext(args=argparse.Namespace(), home=tmp_path, database_url="", log=lines.append)
    embedded = EmbeddedPostgres(pgdata=tmp_path / "pgdata", server=None)  # type: ignore[arg-type]
    watch = postgres_watch.PostgresWatchService(
        context, embedded, interval=0.05, tries=tries, backoff=0.01, restart=restarts
    )
    postmaster = subprocess.Popen(["sleep", "60"])
    thread = threading.Thread(target=watch._watch, args=(psutil.Process(postmaster.pid),), daemon=True)
    thread.start()
    postmaster.kill()  # not reaped yet: a zombie counts as gone
    return lines, thread, postmaster.pid


@pytest.mark.slow
def test_a_dead_server_is_said_plainly_and_restarted_after_a_failed_try(tmp_path: Path) -> None:
    restarts = _Restarts(failures=1)
    lines, thread, pid = _watch(tmp_path, restarts)
    try:
        for _ in range(200):
            if any(line.startswith("PostgreSQL restarted") for line in lines):
                break
            thread.join(0.05)
        pgdata = tmp_path / "pgdata"
        assert lines[0].startswith(f"ERROR PostgreSQL exited: its server (pid {pid}, data folder {pgdata}) is gone")
        assert "503 database_unavailable; restarting it" in lines[0] and str(pgdata / "log") in lines[0]
        assert lines[1] == (
            "ERROR PostgreSQL did not start again (try 1 of 3): FATAL:  pre-existing shared memory block (key 1, "
            "ID 2) is still in use"
        )
        assert lines[2] == (
            f"PostgreSQL restarted (pid {restarts.started[0].pid}, data folder {pgdata}); the functions reconnect on "
            "their next request"
        )
        assert thread.is_alive()  # and it watches the new server
        restarts.started[0].kill()
        for _ in range(200):
            if len(restarts.started) == 2:
                break
            thread.join(0.05)
        assert len(restarts.started) == 2
    finally:
        for process in restarts.started:
            process.kill()
            process.wait()


def test_a_server_that_will_not_start_again_is_said_with_what_to_do(tmp_path: Path) -> None:
    restarts = _Restarts(failures=99)
    lines, thread, _ = _watch(tmp_path, restarts, tries=2)
    thread.join(10)
    assert not thread.is_alive()  # it gave up: bounded tries
    assert restarts.calls == 2
    assert [line.split(":")[0] for line in lines] == [
        "ERROR PostgreSQL exited",
        "ERROR PostgreSQL did not start again (try 1 of 2)",
        "ERROR PostgreSQL did not start again (try 2 of 2)",
        "ERROR PostgreSQL could not be restarted after 2 tries (FATAL",
    ]
    assert "the API answers 503 until it runs" in lines[-1]
    assert "`marquee stop`" in lines[-1] and "`marquee run`" in lines[-1] and "make stop && make run" in lines[-1]
