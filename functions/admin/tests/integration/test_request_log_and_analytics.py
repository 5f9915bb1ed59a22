"""The request log (filters, cursor pages, CSV export) and the analytics read from the rollups, against PostgreSQL."""

from __future__ import annotations

import csv
import io
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from movie_admin.audit import Actor
from movie_admin.exports import FolderExportStore
from movie_admin.services import analytics, keys, requests
from movie_admin.services.requests import RequestQuery
from movie_common import access
from movie_common.database import connect
from movie_common.db import usage as usage_rows
from movie_common.errors import RequestValidationError

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)  # the made-up traffic below is dated from here


def _log(conn: Any, key_id: int, endpoint: str, status: int, at: datetime) -> None:
    conn.execute(
        'INSERT INTO usage_logs (api_key_id, endpoint, status, "timestamp") VALUES (%s, %s, %s, %s)',
        (key_id, endpoint, status, at),
    )


@pytest.fixture
def traffic(conn: Any, make_developer: Callable[..., Any]) -> tuple[Any, Any]:
    """Two developers (the first with two keys) and ten logged requests around T0."""
    ann = make_developer("ann.log@gmail.com", plans=("free", "pro"))
    ben = make_developer("=cmd|' /C calc'!A0@gmail.com")  # a spreadsheet formula, if a CSV cell started with it
    ann_free, ann_pro = ann.keys
    rows = [
        (ann_free, "/movies", 200, T0),
        (ann_free, "/movies", 404, T0 + timedelta(minutes=1)),
        (ann_pro, "/search", 200, T0 + timedelta(minutes=2)),
        (ann_pro, "/search", 429, T0 + timedelta(minutes=3)),
        (ann_pro, "/movies/{id}", 200, T0 + timedelta(minutes=4)),
        (ben.key_id, "/movies", 200, T0 + timedelta(minutes=5)),
        (ben.key_id, "/movies", 500, T0 + timedelta(minutes=6)),
        (ben.key_id, "/search", 403, T0 + timedelta(minutes=7)),
        (ben.key_id, "/movies", 304, T0 + timedelta(minutes=8)),
        (ann_free, "/genres", 200, T0 + timedelta(minutes=8)),  # same time as the previous: the id breaks the tie
    ]
    for row in rows:
        _log(conn, *row)
    return ann, ben


def _listed(conn: Any, sort: str = "timestamp.desc", per_page: int = 100, **query: Any) -> list[Any]:
    window = {"since": T0 - timedelta(hours=1), "until": T0 + timedelta(hours=1)}
    page = requests.list_requests(
        conn, query=RequestQuery(**{**window, **query}), sort=sort, per_page=per_page, cursor=None
    )
    return page.results


def test_filters_by_key_owner_endpoint_status_and_time(conn: Any, traffic: tuple[Any, Any]) -> None:
    ann, ben = traffic
    ann_free, ann_pro = ann.keys
    assert len(_listed(conn)) == 10
    assert {r.api_key_id for r in _listed(conn, owner_id=ann.id)} == {ann_free, ann_pro}
    assert [r.status for r in _listed(conn, key_id=ann_pro)] == [200, 429, 200]
    assert _listed(conn, key_id=ben.key_id, owner_id=ann.id) == []  # that key is not hers
    assert [r.status for r in _listed(conn, endpoint="/search", sort="timestamp.asc")] == [200, 429, 403]
    assert sorted(r.status for r in _listed(conn, status_class="4xx")) == [403, 404, 429]
    assert [r.status for r in _listed(conn, status_class="5xx")] == [500]
    assert [r.status for r in _listed(conn, status_class="3xx")] == [304]
    assert [r.endpoint for r in _listed(conn, status=429)] == ["/search"]
    narrow = _listed(conn, since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4))
    assert [r.timestamp for r in narrow] == [T0 + timedelta(minutes=3), T0 + timedelta(minutes=2)]
    [newest_first, *_] = _listed(conn)
    assert newest_first.endpoint == "/genres" and newest_first.owner_email == "ann.log@gmail.com"
    assert newest_first.key_last4 == ann.keys[ann_free][-4:]


