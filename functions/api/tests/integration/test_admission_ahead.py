"""The admission sent ahead (movie_web.key_auth.admitting_ahead): through the API function's real Lambda entry point,
a keyed request's admission reaches PostgreSQL as the event arrives and the key dependency reads its answer; every
request is still counted and logged exactly once, with the same answer as the ordinary path, and whatever the
request does not take is settled before the next one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from marquee_local import stack
from movie_common import access, database
from movie_common.database import connect, using_connection
from movie_common.db import api_keys

Event = Callable[..., dict[str, Any]]
Invoke = Callable[[dict[str, Any]], dict[str, Any]]

pytestmark = pytest.mark.commit

OWNER = "admission-ahead-test@gmail.com"


@pytest.fixture
def conn(database_url: str) -> Iterator[Any]:
    """The handler's connection as in Lambda: autocommit, so idle between requests (an admission is only sent
    ahead on an idle connection: inside a transaction its failure would spoil the ordinary path's retry). Every
    handler in the test uses it; what the test wrote is deleted at the end."""
    live = connect(database_url)
    try:
        with using_connection(live):
            yield live
    finally:
        keys = [
            r["id"]
            for r in live.execute(
                "SELECT a.id FROM api_keys a JOIN users u ON u.id = a.owner_id WHERE u.canonical_email = %s", (OWNER,)
            )
        ]
        live.execute("DELETE FROM usage_logs WHERE api_key_id = ANY(%s)", (keys,))
        live.execute("DELETE FROM usage_daily WHERE api_key_id = ANY(%s)", (keys,))
        live.execute("DELETE FROM users WHERE canonical_email = %s", (OWNER,))
        live.close()


@pytest.fixture
def make_key(conn: Any) -> Callable[[str], str]:
    def make(plan: str) -> str:
        return stack.create_key(conn, owner_email=OWNER, plan=plan).raw_key

    return make


def _sent_ahead(conn: Any) -> int:
    """How many times this connection ran the admission sent ahead (PostgreSQL counts a prepared statement's
    executions by plan kind)."""
    row = conn.execute(
        "SELECT coalesce(sum(generic_plans + custom_plans), 0) AS n FROM pg_prepared_statements"
        " WHERE name = 'marquee_admit_ok'"
    ).fetchone()
    return int(row["n"])


def _counts(conn: Any, raw: str) -> dict[str, Any]:
    return dict(
        conn.execute(
            "SELECT a.total_count, (SELECT count(*) FROM usage_logs l WHERE l.api_key_id = a.id) AS logged,"
            " (SELECT coalesce(sum(requests), 0) FROM usage_daily d WHERE d.api_key_id = a.id) AS rolled"
            " FROM api_keys a WHERE a.key = %s",
            (access.hash_key(raw),),
        ).fetchone()
    )


def test_a_warm_routes_admission_is_sent_ahead_and_counted_once(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("free")
    first = invoke(load_event("api", "get_movie", key=key))  # the route's dependency runs: now it is known
    assert first["statusCode"] == 200
    before = _sent_ahead(conn)
    answers = [invoke(load_event("api", "get_movie", key=key)) for _ in range(3)]
    assert [a["statusCode"] for a in answers] == [200, 200, 200]
    assert _sent_ahead(conn) == before + 3
    assert _counts(conn, key) == {"total_count": 4, "logged": 4, "rolled": 4}
    # The answer read ahead is the one the client sees: the windows count each request once.
    assert [int(a["headers"]["x-ratelimit-remaining"]) for a in [first, *answers]] == [
        int(first["headers"]["x-ratelimit-limit"]) - n for n in (1, 2, 3, 4)
    ]
    assert first["json"] == answers[-1]["json"]


@pytest.mark.slow  # over 0.35 s (README: the fast tier)
def test_head_and_every_keyed_route_are_sent_ahead_under_their_own_template(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("pro")
    for name in ("list_movies", "get_movie", "search", "genres"):
        invoke(load_event("api", name, key=key))
    before = _sent_ahead(conn)
    for name in ("list_movies", "get_movie", "search", "genres"):
        assert invoke(load_event("api", name, key=key))["statusCode"] == 200
    assert invoke(load_event("api", "get_movie", key=key, method="HEAD"))["statusCode"] == 200
    assert _sent_ahead(conn) == before + 5
    newest = conn.execute(
        "SELECT l.endpoint, l.method, l.status FROM usage_logs l JOIN api_keys a ON a.id = l.api_key_id"
        " WHERE a.key = %s ORDER BY l.id DESC LIMIT 5",
        (access.hash_key(key),),
    ).fetchall()
    assert [(r["endpoint"], r["method"], r["status"]) for r in reversed(newest)] == [
        ("/movies", "GET", 200),
        ("/movies/{id}", "GET", 200),
        ("/search", "GET", 200),
        ("/genres", "GET", 200),
        ("/movies/{id}", "HEAD", 200),
    ]


def test_usage_is_never_sent_ahead_so_it_never_counts(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("free")
    for _ in range(3):
        assert invoke(load_event("api", "usage", key=key))["statusCode"] == 200
    assert _sent_ahead(conn) == 0
    assert _counts(conn, key) == {"total_count": 0, "logged": 0, "rolled": 0}


def test_a_refused_key_sent_ahead_gets_the_same_refusal(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("free")
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200
    conn.execute("UPDATE api_keys SET status = 'revoked' WHERE key = %s", (access.hash_key(key),))
    before = _sent_ahead(conn)
    refused = invoke(load_event("api", "get_movie", key=key))
    assert _sent_ahead(conn) == before + 1
    assert refused["statusCode"] == 403
    assert refused["json"]["code"] == "key_revoked"
    conn.execute(
        "UPDATE api_keys SET status = 'active', usage_count = 100, usage_day = (now() AT TIME ZONE 'UTC')::date"
        " WHERE key = %s",
        (access.hash_key(key),),
    )
    limited = invoke(load_event("api", "get_movie", key=key))
    assert limited["statusCode"] == 429
    assert limited["json"]["code"] == "daily_quota_exceeded"


def test_an_admission_the_request_never_took_is_logged_with_the_answers_status(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("free")
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200
    # API Gateway's resource says /movies/{id}, but the path routes nowhere: the key dependency never runs.
    event = load_event("api", "get_movie", key=key)
    event["path"] = "/nowhere/at/all"
    lost = invoke(event)
    assert lost["statusCode"] == 404
    newest = conn.execute(
        "SELECT l.endpoint, l.status FROM usage_logs l JOIN api_keys a ON a.id = l.api_key_id"
        " WHERE a.key = %s ORDER BY l.id DESC LIMIT 1",
        (access.hash_key(key),),
    ).fetchone()
    assert dict(newest) == {"endpoint": "/movies/{id}", "status": 404}
    # The connection was left idle: the next request is answered and counted as usual.
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200
    assert _counts(conn, key)["total_count"] == 3


def test_nothing_is_sent_ahead_inside_a_transaction(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("free")
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200
    before = _sent_ahead(conn)
    conn.execute("BEGIN")
    try:
        assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200
        assert _sent_ahead(conn) == before
    finally:
        conn.execute("COMMIT")
    assert _counts(conn, key)["total_count"] == 2


def test_a_lost_prepared_statement_falls_back_to_the_ordinary_admission(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("free")
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200
    conn.execute("DEALLOCATE marquee_admit_ok")  # as a connection pooler or a reset would
    answer = invoke(load_event("api", "get_movie", key=key))
    assert answer["statusCode"] == 200
    assert _counts(conn, key) == {"total_count": 3, "logged": 3, "rolled": 3}
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200  # prepared again
    assert _sent_ahead(conn) >= 1
    assert _counts(conn, key)["total_count"] == 4


@pytest.mark.parametrize(
    "shape",
    ["lower-case name", "bearer", "both headers", "repeated header", "folded repeat"],
)
def test_every_shape_of_key_headers_is_read_ahead_as_the_dependency_reads_it(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str], shape: str
) -> None:
    key = make_key("free")
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200
    if shape == "lower-case name":
        event = load_event("api", "get_movie", key=None, headers={"x-api-key": key})
    elif shape == "bearer":
        event = load_event("api", "get_movie", key=None, headers={"Authorization": f"Bearer {key}"})
    elif shape == "both headers":
        event = load_event("api", "get_movie", key=key, headers={"Authorization": f"Bearer {key}"})
    else:
        event = load_event("api", "get_movie", key=key)
        name = next(n for n in event["multiValueHeaders"] if n.lower() == "x-api-key")
        event["multiValueHeaders"][name] = [key, key] if shape == "repeated header" else [f"{key}, {key}"]
    before = _sent_ahead(conn)
    assert invoke(event)["statusCode"] == 200
    assert _sent_ahead(conn) == before + 1
    assert _counts(conn, key) == {"total_count": 2, "logged": 2, "rolled": 2}


def test_a_key_the_rules_refuse_before_the_database_is_never_sent_ahead(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key, other = make_key("free"), make_key("free")
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200
    before = _sent_ahead(conn)
    conflicting = invoke(load_event("api", "get_movie", key=key, headers={"Authorization": f"Bearer {other}"}))
    assert conflicting["statusCode"] == 403
    assert conflicting["json"]["code"] == "conflicting_api_keys"
    assert invoke(load_event("api", "get_movie", key="not-a-key"))["json"]["code"] == "malformed_api_key"
    assert _sent_ahead(conn) == before
    assert _counts(conn, key)["total_count"] == 1
    assert _counts(conn, other)["total_count"] == 0


@pytest.mark.parametrize("spelling", ["\xa0{key}", "{key}\x85", "\u2003{key}"])
def test_a_key_beside_whitespace_http_does_not_allow_is_refused_and_never_counted(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str], spelling: str
) -> None:
    """A header byte 0xA0 (or 0x85) reaches the event as U+00A0, which str.strip() drops; Mangum hands the app the
    same value as UTF-8 bytes, which Starlette reads as Latin-1 ('Â\\xa0…'): the admission was sent ahead for the
    key, counting the request, while the dependency refused it as malformed (found by the sixth tester)."""
    key = make_key("free")
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200
    before = _sent_ahead(conn)
    refused = invoke(load_event("api", "get_movie", key=spelling.format(key=key)))
    assert refused["statusCode"] == 403
    assert refused["json"]["code"] == "malformed_api_key"
    assert _sent_ahead(conn) == before
    assert _counts(conn, key) == {"total_count": 1, "logged": 1, "rolled": 1}


@pytest.mark.slow
def test_an_admission_sent_ahead_that_timed_out_is_a_504_at_once_and_sent_ahead_again_next_time(
    conn: Any,
    database_url: str,
    load_event: Event,
    invoke: Invoke,
    make_key: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A statement timeout on a locked key row cancels the admission sent ahead. It is the request's 504 at once:
    running the admission again waited the whole timeout twice, which deployed is the function's whole Timeout (a
    502 from the gateway instead). The statement stays prepared on the server: forgetting it made every later send
    fail to prepare it again ('already exists'), so that environment never sent ahead again and paid a failed round
    trip on every request (both found by the sixth tester)."""
    ordinary: list[Any] = []

    def kept_cursor(c: Any) -> Any:
        ordinary.append(c)
        return database.kept_cursor(c)

    monkeypatch.setattr(api_keys, "kept_cursor", kept_cursor)
    key = make_key("free")
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200  # sent ahead: prepared
    locker = connect(database_url, autocommit=False)
    try:
        locker.execute("SELECT 1 FROM api_keys WHERE key = %s FOR UPDATE", (access.hash_key(key),))
        conn.execute("SET statement_timeout = 80")
        try:
            timed_out = invoke(load_event("api", "get_movie", key=key))
        finally:
            conn.execute("RESET statement_timeout")
    finally:
        locker.rollback()
        locker.close()
    assert timed_out["statusCode"] == 504
    assert timed_out["json"]["code"] == "query_timeout"
    assert ordinary == []  # the admission sent ahead was the only one that waited
    before = _sent_ahead(conn)
    answers = [invoke(load_event("api", "get_movie", key=key)) for _ in range(2)]
    assert [a["statusCode"] for a in answers] == [200, 200]
    assert _sent_ahead(conn) == before + 2
    assert _counts(conn, key) == {"total_count": 4, "logged": 4, "rolled": 4}


