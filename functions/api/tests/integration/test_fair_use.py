"""One client cannot hurt the others, through the API function's real Lambda entry point: an exhausted key's
refusals are counted but only a few logged, /usage has a limit of its own, a search's cost is bounded with a 422
naming the parameter, a query's own timeout is a 504 (not the database being away), and a 304 is free."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from marquee_local import stack
from marquee_local.lambda_context import LocalLambdaContext
from movie_common import access
from movie_common.database import connect, using_connection

Event = Callable[..., dict[str, Any]]
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def _key_id(conn: Any, raw: str) -> int:
    return int(conn.execute("SELECT id FROM api_keys WHERE key = %s", (access.hash_key(raw),)).fetchone()["id"])


def _exhaust(conn: Any, raw: str) -> None:
    conn.execute(
        "UPDATE api_keys SET usage_count = 100, usage_day = (now() AT TIME ZONE 'UTC')::date WHERE key = %s",
        (access.hash_key(raw),),
    )


def test_an_exhausted_keys_refusals_are_all_counted_but_only_ten_a_minute_logged(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("free")
    _exhaust(conn, key)
    statuses = [invoke(load_event("api", "genres", key=key))["statusCode"] for _ in range(25)]
    assert statuses == [429] * 25
    key_id = _key_id(conn, key)
    logged = conn.execute("SELECT count(*) AS n FROM usage_logs WHERE api_key_id = %s", (key_id,)).fetchone()
    assert logged["n"] == access.REFUSALS_LOGGED_PER_MINUTE == 10  # one transaction: one minute
    rollup = conn.execute(
        "SELECT requests, rejected FROM usage_daily WHERE api_key_id = %s AND endpoint = '/genres'", (key_id,)
    ).fetchone()
    assert rollup == {"requests": 0, "rejected": 25}


def test_usage_has_a_limit_of_its_own_and_past_it_writes_nothing(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("free")
    _exhaust(conn, key)  # /usage still answers an exhausted key: it is how the client learns when to come back
    answers = [invoke(load_event("api", "usage", key=key)) for _ in range(access.USAGE_READS_PER_MINUTE)]
    assert {a["statusCode"] for a in answers} == {200}
    key_id = _key_id(conn, key)
    before = conn.execute("SELECT xmin::text AS version FROM api_keys WHERE id = %s", (key_id,)).fetchone()
    refused = invoke(load_event("api", "usage", key=key))
    assert refused["statusCode"] == 429
    problem = refused["json"]
    assert problem["code"] == "rate_limited" and problem["limit"] == 60 and "/usage" in problem["detail"]
    assert 1 <= int(refused["headers"]["retry-after"]) <= 60
    # The headers describe the window that refused, /usage's own, not the plan's day or minute.
    assert refused["headers"]["x-ratelimit-limit"] == "60" and refused["headers"]["x-ratelimit-remaining"] == "0"
    assert refused["headers"]["ratelimit-policy"] == '"usage";q=60;w=60'
    after = conn.execute("SELECT xmin::text AS version FROM api_keys WHERE id = %s", (key_id,)).fetchone()
    assert after == before  # the refused read did not write the key row
    counted = conn.execute(
        "SELECT usage_count, total_count FROM api_keys WHERE id = %s", (key_id,)
    ).fetchone()  # never against the quota
    assert counted == {"usage_count": 100, "total_count": 0}
    logs = conn.execute("SELECT count(*) AS n FROM usage_logs WHERE api_key_id = %s", (key_id,)).fetchone()
    assert logs["n"] == 0


NEGATED_40 = " ".join(f"-w{i}" for i in range(40))


@pytest.mark.parametrize(
    ("query", "name", "reason"),
    [
        ({"q": NEGATED_40}, "q", "negated"),  # used to reach the statement timeout and answer 503
        ({"q": "-alien -shark -storm -ghost"}, "q", "negated"),
        ({"q": "-alien"}, "q", "not negated"),
        ({"q": "alien or -shark"}, "q", "not negated"),
        ({"q": " ".join(f"word{i}" for i in range(11))}, "q", "at most 10"),
        ({"q": "!!! ... ---"}, "q", "word"),
        ({"title": " ".join(["the"] * 21)}, "title", "at most 20 words"),
        ({"genre": ",".join(f"g{i}" for i in range(11))}, "genre", "at most 10"),
        ({"director": "x" * 101}, "director", "100"),
        ({"actor": "x" * 101}, "actor", "100"),
    ],
)
def test_what_one_search_can_cost_is_bounded_with_a_422_naming_the_parameter(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str], query: dict[str, str], name: str, reason: str
) -> None:
    response = invoke(load_event("api", "search", key=make_key("pro"), query=query))
    assert response["statusCode"] == 422, response["body"]
    problem = response["json"]
    assert problem["code"] == "validation_error"
    errors = {error["name"]: error["reason"] for error in problem["errors"]}
    assert name in errors and reason in errors[name], errors


@pytest.mark.parametrize("q", ["shark -alien -storm -ghost", "great white shark", '"great white" shark -jaws'])
def test_a_search_within_the_bounds_answers(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str], q: str
) -> None:
    response = invoke(load_event("api", "search", key=make_key("pro"), query={"q": q}))
    assert response["statusCode"] == 200, response["body"]


@pytest.fixture
def committed_pro_key(database_url: str) -> Iterator[str]:
    with connect(database_url) as setup:
        raw = stack.create_key(setup, owner_email="timeout-test@gmail.com", plan="pro").raw_key
    yield raw
    with connect(database_url) as cleanup:
        key_id = cleanup.execute("SELECT id FROM api_keys WHERE key = %s", (access.hash_key(raw),)).fetchone()["id"]
        cleanup.execute("DELETE FROM usage_logs WHERE api_key_id = %s", (key_id,))
        cleanup.execute("DELETE FROM usage_daily WHERE api_key_id = %s", (key_id,))
        cleanup.execute("DELETE FROM users WHERE canonical_email = 'timeout-test@gmail.com'")


@pytest.mark.commit
@pytest.mark.slow  # over a second in the suite
def test_a_query_past_the_statement_timeout_is_a_504_query_timeout_not_a_503(
    database_url: str, load_event: Event, committed_pro_key: str
) -> None:
    """Another session holds the movies table, so the movie's SELECT waits past the statement timeout and is
    cancelled: the database is up (the key was admitted), the query was too slow."""
    from movie_api.handler import handler

    holder = psycopg.connect(database_url)
    holder.execute("LOCK TABLE movies IN ACCESS EXCLUSIVE MODE")
    released = threading.Timer(10, holder.rollback)  # never block the suite, even if the handler hangs
    released.start()
    handler_conn = connect(database_url)  # autocommit, as in Lambda
    handler_conn.execute("SET statement_timeout = 300")
    try:
        with using_connection(handler_conn):
            response = handler(load_event("api", "get_movie", key=committed_pro_key), LocalLambdaContext())
    finally:
        released.cancel()
        holder.rollback()
        holder.close()
        handler_conn.close()
    assert response["statusCode"] == 504, response["body"]
    assert '"code":"query_timeout"' in response["body"].replace(" ", "")
    assert "retry-after" not in {k.lower() for k in response.get("headers", {})}


def test_a_304_is_free_and_logged_as_304(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("free")
    first = invoke(load_event("api", "get_movie", key=key))
    assert first["statusCode"] == 200 and first["headers"]["x-ratelimit-remaining"] == "29"
    etag = first["headers"]["etag"]
    remaining = []
    for _ in range(3):
        again = invoke(load_event("api", "get_movie", key=key, headers={"If-None-Match": etag}))
        assert again["statusCode"] == 304 and not again.get("body")
        remaining.append(again["headers"]["x-ratelimit-remaining"])
        assert '"day";r=99' in again["headers"]["ratelimit"]
    assert remaining == ["29", "29", "29"]  # used to be 28, 27, 26
    key_id = _key_id(conn, key)
    row = conn.execute("SELECT usage_count, minute_count, total_count FROM api_keys WHERE id = %s", (key_id,))
    assert row.fetchone() == {"usage_count": 1, "minute_count": 1, "total_count": 1}
    logged = conn.execute("SELECT status FROM usage_logs WHERE api_key_id = %s ORDER BY id", (key_id,)).fetchall()
    assert [r["status"] for r in logged] == [200, 304, 304, 304]
    rollup = conn.execute(
        "SELECT requests, rejected, not_modified FROM usage_daily WHERE api_key_id = %s", (key_id,)
    ).fetchone()
    assert rollup == {"requests": 1, "rejected": 0, "not_modified": 3}
    usage = invoke(load_event("api", "usage", key=key))["json"]
    assert {w["name"]: w["used"] for w in usage["windows"]} == {"minute": 1, "day": 1}


def test_free_304s_are_bounded_per_minute(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    """A key cannot make unlimited free requests: past its per-minute limit of refunds a 304 counts."""
    key = make_key("free")
    etag = invoke(load_event("api", "get_movie", key=key))["headers"]["etag"]
    key_id = _key_id(conn, key)
    conn.execute(
        "UPDATE api_keys SET free_minute_count = 30, free_minute_start = date_trunc('minute', now()) WHERE id = %s",
        (key_id,),
    )
    counted = invoke(load_event("api", "get_movie", key=key, headers={"If-None-Match": etag}))
    assert counted["statusCode"] == 304 and counted["headers"]["x-ratelimit-remaining"] == "28"
    logged = conn.execute("SELECT status FROM usage_logs WHERE api_key_id = %s ORDER BY id", (key_id,)).fetchall()
    assert [r["status"] for r in logged] == [200, 304]