def test_cursor_pages_cover_every_row_once_in_order(conn: Any, traffic: tuple[Any, Any]) -> None:
    for sort in ("timestamp.desc", "timestamp.asc"):
        everything = [r.id for r in _listed(conn, sort=sort)]
        seen: list[int] = []
        cursor = None
        query = RequestQuery(since=T0 - timedelta(hours=1), until=T0 + timedelta(hours=1))
        while True:
            page = requests.list_requests(conn, query=query, sort=sort, per_page=3, cursor=cursor)
            seen += [r.id for r in page.results]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == everything and len(seen) == 10


@pytest.mark.parametrize(
    ("query", "cursor", "field"),
    [
        ({"status_class": "6xx"}, None, "status_class"),
        ({"status": 42}, None, "status"),
        ({"since": T0, "until": T0}, None, "until"),
        ({"since": datetime(2026, 1, 1)}, None, "since"),  # a naive time is the point
        ({}, "bm90LWEtY3Vyc29y", "cursor"),
        ({}, "!!", "cursor"),
    ],
)
def test_bad_filters_are_named(conn: Any, query: dict[str, Any], cursor: str | None, field: str) -> None:
    with pytest.raises(RequestValidationError) as refused:
        requests.list_requests(conn, query=RequestQuery(**query), sort="timestamp.desc", per_page=10, cursor=cursor)
    assert [e.name for e in refused.value.errors] == [field]


def test_the_export_holds_the_filtered_rows_and_defuses_formulas(
    conn: Any, traffic: tuple[Any, Any], actor: Actor, tmp_path: Path, audit_rows: Callable[..., Any]
) -> None:
    _, ben = traffic
    store = FolderExportStore(tmp_path, "http://127.0.0.1:9/exports")
    query = RequestQuery(since=T0 - timedelta(hours=1), until=T0 + timedelta(hours=1), endpoint="/movies")
    stored = requests.export_requests(conn, actor, store, query=query, sort="timestamp.asc")
    assert stored.url == f"http://127.0.0.1:9/exports/{stored.name}" and stored.name.endswith(".csv")
    text = (tmp_path / stored.name).read_text(encoding="utf-8")
    assert len(text.encode()) == stored.bytes
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["status"], r["endpoint"]) for r in rows] == [
        ("200", "/movies"),
        ("404", "/movies"),
        ("200", "/movies"),
        ("500", "/movies"),
        ("304", "/movies"),
    ]
    assert rows[0]["timestamp"] == "2026-01-10T12:00:00.000000Z" and rows[0]["owner_email"] == "ann.log@gmail.com"
    assert rows[2]["owner_email"] == "'" + ben.email  # a leading = would run as a formula in a spreadsheet
    assert list(rows[0]) == [
        "timestamp",
        "id",
        "api_key_id",
        "key_last4",
        "owner_id",
        "owner_email",
        "method",
        "endpoint",
        "status",
    ]
    [entry] = audit_rows(action="request_log.export")
    assert entry["after"]["filters"]["endpoint"] == "/movies" and entry["after"]["bytes"] == stored.bytes
    assert list(tmp_path.glob("*.partial")) == []


def test_an_owner_without_keys_exports_a_header_only(
    conn: Any, make_developer: Callable[..., Any], actor: Actor, tmp_path: Path
) -> None:
    keyless = make_developer(plans=())
    stored = requests.export_requests(
        conn, actor, FolderExportStore(tmp_path, "/x"), query=RequestQuery(owner_id=keyless.id), sort="timestamp.desc"
    )
    assert (tmp_path / stored.name).read_text().splitlines() == [
        "timestamp,id,api_key_id,key_last4,owner_id,owner_email,method,endpoint,status"
    ]


