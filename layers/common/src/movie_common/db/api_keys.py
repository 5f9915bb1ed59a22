"""SQL for API keys: lookup by hash, creation, and the one-statement admission that counts and logs a request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from movie_common.database import Connection, fetch_one, fetch_required, translate_errors


@dataclass(frozen=True)
class KeyRecord:
    id: int
    owner_id: int
    plan: str
    gateway_tier: str
    status: str
    expires_at: datetime | None


@dataclass(frozen=True)
class Admission:
    """What the admission statement decided, with the counters after it."""

    key_id: int | None  # None: no key has this hash
    outcome: str  # ok | key_suspended | key_revoked | key_expired | daily_quota_exceeded | rate_limited | unknown
    plan: str | None
    daily_quota: int | None
    per_minute: int
    day_used: int
    minute_used: int
    now: datetime
    log_id: int | None


# One round trip: lock the key row (so concurrent requests see each other's counts), decide, count if admitted,
# log the request either way and bump the daily rollup. FOR UPDATE returns the newest committed row version in
# READ COMMITTED, so a burst of N concurrent requests against a quota of Q admits exactly min(N, Q).
_ADMIT = """
WITH v AS (
    SELECT now() AS ts, (now() AT TIME ZONE 'UTC')::date AS today, date_trunc('minute', now()) AS minute
), k AS (
    SELECT a.id, a.status, a.expires_at, a.plan, p.daily_quota, p.per_minute,
           CASE WHEN a.usage_day = v.today THEN a.usage_count ELSE 0 END AS day_used,
           CASE WHEN a.minute_start = v.minute THEN a.minute_count ELSE 0 END AS minute_used
    FROM api_keys a JOIN plans p ON p.id = a.plan CROSS JOIN v
    WHERE a.key = %(key)s
    FOR UPDATE OF a
), d AS (
    SELECT k.*, CASE
        WHEN k.status <> 'active' THEN 'key_' || k.status
        WHEN k.expires_at IS NOT NULL AND k.expires_at <= v.ts THEN 'key_expired'
        WHEN k.daily_quota IS NOT NULL AND k.day_used >= k.daily_quota THEN 'daily_quota_exceeded'
        WHEN k.minute_used >= k.per_minute THEN 'rate_limited'
        ELSE 'ok' END AS outcome
    FROM k CROSS JOIN v
), counted AS (
    UPDATE api_keys a
    SET usage_count = d.day_used + 1, usage_day = v.today,
        minute_count = d.minute_used + 1, minute_start = v.minute,
        total_count = a.total_count + 1, last_used_at = v.ts
    FROM d CROSS JOIN v
    WHERE a.id = d.id AND d.outcome = 'ok'
    RETURNING a.id
), logged AS (
    INSERT INTO usage_logs (api_key_id, endpoint, status, "timestamp")
    SELECT d.id, %(endpoint)s,
           CASE WHEN d.outcome = 'ok' THEN 200
                WHEN d.outcome IN ('rate_limited', 'daily_quota_exceeded') THEN 429 ELSE 403 END,
           v.ts
    FROM d CROSS JOIN v
    RETURNING id
), rolled AS (
    INSERT INTO usage_daily AS u (api_key_id, day, endpoint, requests, rejected)
    SELECT d.id, v.today, %(endpoint)s, (d.outcome = 'ok')::int, (d.outcome <> 'ok')::int
    FROM d CROSS JOIN v
    ON CONFLICT (api_key_id, day, endpoint)
    DO UPDATE SET requests = u.requests + excluded.requests, rejected = u.rejected + excluded.rejected
)
SELECT d.id AS key_id, coalesce(d.outcome, 'unknown') AS outcome, d.plan, d.daily_quota,
       coalesce(d.per_minute, 0) AS per_minute,
       coalesce(d.day_used, 0) + (d.outcome = 'ok')::int AS day_used,
       coalesce(d.minute_used, 0) + (d.outcome = 'ok')::int AS minute_used,
       v.ts AS now, (SELECT id FROM logged) AS log_id
FROM v LEFT JOIN d ON true
"""


def admit_request(conn: Connection, *, key_hash: bytes, endpoint: str) -> Admission:
    row = fetch_required(conn, _ADMIT, {"key": key_hash, "endpoint": endpoint})  # always the row of `v`
    return Admission(
        key_id=row["key_id"],
        outcome=row["outcome"],
        plan=row["plan"],
        daily_quota=row["daily_quota"],
        per_minute=row["per_minute"],
        day_used=row["day_used"] or 0,
        minute_used=row["minute_used"] or 0,
        now=row["now"],
        log_id=row["log_id"],
    )


def set_logged_status(conn: Connection, *, log_id: int, logged_at: datetime, status: int) -> None:
    """Correct a log row's status once the response is known (only when it was not 200)."""
    with translate_errors():
        conn.execute(
            'UPDATE usage_logs SET status = %s WHERE id = %s AND "timestamp" = %s',
            (status, log_id, logged_at),
        )


def find_key(conn: Connection, *, key_hash: bytes) -> KeyRecord | None:
    row = fetch_one(
        conn,
        """SELECT a.id, a.owner_id, a.plan, p.gateway_tier, a.status, a.expires_at
           FROM api_keys a JOIN plans p ON p.id = a.plan WHERE a.key = %s""",
        (key_hash,),
    )
    return None if row is None else KeyRecord(**row)


@dataclass(frozen=True)
class QuotaState:
    key_id: int
    plan: str
    status: str
    daily_quota: int | None
    per_minute: int
    day_used: int
    minute_used: int
    total_count: int
    expires_at: datetime | None
    now: datetime
    today: date


def quota_state(conn: Connection, *, key_hash: bytes) -> QuotaState | None:
    """The key's counters as they stand, without counting this look-up."""
    row = fetch_one(
        conn,
        """SELECT a.id AS key_id, a.plan, a.status, p.daily_quota, p.per_minute,
                  CASE WHEN a.usage_day = (now() AT TIME ZONE 'UTC')::date THEN a.usage_count ELSE 0 END
                      AS day_used,
                  CASE WHEN a.minute_start = date_trunc('minute', now()) THEN a.minute_count ELSE 0 END
                      AS minute_used,
                  a.total_count, a.expires_at, now() AS now, (now() AT TIME ZONE 'UTC')::date AS today
           FROM api_keys a JOIN plans p ON p.id = a.plan WHERE a.key = %s""",
        (key_hash,),
    )
    return None if row is None else QuotaState(**row)


def insert_key(
    conn: Connection,
    *,
    owner_id: int,
    key_hash: bytes,
    last4: str,
    plan: str,
    expires_at: datetime | None = None,
) -> int:
    row = fetch_required(
        conn,
        """INSERT INTO api_keys (owner_id, key, last4, plan, expires_at)
           VALUES (%s, %s, %s, %s, %s) RETURNING id""",
        (owner_id, key_hash, last4, plan, expires_at),
    )
    return int(row["id"])
