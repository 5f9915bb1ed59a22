"""SyncFunction's real Lambda entry point driven by real-shaped EventBridge events (functions/sync/events/)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from marquee_local.fake_tmdb import FakeTmdb
from marquee_local.lambda_context import LocalLambdaContext

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


@pytest.fixture
def sync_env(monkeypatch: pytest.MonkeyPatch, fake_tmdb: FakeTmdb) -> Iterator[Callable[..., None]]:
    """Point the function's settings (read once per environment) at the fake; re-read after each change."""
    from movie_sync.settings import clear_settings

    def configure(**env: str | None) -> None:
        values = {"TMDB_API_BASE": fake_tmdb.url, "TMDB_API_TOKEN": fake_tmdb.token, "TMDB_LIST_PAGES": "2"} | env
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        clear_settings()

    configure()
    yield configure
    monkeypatch.undo()
    clear_settings()


def invoke(event: dict[str, Any], *, timeout: float = 60.0) -> dict[str, Any]:
    from movie_sync.handler import handler

    result: dict[str, Any] = handler(event, LocalLambdaContext(function_name="SyncFunction", timeout_seconds=timeout))
    return result


@pytest.mark.slow
def test_scheduled_event_runs_the_sync_and_keeps_partitions(conn: Any, fake_tmdb: FakeTmdb, sync_env: Any) -> None:
    ahead = conn.execute(
        "SELECT 'usage_logs_' || to_char((now() AT TIME ZONE 'UTC') + interval '2 months', 'YYYY_MM') AS name"
    ).fetchone()["name"]
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(ahead)))

    summary = invoke(load("scheduled"))

    assert summary["status"] == "succeeded"
    assert summary["triggered_by"] == "schedule"
    assert summary["titles"] == {"new": 3, "updated": 5, "unchanged": 0, "skipped": 0, "gone": 0}
    assert summary["errors"] == []
    stored = conn.execute("SELECT status, triggered_by FROM sync_runs WHERE id = %s", (summary["id"],)).fetchone()
    assert (stored["status"], stored["triggered_by"]) == ("succeeded", "schedule")
    assert conn.execute("SELECT to_regclass(%s) AS t", (ahead,)).fetchone()["t"] is not None  # made again


@pytest.mark.slow
def test_admin_request_event_is_recorded_as_admin(conn: Any, fake_tmdb: FakeTmdb, sync_env: Any) -> None:
    summary = invoke(load("sync_requested"))
    assert summary["status"] == "succeeded"
    assert summary["triggered_by"] == "admin"


@pytest.mark.slow
def test_the_local_stacks_start_up_event_is_recorded_as_startup_not_daily(
    conn: Any, fake_tmdb: FakeTmdb, sync_env: Any
) -> None:
    from marquee_local.scheduler import DailySync

    sent: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    schedule = DailySync(lambda e: sent.append(e) or invoke(e), report=summaries.append, due_at_start=True)
    schedule.run_once(startup=True)  # what `marquee run` sends at start when no sync succeeded in the last day
    assert sent[0]["detail-type"] == "Scheduled Event" and sent[0]["detail"] == {"trigger": "startup"}
    assert summaries[0]["triggered_by"] == "startup"
    stored = conn.execute("SELECT triggered_by FROM sync_runs WHERE id = %s", (summaries[0]["id"],)).fetchone()
    assert stored["triggered_by"] == "startup"
    schedule.run_once()  # the daily one
    assert summaries[1]["triggered_by"] == "schedule"


def test_without_a_token_the_handler_says_so_and_changes_nothing(
    conn: Any, fake_tmdb: FakeTmdb, sync_env: Callable[..., None]
) -> None:
    sync_env(TMDB_API_TOKEN=None, TMDB_API_TOKEN_SECRET_ARN=None)
    runs = conn.execute("SELECT count(*) AS n FROM sync_runs").fetchone()["n"]

    summary = invoke(load("sync_requested"))

    assert summary["status"] == "not_configured"
    assert "TMDB_API_TOKEN" in summary["message"]
    assert conn.execute("SELECT count(*) AS n FROM sync_runs").fetchone()["n"] == runs
    assert fake_tmdb.requests == []


def test_a_failed_run_is_answered_not_raised(conn: Any, fake_tmdb: FakeTmdb, sync_env: Callable[..., None]) -> None:
    """A run TMDB refuses is recorded as failed and the handler returns it: raising (its log line once put `message`
    in the record's extra, which logging refuses) would make Lambda's asynchronous retries run it twice more."""
    sync_env(TMDB_API_TOKEN="not-the-token")

    summary = invoke(load("sync_requested"))

    assert summary["status"] == "failed"
    assert "TMDB" in summary["message"]
    stored = conn.execute("SELECT status FROM sync_runs WHERE id = %s", (summary["id"],)).fetchone()
    assert stored["status"] == "failed"


@pytest.mark.slow
def test_a_token_tmdb_refused_is_read_again_from_the_secret_on_the_next_run(
    conn: Any, fake_tmdb: FakeTmdb, sync_env: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The nineteenth tester: a warm environment kept the token it first read from Secrets Manager, so after TMDB
    refused it (a revoked or mistyped token) and the operator put a new one in the secret, every run in that
    environment still sent the old token and failed until a cold start. A refused token is forgotten now."""
    import movie_common.secrets

    secret = {"value": "not-the-token"}
    monkeypatch.setattr(movie_common.secrets, "fetch_secret_string", lambda arn: secret["value"])
    sync_env(TMDB_API_TOKEN=None, TMDB_API_TOKEN_SECRET_ARN="arn:aws:secretsmanager:eu-west-1:1:secret:tmdb")

    refused = invoke(load("sync_requested"))
    assert refused["status"] == "failed"
    assert "TMDB_API_TOKEN_SECRET_ARN" in refused["message"]

    secret["value"] = json.dumps({"token": fake_tmdb.token})  # the operator's put-secret-value
    fixed = invoke(load("sync_requested"))
    assert fixed["status"] == "succeeded", fixed["message"]


@pytest.mark.slow
def test_a_short_invocation_stops_before_its_timeout_and_resumes(
    conn: Any, fake_tmdb: FakeTmdb, sync_env: Callable[..., None]
) -> None:
    for n in range(30):
        fake_tmdb.add_movie(810_000 + n, f"Queued Picture {n}", release_date="2021-01-01")
    fake_tmdb.set_list("/movie/popular", [810_000 + n for n in range(30)])
    fake_tmdb.fault(r"^/movie/810\d\d\d$", "slow", delay=0.2)
    sync_env(TMDB_CONCURRENCY="2", SYNC_STOP_MARGIN_SECONDS="1")

    first = invoke(load("scheduled"), timeout=2.5)  # a budget of 1.5 seconds

    assert first["status"] == "partial"
    assert first["queued"] > 0
    fake_tmdb.clear_faults()
    second = invoke(load("scheduled"))
    assert second["status"] == "succeeded"
    assert second["queued"] == 0
    assert (
        conn.execute("SELECT count(*) AS n FROM movies WHERE tmdb_id BETWEEN 810000 AND 810029").fetchone()["n"] == 30
    )