@pytest.mark.slow
def test_exporting_300k_rows_takes_flat_memory(
    conn: Any, make_developer: Callable[..., Any], actor: Actor, tmp_path: Path
) -> None:
    dev = make_developer()
    conn.execute(
        """INSERT INTO usage_logs (api_key_id, endpoint, status, "timestamp")
           SELECT %s, '/movies/{id}', 200, %s::timestamptz + g * interval '1 millisecond'
           FROM generate_series(1, 300000) AS g""",
        (dev.key_id, T0),
    )
    tracemalloc.start()
    try:
        stored = requests.export_requests(
            conn, actor, FolderExportStore(tmp_path, "/x"), query=RequestQuery(key_id=dev.key_id), sort="timestamp.desc"
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    with (tmp_path / stored.name).open() as exported:
        assert sum(1 for _ in exported) == 300_001
    assert stored.bytes > 20_000_000
    assert peak < 2_000_000, f"peak {peak:,} bytes traced while exporting {stored.bytes:,} bytes"


# ---------------------------------------------------------------- analytics


def _truth(conn: Any, first_day: date) -> dict[date, tuple[int, ...]]:
    """Per-day counts straight from usage_daily: what the rollups must agree with."""
    rows = conn.execute(
        """SELECT day, sum(requests + rejected + not_modified) AS requests, sum(ok) AS ok,
                  sum(client_errors) AS client_errors, sum(limited) AS limited, sum(server_errors) AS server_errors
           FROM usage_daily WHERE day >= %s GROUP BY day""",
        (first_day,),
    ).fetchall()
    return {row["day"]: tuple(int(v) for k, v in row.items() if k != "day") for row in rows if row["requests"]}


def _seen(overview: Any) -> dict[date, tuple[int, ...]]:
    return {d.day: (d.requests, d.ok, d.client_errors, d.limited, d.server_errors) for d in overview.days if d.requests}


def _count(conn: Any, key_id: int, days_ago: int, endpoint: str, **outcomes: int) -> None:
    """A usage_daily row as the admission, the status correction and a 304's refund leave it (`ok` includes the
    `not_modified` answers, which the refund took out of `requests`)."""
    admitted = outcomes.get("ok", 0) + outcomes.get("client_errors", 0) + outcomes.get("server_errors", 0)
    conn.execute(
        """INSERT INTO usage_daily (api_key_id, day, endpoint, requests, rejected, ok, client_errors, limited,
                                    server_errors, not_modified)
           VALUES (%s, (now() AT TIME ZONE 'UTC')::date - %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            key_id,
            days_ago,
            endpoint,
            admitted - outcomes.get("not_modified", 0),
            outcomes.get("limited", 0),
            outcomes.get("ok", 0),
            outcomes.get("client_errors", 0),
            outcomes.get("limited", 0),
            outcomes.get("server_errors", 0),
            outcomes.get("not_modified", 0),
        ),
    )


def test_the_overview_agrees_with_usage_daily_however_far_the_rollup_has_got(
    conn: Any, make_developer: Callable[..., Any]
) -> None:
    now = conn.execute("SELECT now() AS now").fetchone()["now"]
    today = conn.execute("SELECT (now() AT TIME ZONE 'UTC')::date AS d").fetchone()["d"]
    dev = make_developer(plans=("free", "pro"))
    other = make_developer()
    # `other` signed itself up two days ago (the portal's sign-up sets signed_up_at; make_developer names an owner).
    conn.execute(
        "UPDATE users SET created_at = %(at)s, signed_up_at = %(at)s WHERE id = %(id)s",
        {"at": now - timedelta(days=2), "id": other.id},
    )
    free_key, pro_key = dev.keys
    _count(conn, free_key, 3, "/t-analytics", ok=5, limited=2)
    _count(conn, pro_key, 3, "/t-analytics", ok=1, client_errors=1)
    _count(conn, other.key_id, 3, "/t-other", ok=4)
    _count(conn, pro_key, 2, "/t-analytics", client_errors=3)
    _count(conn, free_key, 2, "/t-analytics", ok=2, not_modified=2)  # free 304s only: counted, and active
    _count(conn, other.key_id, 1, "/t-analytics", server_errors=1, limited=7)  # no admitted request: not active
    _count(conn, pro_key, 0, "/t-analytics", ok=2)
    # As if nothing had been rolled up for four days: the first read closes two of them and reads the rest live.
    conn.execute("UPDATE usage_rollup_state SET open_from = (now() AT TIME ZONE 'UTC')::date - 4")
    first_day = today - timedelta(days=6)
    truth = _truth(conn, first_day)
    partly = analytics.overview(conn, days=7)
    assert [d.day for d in partly.days] == [first_day + timedelta(days=i) for i in range(7)]
    assert _seen(partly) == truth
    assert partly.open_from == today - timedelta(days=2)
    analytics.roll_up(conn)
    fully = analytics.overview(conn, days=7)
    assert _seen(fully) == truth and fully.open_from == today  # (or tomorrow, just after midnight)
    [ours] = [e for e in fully.endpoints if e.endpoint == "/t-analytics"]
    assert (ours.requests, ours.client_errors, ours.limited, ours.server_errors) == (24, 4, 9, 1)
    by_day = {d.day: d for d in fully.days}
    three_days_ago = by_day[today - timedelta(days=3)]
    assert three_days_ago.active_developers >= 2 and three_days_ago.active_keys >= 3
    assert three_days_ago.status_4xx >= 3
    assert by_day[today - timedelta(days=2)].signups >= 1 and by_day[today - timedelta(days=2)].active_keys >= 2
    assert fully.developers >= 2 and partly.active_developers == fully.active_developers
    access.admit(conn, dev.keys[pro_key], endpoint="/t-analytics")
    latest = analytics.overview(conn, days=7).days[-1]
    truth_today = conn.execute(
        """SELECT count(DISTINCT owner_id) AS developers, count(*) AS keys FROM api_keys
           WHERE last_used_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"""
    ).fetchone()
    assert (latest.active_developers, latest.active_keys) == (truth_today["developers"], truth_today["keys"])
    assert latest.active_keys >= 1


def test_deleting_a_key_changes_no_figure_of_the_overview(
    conn: Any, make_developer: Callable[..., Any], actor: Actor
) -> None:
    # A key that made requests today, and a developer whose only key it is: today's active keys and developers, and
    # the 7-, 30- and 90-day windows', count them before the key is deleted and after.
    gone = make_developer()
    stays = make_developer()
    for _ in range(2):
        access.admit(conn, gone.raw_key, endpoint="/t-deleted")
    access.admit(conn, stays.raw_key, endpoint="/t-deleted")
    before = {days: analytics.overview(conn, days=days) for days in analytics.WINDOWS}
    used_today = conn.execute(
        """SELECT count(DISTINCT owner_id) AS developers, count(*) AS keys FROM api_keys
           WHERE last_used_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"""
    ).fetchone()
    assert (before[7].days[-1].active_developers, before[7].days[-1].active_keys) == (
        used_today["developers"],
        used_today["keys"],
    )
    keys.delete_key(conn, actor, key_id=gone.key_id)
    for days, then in before.items():
        now = analytics.overview(conn, days=days)
        assert (now.active_developers, now.active_keys) == (then.active_developers, then.active_keys), days
        assert now.days == then.days and now.endpoints == then.endpoints, days
    today = analytics.overview(conn, days=7).days[-1]
    assert (today.active_developers, today.active_keys) == (used_today["developers"], used_today["keys"])


def test_a_deleted_keys_days_count_whether_rolled_up_after_the_deletion_or_read_live(
    conn: Any, make_developer: Callable[..., Any], actor: Actor
) -> None:
    today = conn.execute("SELECT (now() AT TIME ZONE 'UTC')::date AS d").fetchone()["d"]
    gone = make_developer()
    _count(conn, gone.key_id, 3, "/t-deleted", ok=2)
    _count(conn, gone.key_id, 1, "/t-deleted", ok=1, not_modified=1)
    conn.execute("UPDATE api_keys SET last_used_at = now() - interval '1 day' WHERE id = %s", (gone.key_id,))
    # Four days not rolled up when the key goes: the next read closes two of them (after the deletion, so the
    # rollup itself must find the deleted key's owner) and reads the others live.
    conn.execute("UPDATE usage_rollup_state SET open_from = (now() AT TIME ZONE 'UTC')::date - 4")
    truth = {
        row["day"]: (row["developers"], row["keys"])
        for row in conn.execute(
            """SELECT d.day, count(DISTINCT k.owner_id) AS developers, count(DISTINCT d.api_key_id) AS keys
               FROM usage_daily d JOIN api_keys k ON k.id = d.api_key_id
               WHERE d.day >= %s AND d.day < %s AND d.requests + d.not_modified > 0 GROUP BY d.day""",
            (today - timedelta(days=6), today),
        ).fetchall()
    }
    assert truth[today - timedelta(days=3)][1] >= 1 and truth[today - timedelta(days=1)][1] >= 1
    window = conn.execute(
        """SELECT count(DISTINCT owner_id) AS developers, count(*) AS keys FROM api_keys
           WHERE last_used_at >= %s::date AT TIME ZONE 'UTC'""",
        (today - timedelta(days=6),),
    ).fetchone()
    assert window["keys"] >= 1
    keys.delete_key(conn, actor, key_id=gone.key_id)
    partly = analytics.overview(conn, days=7)
    assert partly.open_from == today - timedelta(days=2)
    analytics.roll_up(conn)
    fully = analytics.overview(conn, days=7)
    for seen in (partly, fully):
        active = {d.day: (d.active_developers, d.active_keys) for d in seen.days if d.day < today and d.active_keys}
        assert active == truth
        assert (seen.active_developers, seen.active_keys) == (window["developers"], window["keys"])


def test_a_deleted_keys_requests_keep_their_owner_in_the_log(conn: Any, traffic: tuple[Any, Any], actor: Actor) -> None:
    ann, _ = traffic
    ann_free, _ = ann.keys
    keys.delete_key(conn, actor, key_id=ann_free)
    theirs = _listed(conn, owner_id=ann.id)
    assert sorted(r.status for r in theirs if r.api_key_id == ann_free) == [200, 200, 404]
    assert {(r.owner_id, r.owner_email, r.key_last4) for r in theirs if r.api_key_id == ann_free} == {
        (ann.id, "ann.log@gmail.com", ann.keys[ann_free][-4:])
    }
    exported = b"".join(
        usage_rows.export_requests_csv(
            conn,
            filters=usage_rows.RequestFilters(key_ids=[ann_free], since=T0 - timedelta(hours=1)),
            sort="timestamp.asc",
        )
    ).decode()
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(r["owner_id"], r["owner_email"]) for r in rows] == [(str(ann.id), "ann.log@gmail.com")] * 3


def test_rolling_up_again_changes_nothing_and_a_busy_rollup_is_skipped(conn: Any, database_url: str) -> None:
    open_from = analytics.roll_up(conn)
    assert open_from is not None and analytics.roll_up(conn) == open_from
    conn.rollback()  # let go of the state row, then have another session hold it
    with connect(database_url, autocommit=False) as other:
        other.execute("SELECT * FROM usage_rollup_state FOR UPDATE")
        assert analytics.roll_up(conn) is None
        assert analytics.overview(conn, days=7).open_from is not None  # the read does not wait for it
        other.rollback()


@pytest.mark.parametrize("days", [0, 1, 31, 365])
def test_the_overview_window_is_one_it_offers(conn: Any, days: int) -> None:
    with pytest.raises(RequestValidationError):
        analytics.overview(conn, days=days)
