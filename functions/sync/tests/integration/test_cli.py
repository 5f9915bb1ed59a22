"""`marquee sync` and `marquee purge-tmdb` against the fake TMDB, committing into a scratch database of their own."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from marquee_local import cli, run, scheduler, stack
from marquee_local.fake_tmdb import FakeTmdb

pytestmark = [pytest.mark.commit, pytest.mark.slow]  # each test builds a database of its own


@pytest.fixture
def scratch_database(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database of its own (the CLI commits), migrated and seeded with two catalogue films."""
    name = f"marquee_sync_cli_{os.getpid()}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(database_url, dbname=name)
    seed = tmp_path / "seed.csv"
    seed.write_text(
        "title,year,genre,director,actors,plot,poster_url\n"
        "Fight Club,1999,Thriller,David Fincher,Brad Pitt|Edward Norton,A film.,\n"
        "Nosferatu,1922,Horror,F. W. Murnau,Max Schreck,A vampire.,\n",
        encoding="utf-8",
    )
    with stack.connect_admin(url) as conn:
        stack.prepare(conn, catalogue=seed)
    from movie_common.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()  # handlers read DATABASE_URL once per process
    try:
        yield url
    finally:
        monkeypatch.undo()
        stack.configure_environment(database_url)
        get_settings.cache_clear()
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def tmdb_env(fake_tmdb: FakeTmdb, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from movie_sync.settings import clear_settings

    monkeypatch.setenv("TMDB_API_BASE", fake_tmdb.url)
    monkeypatch.setenv("TMDB_API_TOKEN", fake_tmdb.token)
    clear_settings()
    yield
    clear_settings()


def _count(url: str, query: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def test_sync_prints_the_run_as_json_and_purge_undoes_it(
    scratch_database: str, tmdb_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sync"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one JSON object on one line
    run = json.loads(out)
    assert run["status"] == "succeeded"
    assert run["triggered_by"] == "cli"
    assert run["titles"]["updated"] == 1  # Fight Club, matched
    assert run["titles"]["new"] == 7
    assert _count(scratch_database, "SELECT count(*) FROM movies WHERE tmdb_id IS NOT NULL") == 8

    assert cli.main(["purge-tmdb"]) == 2  # asks for --yes
    assert cli.main(["purge-tmdb", "--yes"]) == 0
    assert "deleted 7 TMDB movies; cleared TMDB fields from 1 others" in capsys.readouterr().out
    assert _count(scratch_database, "SELECT count(*) FROM movies") == 2
    assert _count(scratch_database, "SELECT count(*) FROM movies WHERE tmdb_id IS NOT NULL") == 0


def test_sync_exits_non_zero_when_the_run_fails(
    scratch_database: str, tmdb_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from movie_sync.settings import clear_settings

    monkeypatch.setenv("TMDB_API_TOKEN", "revoked")
    clear_settings()

    assert cli.main(["sync"]) == 1
    run = json.loads(capsys.readouterr().out)
    assert run["status"] == "failed"
    assert "TMDB_API_TOKEN" in run["message"]


def test_sync_without_a_token_explains_and_changes_nothing(
    scratch_database: str, tmdb_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from movie_sync.settings import clear_settings

    monkeypatch.delenv("TMDB_API_TOKEN")
    clear_settings()

    assert cli.main(["sync"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "TMDB_API_TOKEN" in captured.err
    assert _count(scratch_database, "SELECT count(*) FROM sync_runs") == 0


def _run_context(database_url: str, logged: list[str]) -> run.RunContext:
    return run.RunContext(args=argparse.Namespace(), home=Path(), database_url=database_url, log=logged.append)


def test_marquee_run_starts_the_daily_sync_and_runs_it_now_when_due(scratch_database: str, tmdb_env: None) -> None:
    """The scheduler service invokes SyncFunction in its local environment (the template's environment with
    TMDB_API_TOKEN and TMDB_API_BASE from this shell) with a scheduled event, at start since no sync succeeded."""
    logged: list[str] = []
    context = _run_context(scratch_database, logged)
    server = stack.serve_gateway(database_url=scratch_database, max_environments=1)
    context.gateway = server.server.config.app
    daily = scheduler.service(context)
    assert daily is not None
    try:
        daily.start()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if _count(scratch_database, "SELECT count(*) FROM sync_runs WHERE status <> 'running'"):
                break
            time.sleep(0.2)
        while time.monotonic() < deadline and not any(line.startswith("TMDB sync succeeded") for line in logged):
            time.sleep(0.1)
    finally:
        daily.stop()
        server.stop()
    assert daily.describe() == ["TMDB sync  daily at 03:15 UTC (and now)"]
    assert any(line.startswith("TMDB sync succeeded") for line in logged), logged
    assert _count(scratch_database, "SELECT count(*) FROM sync_runs WHERE status = 'succeeded'") == 1
    assert _count(scratch_database, "SELECT count(*) FROM tmdb_list_ranks WHERE list = 'popular'") == 6


def test_marquee_run_without_a_token_leaves_the_sync_off(
    scratch_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TMDB_API_TOKEN", raising=False)
    logged: list[str] = []
    assert scheduler.service(_run_context(scratch_database, logged)) is None
    assert any("TMDB sync off" in line for line in logged)