def test_a_statement_prepared_on_the_server_but_forgotten_here_is_still_sent_ahead(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("free")
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200  # sent ahead: prepared
    database._prepared_on(conn).clear()  # as if this process had lost track of it
    before = _sent_ahead(conn)
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200
    assert _sent_ahead(conn) == before + 1
    assert _counts(conn, key)["total_count"] == 3


def test_with_prepared_statements_off_the_admission_is_sent_ahead_unprepared(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DB_PREPARE_THRESHOLD=none (README: behind RDS Proxy, which pins a session that prepares a statement, or
    PgBouncer in transaction mode, which may run it on another server connection) held for psycopg's statements
    only: the admission sent ahead prepared `marquee_admit_ok` on every connection all the same (found by the
    sixth tester)."""
    ordinary: list[Any] = []

    def kept_cursor(c: Any) -> Any:
        ordinary.append(c)
        return database.kept_cursor(c)

    monkeypatch.setattr(conn, "prepare_threshold", None)
    key = make_key("free")
    assert invoke(load_event("api", "get_movie", key=key))["statusCode"] == 200  # learned the ordinary way
    monkeypatch.setattr(api_keys, "kept_cursor", kept_cursor)
    answers = [invoke(load_event("api", "get_movie", key=key)) for _ in range(3)]
    assert [a["statusCode"] for a in answers] == [200, 200, 200]
    assert ordinary == []  # each was sent ahead...
    assert conn.execute("SELECT count(*) AS n FROM pg_prepared_statements").fetchone()["n"] == 0  # ...unprepared
    assert _counts(conn, key) == {"total_count": 4, "logged": 4, "rolled": 4}
    assert [int(a["headers"]["x-ratelimit-remaining"]) for a in answers] == [28, 27, 26]
