"""When PostgreSQL goes away the API answers 503 problems promptly, and recovers on its own when it is back."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from marquee_local.lambda_context import LocalLambdaContext
from marquee_local.postgres import EmbeddedPostgres, pg_ctl_start, pg_ctl_stop
from movie_common import database

REPO = Path(__file__).resolve().parents[4]
EVENTS = REPO / "functions/api/events"


# One worker thread plays one warm Lambda environment, so its cached connection really breaks and reconnects.
_environment = ThreadPoolExecutor(1, initializer=lambda: asyncio.set_event_loop(asyncio.new_event_loop()))


def _call(name: str, key: str | None = None) -> dict[str, Any]:
    """Invoke the handler in the environment's thread; fail (not hang) if it outlives the database timeouts."""
    from movie_api.handler import handler

    event = json.loads((EVENTS / f"{name}.json").read_text())
    if key:
        event["headers"]["X-API-KEY"] = key
        event["multiValueHeaders"]["X-API-KEY"] = [key]
    response: dict[str, Any] = _environment.submit(handler, event, LocalLambdaContext()).result(timeout=30)
    response["headers"] = {k.lower(): v for k, v in response["headers"].items()}
    return response


@pytest.mark.slow
def test_database_down_gives_503_and_recovery_is_automatic(outage_database: tuple[EmbeddedPostgres, str]) -> None:
    server, key = outage_database
    _environment.submit(database.close_connection).result()  # this environment starts on the outage database
    assert _call("genres", key)["statusCode"] == 200  # opens this environment's connection

    pg_ctl_stop(server.pgdata)
    for name in ("genres", "genres", "health"):  # the broken connection, then failed reconnects
        response = _call(name, key)
        assert response["statusCode"] == 503, response.get("body")
        problem = json.loads(response["body"])
        assert problem["code"] == "database_unavailable" and problem["status"] == 503
        assert response["headers"]["retry-after"] == "5"

    pg_ctl_start(server)
    assert _call("genres", key)["statusCode"] == 200
    assert _call("health")["statusCode"] == 200
    _environment.submit(database.close_connection).result()


@pytest.mark.slow
def test_a_database_restarted_while_the_environment_was_idle_is_not_a_503(
    outage_database: tuple[EmbeddedPostgres, str],
) -> None:
    """The database is back before the environment's next request: that request is answered, not a 503 on the
    connection the restart ended (each warm environment answered one 503, minutes after, before; found by the
    sixth tester). /usage is never sent ahead, so nothing else notices the lost connection first."""
    server, key = outage_database
    _environment.submit(database.close_connection).result()
    assert _call("usage", key)["statusCode"] == 200  # opens this environment's connection
    pg_ctl_stop(server.pgdata)
    pg_ctl_start(server)
    assert _call("usage", key)["statusCode"] == 200
    assert _call("health")["statusCode"] == 200
    _environment.submit(database.close_connection).result()
