"""The one-round-trip admission against a real PostgreSQL: counting, logging, limits, windows, concurrency."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from movie_common import access
from movie_common.database import connect, kept_cursor
from movie_common.errors import (
    DailyQuotaExceededError,
    InvalidApiKeyError,
    KeyExpiredError,
    KeyRevokedError,
    KeySuspendedError,
    RateLimitedError,
)

KeyMaker = Callable[..., str]


def _key_row(conn: Any, raw: str) -> dict[str, Any]:
    row: dict[str, Any] = conn.execute("SELECT * FROM api_keys WHERE key = %s", (access.hash_key(raw),)).fetchone()
    return row


def test_admitted_request_is_counted_logged_and_rolled_up(conn: Any, make_key: KeyMaker) -> None:
    raw = make_key("free")
    grant = access.admit(conn, raw, endpoint="/movies/{id}")

    key = _key_row(conn, raw)
    assert (key["usage_count"], key["minute_count"], key["total_count"]) == (1, 1, 1)
    logs = conn.execute("SELECT endpoint, status FROM usage_logs WHERE api_key_id = %s", (key["id"],)).fetchall()
    assert logs == [{"endpoint": "/movies/{id}", "status": 200}]
    rollup = conn.execute("SELECT requests, rejected FROM usage_daily WHERE api_key_id = %s", (key["id"],)).fetchall()
    assert rollup == [{"requests": 1, "rejected": 0}]
    assert grant.key_id == key["id"] and grant.plan == "free"
    assert {w.name: w.remaining for w in grant.windows.all()} == {"minute": 29, "day": 99}


def test_the_key_is_stored_only_as_its_sha256(conn: Any, make_key: KeyMaker) -> None:
    raw = make_key("pro")
    row = _key_row(conn, raw)
    stored = conn.execute("SELECT key::text AS k, last4 FROM api_keys WHERE id = %s", (row["id"],)).fetchone()
    assert raw not in stored["k"] and stored["last4"] == raw[-4:]


def test_unknown_key_is_refused_and_not_logged(conn: Any) -> None:
    before = conn.execute("SELECT count(*) AS n FROM usage_logs").fetchone()["n"]
    with pytest.raises(InvalidApiKeyError):
        access.admit(conn, "3f2b8a9e-5c1d-4e7f-9a0b-1c2d3e4f5a6b", endpoint="/movies")
    assert conn.execute("SELECT count(*) AS n FROM usage_logs").fetchone()["n"] == before


@pytest.mark.parametrize(("status", "error"), [("suspended", KeySuspendedError), ("revoked", KeyRevokedError)])
def test_refused_key_is_logged_with_403_but_not_counted(
    conn: Any, make_key: KeyMaker, status: str, error: type[Exception]
) -> None:
    raw = make_key("free", status=status)
    with pytest.raises(error):
        access.admit(conn, raw, endpoint="/movies")
    key = _key_row(conn, raw)
    assert key["usage_count"] == 0 and key["total_count"] == 0
    logs = conn.execute("SELECT status FROM usage_logs WHERE api_key_id = %s", (key["id"],)).fetchall()
    assert logs == [{"status": 403}]


def test_expired_key_is_refused(conn: Any, make_key: KeyMaker) -> None:
    raw = make_key("free", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(KeyExpiredError):
        access.admit(conn, raw, endpoint="/movies")


def test_daily_quota_refuses_the_101st_request_until_utc_midnight(conn: Any, make_key: KeyMaker) -> None:
    raw = make_key("free")
    conn.execute("UPDATE api_keys SET usage_count = 100 WHERE key = %s", (access.hash_key(raw),))
    with pytest.raises(DailyQuotaExceededError) as refused:
        access.admit(conn, raw, endpoint="/search")
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert refused.value.reset_at == midnight
    assert refused.value.limit == 100
    assert 1 <= refused.value.retry_after <= 86400
    assert refused.value.headers["X-RateLimit-Remaining"] == "0"
    key = _key_row(conn, raw)
    assert key["usage_count"] == 100
    assert conn.execute("SELECT status FROM usage_logs WHERE api_key_id = %s", (key["id"],)).fetchall() == [
        {"status": 429}
    ]
    assert conn.execute("SELECT rejected FROM usage_daily WHERE api_key_id = %s", (key["id"],)).fetchone() == {
        "rejected": 1
    }


def test_a_new_utc_day_starts_from_zero(conn: Any, make_key: KeyMaker) -> None:
    raw = make_key("free")
    conn.execute(
        "UPDATE api_keys SET usage_count = 100, usage_day = usage_day - 1 WHERE key = %s", (access.hash_key(raw),)
    )
    grant = access.admit(conn, raw, endpoint="/search")
    assert grant.windows.day is not None and grant.windows.day.remaining == 99


def test_per_minute_limit_refuses_with_rate_limited(conn: Any, make_key: KeyMaker) -> None:
    raw = make_key("free")
    conn.execute(
        "UPDATE api_keys SET minute_count = 30, minute_start = date_trunc('minute', now()) WHERE key = %s",
        (access.hash_key(raw),),
    )
    with pytest.raises(RateLimitedError) as refused:
        access.admit(conn, raw, endpoint="/genres")
    assert refused.value.limit == 30
    assert 1 <= refused.value.retry_after <= 60


def test_a_request_that_began_before_a_window_turned_counts_in_the_newer_window(conn: Any, make_key: KeyMaker) -> None:
    # A transaction that started in minute M can get the row lock after one that started in M+1 and already
    # counted there: it must count against M+1 (here full), never reset the window back to M.
    raw = make_key("free")
    conn.execute(
        """UPDATE api_keys SET minute_count = 30, minute_start = date_trunc('minute', now()) + interval '1 minute'
           WHERE key = %s""",
        (access.hash_key(raw),),
    )
    with pytest.raises(RateLimitedError):
        access.admit(conn, raw, endpoint="/genres")
    key = _key_row(conn, raw)
    later = conn.execute("SELECT date_trunc('minute', now()) + interval '1 minute' AS m").fetchone()["m"]
    assert (key["minute_start"], key["minute_count"]) == (later, 30)


def test_unlimited_plan_has_no_daily_cap(conn: Any, make_key: KeyMaker) -> None:
    raw = make_key("unlimited")
    conn.execute("UPDATE api_keys SET usage_count = 10000000 WHERE key = %s", (access.hash_key(raw),))
    grant = access.admit(conn, raw, endpoint="/movies")
    assert [w.name for w in grant.windows.all()] == ["minute"] and grant.windows.day is None


def test_status_correction_updates_the_logged_row(conn: Any, make_key: KeyMaker) -> None:
    raw = make_key("free")
    grant = access.admit(conn, raw, endpoint="/movies/{id}")
    access.record_status(conn, grant, 404)
    assert conn.execute("SELECT status FROM usage_logs WHERE id = %s", (grant.log_id,)).fetchone() == {"status": 404}


def test_refusals_of_an_exhausted_key_are_all_counted_but_logged_only_up_to_the_bound(
    conn: Any, make_key: KeyMaker
) -> None:
    raw = make_key("free")
    conn.execute(
        "UPDATE api_keys SET usage_count = 100, minute_start = date_trunc('minute', now()) WHERE key = %s",
        (access.hash_key(raw),),
    )
    for _ in range(50):
        with pytest.raises(DailyQuotaExceededError):
            access.admit(conn, raw, endpoint="/movies")
    key = _key_row(conn, raw)
    logged = conn.execute("SELECT count(*) AS n FROM usage_logs WHERE api_key_id = %s", (key["id"],)).fetchone()
    assert logged["n"] == access.REFUSALS_LOGGED_PER_MINUTE == 10  # all in one transaction, so one minute
    rollup = conn.execute("SELECT requests, rejected FROM usage_daily WHERE api_key_id = %s", (key["id"],)).fetchone()
    assert rollup == {"requests": 0, "rejected": 50}
    assert key["usage_count"] == 100 and key["total_count"] == 0


def test_a_suspended_owner_refuses_every_key(conn: Any, make_key: KeyMaker) -> None:
    raw = make_key("pro", owner="suspended-owner@gmail.com")
    conn.execute("UPDATE users SET status = 'suspended' WHERE canonical_email = 'suspended-owner@gmail.com'")
    with pytest.raises(KeySuspendedError, match="account"):
        access.admit(conn, raw, endpoint="/movies")
    with pytest.raises(KeySuspendedError, match="account"):
        access.check_key(conn, raw)


@pytest.mark.slow
@pytest.mark.commit
@pytest.mark.usefixtures("away_from_utc_midnight")
def test_a_burst_of_1000_concurrent_requests_against_a_quota_of_100_admits_exactly_100(database_url: str) -> None:
    """Real commits on 40 connections released together: the row lock makes the count exact."""
    setup = connect(database_url)
    plan = "burst_test"
    setup.execute(
        "INSERT INTO plans (id, name, daily_quota, per_minute, gateway_tier) VALUES (%s, 'Burst', 100, 100000, 'free')",
        (plan,),
    )
    owner = setup.execute(
        "INSERT INTO users (name, email, canonical_email, verified) VALUES ('b', 'b@gmail.com', 'burst@x', true) "
        "RETURNING id"
    ).fetchone()["id"]
    issued = access.issue_key(setup, owner_id=owner, plan=plan)
    workers, per_worker = 40, 25
    barrier = threading.Barrier(workers)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def fire() -> None:
        own = connect(database_url)
        try:
            barrier.wait()
            for _ in range(per_worker):
                try:
                    access.admit(own, issued.raw_key, endpoint="/movies")
                    result = "admitted"
                except DailyQuotaExceededError:
                    result = "daily_quota_exceeded"
                with lock:
                    outcomes[result] += 1
        finally:
            own.close()

    threads = [threading.Thread(target=fire) for _ in range(workers)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes == Counter({"admitted": 100, "daily_quota_exceeded": 900})
        key = setup.execute("SELECT usage_count, total_count FROM api_keys WHERE id = %s", (issued.key_id,)).fetchone()
        assert key == {"usage_count": 100, "total_count": 100}
        statuses = setup.execute(
            "SELECT status, count(*) AS n FROM usage_logs WHERE api_key_id = %s GROUP BY status ORDER BY status",
            (issued.key_id,),
        ).fetchall()
        # Every refusal is counted in the rollup; only the first few per minute get a log row (the burst may
        # straddle a minute boundary, hence up to twice the bound).
        assert statuses[0] == {"status": 200, "n": 100} and statuses[1]["status"] == 429
        assert access.REFUSALS_LOGGED_PER_MINUTE <= statuses[1]["n"] <= 2 * access.REFUSALS_LOGGED_PER_MINUTE
        rollup = setup.execute(
            "SELECT sum(requests) AS requests, sum(rejected) AS rejected FROM usage_daily WHERE api_key_id = %s",
            (issued.key_id,),
        ).fetchone()
        assert rollup == {"requests": 100, "rejected": 900}
    finally:
        setup.execute("DELETE FROM usage_logs WHERE api_key_id = %s", (issued.key_id,))
        setup.execute("DELETE FROM usage_daily WHERE api_key_id = %s", (issued.key_id,))
        setup.execute("DELETE FROM users WHERE id = %s", (owner,))
        setup.execute("DELETE FROM plans WHERE id = %s", (plan,))
        setup.close()


def test_an_admitted_requests_windows_are_the_keys_standing_after_it(conn: Any, make_key: KeyMaker) -> None:
    # The admitted case is its own statement (one UPDATE whose WHERE decides); what it reports must be what the
    # authorizer's read of the key then says, column for column.
    raw = make_key("free")
    conn.execute(
        "UPDATE api_keys SET minute_count = 7, minute_start = date_trunc('minute', now()), usage_count = 40 "
        "WHERE key = %s",
        (access.hash_key(raw),),
    )
    grant = access.admit(conn, raw, endpoint="/genres")
    standing = access.check_key(conn, raw)
    assert grant.windows == access.limit_windows(standing)
    assert grant.windows.day is not None
    assert (grant.windows.minute.used, grant.windows.day.used) == (8, 41)
    assert (grant.key_id, grant.plan, grant.logged_at) == (standing.key_id, standing.plan, standing.now)
    assert standing.total_count == 1 and standing.refusal is None


def test_the_kept_cursor_is_one_per_connection_and_thread(conn: Any, database_url: str) -> None:
    cursor = kept_cursor(conn)
    assert kept_cursor(conn) is cursor and cursor.connection is conn
    other = connect(database_url)
    try:
        assert kept_cursor(other) is not cursor and kept_cursor(other).connection is other
    finally:
        other.close()
    assert kept_cursor(conn) is not cursor  # another connection asked in between: a new one, on `conn`
    mine = kept_cursor(conn)
    theirs: list[Any] = []
    thread = threading.Thread(target=lambda: theirs.append(kept_cursor(conn)))
    thread.start()
    thread.join()
    assert theirs[0] is not mine and theirs[0].connection is conn
