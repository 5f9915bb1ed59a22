"""`make test` leaves nothing running: a test session that takes a PostgreSQL away and brings it back (the outage
test restarts it with pg_ctl, so the wheel no longer owns it) still stops every server it started."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[1]

# Runs a command as a child subreaper that reaps every orphan at once, as init does on an ordinary machine. (PID 1 of
# some containers never reaps: a stopped postmaster then lingers as a zombie, and the wheel, seeing its old pid
# "running", stops the restarted server by luck; under a reaper only the suite's own stop can.)
REAPER = """
import ctypes, os, subprocess, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
child = subprocess.Popen(sys.argv[1:])
while True:
    pid, status = os.wait()
    if pid == child.pid:
        sys.exit(os.waitstatus_to_exitcode(status))
"""


def _processes_naming(folder: Path) -> list[str]:
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(folder) in cmdline and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(cmdline)
    return found


@pytest.mark.slow
def test_a_test_session_with_the_outage_test_stops_every_postgresql_it_started(tmp_path: Path) -> None:
    home = tmp_path / "test-home"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MARQUEE_TEST_DATABASE_URL"}}
    env["MARQUEE_TEST_HOME"] = str(home)
    env["XDG_RUNTIME_DIR"] = str(tmp_path / "run")
    (tmp_path / "run").mkdir(mode=0o700)
    session = subprocess.run(
        [
            sys.executable,
            "-c",
            REAPER,
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "functions/api/tests/integration/test_database_outage.py",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert session.returncode == 0, session.stdout[-3000:] + session.stderr[-3000:]
    # Every test of the outage file ran and passed (none skipped): the outage test's own server was started.
    assert re.search(r"\b\d+ passed in ", session.stdout) and not re.search(r"skipped|failed|error", session.stdout)
    # Both of the session's servers ran in the folder: the suite's own and the outage test's.
    assert (home / "pgdata" / "PG_VERSION").exists() and (home / "outage-pgdata" / "PG_VERSION").exists()
    assert _processes_naming(home) == []
