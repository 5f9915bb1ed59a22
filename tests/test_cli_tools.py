"""`marquee psql` (psql on the stack's database) and `marquee reset` (the local data deleted, the virtual
environments kept), run as a user runs them. (`marquee keys` is the admin's: functions/admin/tests.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from marquee_local import postgres

MARQUEE = Path(sys.executable).with_name("marquee")
# What the test session's own stack set in this process's environment (stack.configure_environment): a `marquee`
# started from here must work out its own.
STACK_VARIABLES = {
    "DATABASE_URL",
    "OUTBOX_DIR",
    "UPLOADS_LOCAL_ROOT",
    "CORS_ALLOW_ORIGIN",
    "PORTAL_URL",
    "USAGE_PLAN_KEYS",
}


def _marquee(*args: str, home: Path | None = None, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name not in STACK_VARIABLES}
    if home is not None:
        env["MARQUEE_HOME"] = str(home)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [str(MARQUEE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        stdin=subprocess.DEVNULL,  # no terminal: what `marquee reset` cannot ask on
    )


def _postgres_of(home: Path) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"]) if str(home) in " ".join(p.info["cmdline"] or [])]


@pytest.mark.slow
def test_psql_opens_the_database_of_database_url(database_url: str) -> None:
    done = _marquee("psql", "-tAc", "SELECT count(*) FROM movies", database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) > 30_000


@pytest.mark.slow
def test_psql_reports_a_failing_statement_with_psqls_status(database_url: str) -> None:
    done = _marquee("psql", "-v", "ON_ERROR_STOP=1", "-c", "SELECT * FROM no_such_table", database_url=database_url)
    assert done.returncode == 1 and 'relation "no_such_table" does not exist' in done.stderr


@pytest.mark.slow
def test_psql_help_is_marquees_and_psqls_own_is_after_the_double_dash(database_url: str) -> None:
    ours = _marquee("psql", "--help", database_url=database_url)
    assert ours.returncode == 0 and ours.stdout.startswith("usage: marquee psql"), ours.stderr
    theirs = _marquee("psql", "--", "--help", database_url=database_url)
    assert theirs.returncode == 0, theirs.stderr
    assert "psql is the PostgreSQL interactive terminal" in theirs.stdout


@pytest.mark.slow
def test_psql_on_the_embedded_database_starts_it_and_stops_it_after(tmp_path: Path) -> None:
    done = _marquee("psql", "-tAc", "SELECT current_setting('server_version_num')::int >= 180000", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "t"
    assert postgres.server_pid(tmp_path / "pgdata") is None and _postgres_of(tmp_path) == []


@pytest.mark.slow
def test_reset_deletes_the_stacks_data_and_keeps_the_tests_and_benchmarks(tmp_path: Path) -> None:
    assert _marquee("create-key", "--owner", "reset@example.com", home=tmp_path).returncode == 0
    (tmp_path / "demo-key").write_text("a key\n")
    (tmp_path / "test").mkdir()
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "results.json").write_text("{}")

    unconfirmed = _marquee("reset", home=tmp_path)  # no terminal to ask on: refused, nothing deleted
    assert unconfirmed.returncode == 1
    assert "Run `marquee reset --yes` to confirm" in unconfirmed.stderr
    assert (tmp_path / "pgdata" / "PG_VERSION").exists() and (tmp_path / "demo-key").exists()

    done = _marquee("reset", "--yes", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "the next `marquee run` starts from an empty database" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench", "test"]
    assert (tmp_path / "bench" / "results.json").exists()
    assert _postgres_of(tmp_path) == []
    # And the stack starts again from nothing.
    again = _marquee("psql", "-tAc", "SELECT to_regclass('movies') IS NULL", home=tmp_path)
    assert again.stdout.strip() == "t"


@pytest.mark.slow
def test_reset_leaves_a_database_url_alone(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "demo-key").write_text("a key\n")
    done = _marquee("reset", "--yes", home=tmp_path, database_url=database_url)
    assert done.returncode == 1
    assert done.stderr.startswith("marquee reset: DATABASE_URL is set, and marquee reset only deletes the embedded")
    assert (tmp_path / "demo-key").exists()


def _make_reset(home: Path, *variables: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name not in STACK_VARIABLES}
    env["MARQUEE_HOME"] = str(home)
    return subprocess.run(
        ["make", "--no-print-directory", "reset", *variables],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        stdin=subprocess.DEVNULL,  # CI, a pipe: no terminal to ask on
    )


@pytest.mark.slow
def test_make_reset_yes_resets_without_a_terminal_and_a_plain_one_says_how(tmp_path: Path) -> None:
    # A tester's CI ran `make reset`: it stopped with "Run `marquee reset --yes`", which make had no way to pass.
    (tmp_path / "demo-key").write_text("a key\n")
    (tmp_path / "test").mkdir()
    asked = _make_reset(tmp_path)
    assert asked.returncode != 0 and "`make reset YES=1`" in asked.stderr
    assert (tmp_path / "demo-key").exists()
    done = _make_reset(tmp_path, "YES=1")
    assert done.returncode == 0, done.stderr
    assert "the next `marquee run` starts from an empty database" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test"]
