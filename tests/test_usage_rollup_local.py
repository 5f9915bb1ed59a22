"""`marquee run`'s stand-in for UsageRollupFunction's schedule: the real handler, in its local execution environment,
closes the finished days at start, as the daily EventBridge rule does deployed."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from marquee_local import run, stack, usage_rollup

pytestmark = [pytest.mark.commit, pytest.mark.slow]  # a database of its own: the rollup commits


@pytest.fixture
def scratch_database(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"marquee_rollup_{os.getpid()}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(database_url, dbname=name)
    seed = tmp_path / "seed.csv"
    seed.write_text("title,year,genre,director,actors,plot,poster_url\nNosferatu,1922,Horror,,,,\n", encoding="utf-8")
    with stack.connect_admin(url) as conn:
        stack.prepare(conn, catalogue=seed)
    try:
        yield url
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_rollup_runs_at_start_and_closes_the_finished_days(scratch_database: str) -> None:
    today = datetime.now(UTC).date()
    three_days_ago = today - timedelta(days=3)
    with stack.connect_admin(scratch_database) as conn:
        key_id = stack.create_key(conn, owner_email="rollup@example.com", plan="free").key_id
        conn.commit()
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute("UPDATE usage_rollup_state SET open_from = %s", (three_days_ago,))
        conn.execute(
            "INSERT INTO usage_daily (api_key_id, day, endpoint, requests) VALUES (%s, %s, '/movies', 7)",
            (key_id, today - timedelta(days=2)),
        )
    logged: list[str] = []
    context = run.RunContext(args=argparse.Namespace(), home=Path(), database_url=scratch_database, log=logged.append)
    server = stack.serve_gateway(database_url=scratch_database, max_environments=1)
    context.gateway = server.server.config.app
    daily = usage_rollup.service(context)
    try:
        daily.start()
        deadline = time.monotonic() + 60
        open_from = three_days_ago
        while time.monotonic() < deadline and open_from != today:
            time.sleep(0.2)
            with psycopg.connect(scratch_database) as conn:
                open_from = conn.execute("SELECT open_from FROM usage_rollup_state").fetchone()[0]
    finally:
        daily.stop()
        server.stop()
    assert daily.describe() == ["Rollup     daily at 00:15 UTC (and now)"]
    assert open_from == today, logged
    with psycopg.connect(scratch_database) as conn:
        closed = conn.execute(
            "SELECT day, requests FROM usage_day_totals WHERE day = %s", (today - timedelta(days=2),)
        ).fetchall()
    assert [row[1] for row in closed] == [7]
