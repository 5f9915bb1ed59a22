"""SQL for API keys: a key's standing (the authorizer's check and /usage), the one-statement admission that
counts and logs a request, and key creation. The rules themselves are SQL functions of migration 0004
(marquee_key_refusal, marquee_day_used, marquee_minute_used, ...), so every statement applies the same ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import pq, sql

from movie_common.database import (
    Connection,
    fetch_all,
    fetch_one,
    fetch_required,
    kept_cursor,
    leftover_early,
    send_early,
    take_early,
    translate_errors,
)

# Refused requests (429 and 403) get a usage_logs row only for the first REFUSALS_LOGGED_PER_MINUTE of each key and
# minute; every refusal is still counted in usage_daily.rejected.
REFUSALS_LOGGED_PER_MINUTE = 10


@dataclass(frozen=True)
class KeyStanding:
    """A key as the rules see it at `now`: why it is refused (None: it is not) and its usage in each window."""

    key_id: int
    owner_id: int
    plan: str
    gateway_tier: str
    status: str
    refusal: str | None  # key_suspended | key_revoked | key_expired | account_suspended
    expires_at: datetime | None
    daily_quota: int | None  # None: no daily cap
    per_minute: int
    day_used: int
    day_reset: datetime
    minute_used: int
    minute_reset: datetime
    total_count: int
    now: datetime


# The windows of a key's limits (SQL functions of migration 0004): used now in each, and when each resets.
_WINDOWS = """marquee_day_used(a.usage_day, a.usage_count, v.now) AS day_used,
           marquee_day_reset(v.now) AS day_reset,
           marquee_minute_used(a.minute_start, a.minute_count, v.now) AS minute_used,
           marquee_minute_reset(v.now) AS minute_reset"""

_STANDING = """
    SELECT a.id AS key_id, a.owner_id, a.plan, p.gateway_tier, a.status,
           marquee_key_refusal(a.status, a.expires_at, u.status, v.now) AS refusal,
           a.expires_at, p.daily_quota, p.per_minute, {windows}, a.total_count, v.now
    FROM api_keys a
    JOIN plans p ON p.id = a.plan
    LEFT JOIN users u ON u.id = a.owner_id
    CROSS JOIN (SELECT now() AS now) v
    WHERE a.key = %s
""".replace("{windows}", _WINDOWS)


def key_standing_by_id(conn: Connection, *, key_id: int) -> KeyStanding | None:
    """The key with this id as it stands now (a developer's dashboard knows its key by id, not by value)."""
    row = fetch_one(conn, _STANDING.replace("WHERE a.key = %s", "WHERE a.id = %s"), (key_id,))
    return None if row is None else KeyStanding(**row)


def key_standing(conn: Connection, *, key_hash: bytes) -> KeyStanding | None:
    """The key with this SHA-256, as it stands now, without counting the look-up; None when no key has it."""
    row = fetch_one(conn, _STANDING, (key_hash,))
    return None if row is None else KeyStanding(**row)


@dataclass(frozen=True)
class Admission:
    """What the admission statement decided, with the key's standing after it."""

    outcome: str  # ok | unknown | rate_limited | daily_quota_exceeded | a KeyStanding.refusal
    standing: KeyStanding | None  # None: no key has this hash
    log_id: int | None  # the usage_logs row written for this request, if one was


# The admission's common case in one statement: count the request if the key may make it, log it as 200 and bump
# the daily rollup. The decision is the UPDATE's own WHERE clause: in READ COMMITTED an UPDATE that finds its row
# changed by a concurrent transaction waits for it, then re-checks the WHERE clause on the newest committed row
# version (EvalPlanQual), so a burst of N concurrent requests against a quota of Q admits exactly min(N, Q); it
# locks and writes the row once (no separate FOR UPDATE), which is what makes it cheaper than _ADMIT. The rules are
# those of _ADMIT's `d` (no refusal, then the day, then the minute); no row means the request was not admitted, and
# _ADMIT (below) decides it again, logs the refusal and says why.
_ADMIT_OK = """
WITH v AS (SELECT now() AS now), counted AS (
    UPDATE api_keys a SET
        usage_count = marquee_day_used(a.usage_day, a.usage_count, v.now) + 1,
        usage_day = greatest(a.usage_day, marquee_day_start(v.now)),
        minute_count = marquee_minute_used(a.minute_start, a.minute_count, v.now) + 1,
        minute_start = greatest(a.minute_start, marquee_minute_start(v.now)),
        total_count = a.total_count + 1,
        last_used_at = v.now
    FROM plans p, v
    WHERE a.key = %(key)s AND p.id = a.plan
      AND marquee_key_refusal(a.status, a.expires_at, (SELECT u.status FROM users u WHERE u.id = a.owner_id), v.now)
          IS NULL
      AND (p.daily_quota IS NULL OR marquee_day_used(a.usage_day, a.usage_count, v.now) < p.daily_quota)
      AND marquee_minute_used(a.minute_start, a.minute_count, v.now) < p.per_minute
    RETURNING a.id AS key_id, a.owner_id, a.plan, p.gateway_tier, a.status, NULL::text AS refusal, a.expires_at,
              p.daily_quota, p.per_minute, a.usage_count AS day_used, marquee_day_reset(v.now) AS day_reset,
              a.minute_count AS minute_used, marquee_minute_reset(v.now) AS minute_reset, a.total_count, v.now
), logged AS (
    INSERT INTO usage_logs (api_key_id, endpoint, method, status, "timestamp")
    SELECT c.key_id, %(endpoint)s, %(method)s, 200, c.now FROM counted c
    RETURNING id
), rolled AS (
    INSERT INTO usage_daily AS r (api_key_id, day, endpoint, requests, rejected, ok, client_errors, limited)
    SELECT c.key_id, marquee_day_start(c.now), %(endpoint)s, 1, 0, 1, 0, 0 FROM counted c
    ON CONFLICT (api_key_id, day, endpoint) DO UPDATE SET requests = r.requests + 1, ok = r.ok + 1
)
SELECT c.*, (SELECT id FROM logged) AS log_id FROM counted c
"""

# Every outcome in one round trip: lock the key row (so concurrent requests see each other's counts), decide, count
# if admitted, log the request (refusals only up to the per-minute bound) and bump the daily rollup. FOR UPDATE
# returns the newest committed row version in READ COMMITTED, so a burst of N concurrent requests against a quota of
# Q admits exactly min(N, Q).
_ADMIT = """
WITH v AS (SELECT now() AS now), k AS (
    SELECT a.id AS key_id, a.owner_id, a.plan, p.gateway_tier, a.status,
           marquee_key_refusal(a.status, a.expires_at, u.status, v.now) AS refusal,
           a.expires_at, p.daily_quota, p.per_minute, {windows}, a.total_count, v.now,
           marquee_minute_used(a.refused_minute_start, a.refused_minute_count, v.now) AS refused_logged
    FROM api_keys a
    JOIN plans p ON p.id = a.plan
    LEFT JOIN users u ON u.id = a.owner_id
    CROSS JOIN v
    WHERE a.key = %(key)s
    FOR UPDATE OF a
), d AS (
    SELECT k.*, coalesce(k.refusal, CASE
        WHEN k.daily_quota IS NOT NULL AND k.day_used >= k.daily_quota THEN 'daily_quota_exceeded'
        WHEN k.minute_used >= k.per_minute THEN 'rate_limited'
        ELSE 'ok' END) AS outcome
    FROM k
), counted AS (
    UPDATE api_keys a SET
        usage_count = CASE WHEN d.outcome = 'ok' THEN d.day_used + 1 ELSE a.usage_count END,
        usage_day = CASE WHEN d.outcome = 'ok' THEN greatest(a.usage_day, marquee_day_start(d.now))
                         ELSE a.usage_day END,
        minute_count = CASE WHEN d.outcome = 'ok' THEN d.minute_used + 1 ELSE a.minute_count END,
        minute_start = CASE WHEN d.outcome = 'ok' THEN greatest(a.minute_start, marquee_minute_start(d.now))
                            ELSE a.minute_start END,
        total_count = a.total_count + (d.outcome = 'ok')::int,
        last_used_at = CASE WHEN d.outcome = 'ok' THEN d.now ELSE a.last_used_at END,
        refused_minute_start = CASE WHEN d.outcome = 'ok' THEN a.refused_minute_start
                                    ELSE greatest(a.refused_minute_start, marquee_minute_start(d.now)) END,
        refused_minute_count = CASE WHEN d.outcome = 'ok' THEN a.refused_minute_count ELSE d.refused_logged + 1 END
    FROM d
    WHERE a.id = d.key_id AND (d.outcome = 'ok' OR d.refused_logged < %(refusals_logged)s)
    RETURNING a.id
), logged AS (
    INSERT INTO usage_logs (api_key_id, endpoint, method, status, "timestamp")
    SELECT d.key_id, %(endpoint)s, %(method)s,
           CASE WHEN d.outcome = 'ok' THEN 200
                WHEN d.outcome IN ('rate_limited', 'daily_quota_exceeded') THEN 429 ELSE 403 END,
           d.now
    FROM d
    WHERE d.outcome = 'ok' OR d.refused_logged < %(refusals_logged)s
    RETURNING id
), rolled AS (
    INSERT INTO usage_daily AS r (api_key_id, day, endpoint, requests, rejected, ok, client_errors, limited)
    SELECT d.key_id, marquee_day_start(d.now), %(endpoint)s, (d.outcome = 'ok')::int, (d.outcome <> 'ok')::int,
           (d.outcome = 'ok')::int, (d.outcome NOT IN ('ok', 'rate_limited', 'daily_quota_exceeded'))::int,
           (d.outcome IN ('rate_limited', 'daily_quota_exceeded'))::int
    FROM d
    ON CONFLICT (api_key_id, day, endpoint)
    DO UPDATE SET requests = r.requests + excluded.requests, rejected = r.rejected + excluded.rejected,
                  ok = r.ok + excluded.ok, client_errors = r.client_errors + excluded.client_errors,
                  limited = r.limited + excluded.limited
)
SELECT d.key_id, d.owner_id, d.plan, d.gateway_tier, d.status, d.refusal, d.expires_at, d.daily_quota,
       d.per_minute, d.day_used + (d.outcome = 'ok')::int AS day_used, d.day_reset,
       d.minute_used + (d.outcome = 'ok')::int AS minute_used, d.minute_reset,
       d.total_count + (d.outcome = 'ok')::int AS total_count, d.now,
       d.outcome, (SELECT id FROM logged) AS log_id
FROM d
""".replace("{windows}", _WINDOWS)


# _ADMIT_OK as sent ahead of the framework (send_admission): numbered parameters, prepared once per connection.
_ADMIT_OK_AHEAD = _ADMIT_OK.replace("%(key)s", "$1").replace("%(endpoint)s", "$2").replace("%(method)s", "$3")
_BYTEA_OID, _TEXT_OID = 17, 25


def send_admission(conn: Connection, *, key_hash: bytes, endpoint: str, method: str) -> bool:
    """Send the common case of the admission (_ADMIT_OK) for the key with this SHA-256 now, without waiting: the
    next admit_request for the same key hash on this connection reads its answer instead of running it, so that
    PostgreSQL decides, counts and logs while the caller routes the request. `endpoint` and `method` are logged as
    admit_request's are. False when nothing was sent (movie_common.database.send_early); the admission then runs
    as usual."""
    return send_early(
        conn,
        tag=("admission", key_hash),
        name="marquee_admit_ok",
        query=_ADMIT_OK_AHEAD,
        param_types=(_BYTEA_OID, _TEXT_OID, _TEXT_OID),
        params=(key_hash, endpoint.encode(), method.encode()),
        param_formats=(pq.Format.BINARY, pq.Format.TEXT, pq.Format.TEXT),
    )


def admission_not_taken() -> Admission | None:
    """The admission sent ahead on this thread that no admit_request took (the request ended before its key
    dependency ran), read and forgotten: what it decided, if it counted the request (outcome ok); None if there was
    none, or it counted nothing."""
    leftover = leftover_early()
    if leftover is None or not leftover[1]:
        return None
    return _admitted(leftover[1][0])


def _admitted(row: tuple[Any, ...]) -> Admission:
    """An admission from a row of _ADMIT_OK: the key's standing after counting, then the log row's id."""
    return Admission(outcome="ok", standing=KeyStanding(*row[:-1]), log_id=row[-1])


def admit_request(conn: Connection, *, key_hash: bytes, endpoint: str, method: str = "GET") -> Admission:
    """Decide, count and log one request for the key with this SHA-256; `endpoint` is the route template and
    `method` the HTTP method as the client sent it (GET or HEAD). One round trip when the request is admitted
    (_ADMIT_OK), two when it is not (_ADMIT then decides again under the row lock and logs the refusal); none of
    its own when send_admission sent _ADMIT_OK for this key ahead (its answer is read instead: the request was
    logged under the endpoint and method given there)."""
    params = {"key": key_hash, "endpoint": endpoint, "method": method}
    ahead = take_early(conn, ("admission", key_hash))
    if ahead is not None:
        admitted = ahead[0] if ahead else None
    else:
        with translate_errors():
            admitted = kept_cursor(conn).execute(_ADMIT_OK, params).fetchone()
    if admitted is not None:
        return _admitted(admitted)
    row = fetch_one(conn, _ADMIT, {**params, "refusals_logged": REFUSALS_LOGGED_PER_MINUTE})
    if row is None:
        return Admission(outcome="unknown", standing=None, log_id=None)
    outcome, log_id = row.pop("outcome"), row.pop("log_id")
    return Admission(outcome=outcome, standing=KeyStanding(**row), log_id=log_id)


# The admission counted the request as ok in the rollup; a 4xx or 5xx answer moves it to its outcome (a 3xx, e.g.
# 304 Not Modified, stays ok). One round trip: the log row names the rollup row.
_SET_STATUS = """
WITH l AS (
    UPDATE usage_logs SET status = %(status)s WHERE id = %(id)s AND "timestamp" = %(at)s
    RETURNING api_key_id, endpoint, "timestamp"
)
UPDATE usage_daily r SET
    ok = r.ok - 1,
    client_errors = r.client_errors + (%(status)s BETWEEN 400 AND 499 AND %(status)s <> 429)::int,
    limited = r.limited + (%(status)s = 429)::int,
    server_errors = r.server_errors + (%(status)s >= 500)::int
FROM l
WHERE %(status)s >= 400 AND r.api_key_id = l.api_key_id AND r.day = marquee_day_start(l."timestamp")
  AND r.endpoint = l.endpoint
"""


@dataclass(frozen=True)
class UsageRead:
    """GET /usage's own limit: whether this read was allowed, and when its window resets."""

    standing: KeyStanding | None  # None: no key has this hash
    allowed: bool
    reads_used: int
    reads_reset: datetime


# /usage reads are counted in their own per-minute window (never the quota's). A read past the limit writes nothing:
# the UPDATE's condition fails, so the row is neither changed nor locked; a concurrent read re-checks the condition
# on the newest row version, so the limit is exact.
_READ_USAGE = """
WITH v AS (SELECT now() AS now), counted AS (
    UPDATE api_keys a SET
        usage_reads_minute_start = greatest(a.usage_reads_minute_start, marquee_minute_start(v.now)),
        usage_reads_minute_count = marquee_minute_used(a.usage_reads_minute_start, a.usage_reads_minute_count, v.now)
                                   + 1
    FROM v
    WHERE a.key = %(key)s
      AND marquee_minute_used(a.usage_reads_minute_start, a.usage_reads_minute_count, v.now) < %(limit)s
    RETURNING a.usage_reads_minute_count
)
SELECT s.*, (SELECT count(*) FROM counted) > 0 AS allowed,
       coalesce((SELECT usage_reads_minute_count FROM counted), %(limit)s) AS reads_used,
       marquee_minute_reset(s.now) AS reads_reset
FROM ({standing}) AS s
""".replace("{standing}", _STANDING.replace("%s", "%(key)s"))


def read_usage(conn: Connection, *, key_hash: bytes, per_minute: int) -> UsageRead:
    """The key's standing for GET /usage, counting the read in the key's /usage window unless `per_minute` reads
    were already made this minute (then `allowed` is false and nothing is written)."""
    row = fetch_one(conn, _READ_USAGE, {"key": key_hash, "limit": per_minute})
    if row is None:
        now = fetch_required(conn, "SELECT marquee_minute_reset(now()) AS reset")["reset"]
        return UsageRead(standing=None, allowed=False, reads_used=0, reads_reset=now)
    allowed, used, reset = row.pop("allowed"), row.pop("reads_used"), row.pop("reads_reset")
    return UsageRead(standing=KeyStanding(**row), allowed=bool(allowed), reads_used=int(used), reads_reset=reset)


@dataclass(frozen=True)
class Refund:
    """What refunding a 304 did: whether the request came off the key's counts, and the windows' use after it."""

    refunded: bool
    day_used: int
    minute_used: int
    total_count: int


# A 304 Not Modified is free: the admission counted it, this takes it off again (the day, the minute and the total,
# each only if the request was counted in the window that is still stored), moves it in the day's rollup from
# `requests` to `not_modified` (its outcome stays `ok`: a 3xx), and logs it as 304. At most `per_minute` refunds per
# key and minute (free requests must not be unlimited); past that a 304 counts like any other request, but is still
# logged as 304.
_REFUND = """
WITH v AS (SELECT now() AS now), k AS (
    SELECT a.id, p.per_minute, marquee_minute_used(a.free_minute_start, a.free_minute_count, v.now) AS free_used
    FROM api_keys a JOIN plans p ON p.id = a.plan CROSS JOIN v
    WHERE a.id = %(key_id)s
    FOR UPDATE OF a
), refunded AS (
    UPDATE api_keys a SET
        usage_count = CASE WHEN a.usage_day = marquee_day_start(%(at)s) THEN greatest(a.usage_count - 1, 0)
                           ELSE a.usage_count END,
        minute_count = CASE WHEN a.minute_start = marquee_minute_start(%(at)s) THEN greatest(a.minute_count - 1, 0)
                            ELSE a.minute_count END,
        total_count = greatest(a.total_count - 1, 0),
        free_minute_start = greatest(a.free_minute_start, marquee_minute_start(v.now)),
        free_minute_count = k.free_used + 1
    FROM k CROSS JOIN v
    WHERE a.id = k.id AND k.free_used < k.per_minute
    RETURNING marquee_day_used(a.usage_day, a.usage_count, v.now) AS day_used,
              marquee_minute_used(a.minute_start, a.minute_count, v.now) AS minute_used, a.total_count
), logged AS (
    UPDATE usage_logs SET status = 304 WHERE id = %(log_id)s AND "timestamp" = %(at)s
), rolled AS (
    UPDATE usage_daily SET requests = greatest(requests - 1, 0), not_modified = not_modified + 1
    WHERE api_key_id = %(key_id)s AND day = marquee_day_start(%(at)s) AND endpoint = %(endpoint)s
      AND EXISTS (SELECT 1 FROM refunded)
)
SELECT (SELECT count(*) FROM refunded) > 0 AS refunded, r.day_used, r.minute_used, r.total_count
FROM (SELECT 1) AS one LEFT JOIN refunded r ON true
"""


def refund_request(conn: Connection, *, key_id: int, log_id: int | None, logged_at: datetime, endpoint: str) -> Refund:
    """Take an admitted request that was answered 304 off the key's counts (see _REFUND); logs it as 304."""
    row = fetch_required(conn, _REFUND, {"key_id": key_id, "log_id": log_id, "at": logged_at, "endpoint": endpoint})
    return Refund(
        refunded=bool(row["refunded"]),
        day_used=int(row["day_used"] or 0),
        minute_used=int(row["minute_used"] or 0),
        total_count=int(row["total_count"] or 0),
    )


def set_logged_status(conn: Connection, *, log_id: int, logged_at: datetime, status: int) -> None:
    """Correct a log row's status once the response is known (only when it was not 200), and move the request to
    its outcome in the daily rollup."""
    with translate_errors():
        conn.execute(_SET_STATUS, {"status": status, "id": log_id, "at": logged_at})


def insert_key(
    conn: Connection,
    *,
    owner_id: int,
    key_hash: bytes,
    last4: str,
    plan: str,
    expires_at: datetime | None = None,
) -> int:
    """Store a new key's SHA-256 and last four characters; returns its id."""
    row = fetch_required(
        conn,
        """INSERT INTO api_keys (owner_id, key, last4, plan, expires_at)
           VALUES (%s, %s, %s, %s, %s) RETURNING id""",
        (owner_id, key_hash, last4, plan, expires_at),
    )
    return int(row["id"])


# ---------------------------------------------------------------- the admin's view of keys (issue 9)

# A key as the admin pages list it, with its owner. The key's hash is never selected.
_ADMIN_KEY_COLUMNS = sql.SQL(
    """a.id, a.owner_id, u.email::text AS owner_email, u.name AS owner_name, u.status AS owner_status, a.last4, a.plan,
    a.status, marquee_key_refusal(a.status, a.expires_at, u.status, now()) AS refusal,
    CASE WHEN a.usage_day = (now() AT TIME ZONE 'UTC')::date THEN a.usage_count ELSE 0 END AS usage_today,
    a.total_count, a.created_at, a.expires_at, a.last_used_at, a.status_changed_at"""
)
_ADMIN_KEY_FROM = sql.SQL("FROM api_keys a JOIN users u ON u.id = a.owner_id")

# Sort names mapped to constant SQL; ties broken by id so pages never overlap.
KEY_SORTS: dict[str, sql.Composable] = {
    "created.desc": sql.SQL("a.created_at DESC, a.id DESC"),
    "created.asc": sql.SQL("a.created_at ASC, a.id ASC"),
    "usage_today.desc": sql.SQL("usage_today DESC, a.id DESC"),
    "usage_today.asc": sql.SQL("usage_today ASC, a.id ASC"),
    "total.desc": sql.SQL("a.total_count DESC, a.id DESC"),
    "total.asc": sql.SQL("a.total_count ASC, a.id ASC"),
    "last_used.desc": sql.SQL("a.last_used_at DESC NULLS LAST, a.id DESC"),
    "last_used.asc": sql.SQL("a.last_used_at ASC NULLS FIRST, a.id ASC"),
}


@dataclass(frozen=True)
class AdminKey:
    """An API key with its owner and counters, as the admin sees it (masked: only the last four characters)."""

    id: int
    owner_id: int
    owner_email: str
    owner_name: str
    owner_status: str
    last4: str
    plan: str
    status: str  # active | suspended | revoked
    refusal: (
        str | None
    )  # why its next request would be refused (key_suspended, account_suspended, ...); None: it is not
    usage_today: int  # requests admitted during the current UTC day
    total_count: int
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    status_changed_at: datetime | None


@dataclass(frozen=True)
class KeyFilters:
    """Server-side filters of the admin key list; None means not filtered."""

    owner_id: int | None = None
    owner_email: str | None = None  # the owner's email, case-insensitively
    owner_mailbox: str | None = None  # or the mailbox it reaches (users.canonical_email): J.Doe+x@gmail.com is jdoe@…
    plan: str | None = None
    status: str | None = None
    never_used: bool | None = None  # True: never admitted a request; False: used at least once
    search: str | None = None  # owner email or name (substring), the last four characters, or the key id


def _key_where(filters: KeyFilters) -> tuple[sql.Composable, dict[str, Any]]:
    clauses: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if filters.owner_id is not None:
        clauses.append(sql.SQL("a.owner_id = %(owner_id)s"))
        params["owner_id"] = filters.owner_id
    if filters.owner_email is not None:
        # citext: case-insensitive; or the same mailbox, as create-key and the portal tell owners apart
        clauses.append(sql.SQL("(u.email = %(owner_email)s OR u.canonical_email = %(owner_mailbox)s)"))
        params["owner_email"] = filters.owner_email.strip()
        params["owner_mailbox"] = filters.owner_mailbox
    if filters.plan is not None:
        clauses.append(sql.SQL("a.plan = %(plan)s"))
        params["plan"] = filters.plan
    if filters.status is not None:
        clauses.append(sql.SQL("a.status = %(status)s"))
        params["status"] = filters.status
    if filters.never_used is True:
        clauses.append(sql.SQL("a.last_used_at IS NULL"))
    elif filters.never_used is False:
        clauses.append(sql.SQL("a.last_used_at IS NOT NULL"))
    if filters.search:
        term = filters.search.strip().lower()
        params["like"] = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params["term"] = term
        params["key_id"] = int(term) if term.isdigit() and len(term) < 19 else None
        clauses.append(
            sql.SQL("(lower(u.email::text || ' ' || u.name) LIKE %(like)s OR a.last4 = %(term)s OR a.id = %(key_id)s)")
        )
    if not clauses:
        return sql.SQL(""), params
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses), params


def list_admin_keys(
    conn: Connection, *, filters: KeyFilters, sort: str, limit: int, offset: int
) -> tuple[list[AdminKey], int]:
    """One page of keys (filters applied in SQL) and how many keys match; `sort` is a KEY_SORTS name."""
    where, params = _key_where(filters)
    query = sql.SQL(
        """SELECT {columns}, count(*) OVER () AS total {source} {where}
           ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s"""
    ).format(columns=_ADMIN_KEY_COLUMNS, source=_ADMIN_KEY_FROM, where=where, order=KEY_SORTS[sort])
    rows = fetch_all(conn, query, {**params, "limit": limit, "offset": offset})
    if not rows:
        count = fetch_one(
            conn,
            sql.SQL("SELECT count(*) AS total {source} {where}").format(source=_ADMIN_KEY_FROM, where=where),
            params,
        )
        return [], int(count["total"]) if count else 0
    return [AdminKey(**{k: v for k, v in row.items() if k != "total"}) for row in rows], int(rows[0]["total"])


def get_admin_key(conn: Connection, *, key_id: int, lock: bool = False) -> AdminKey | None:
    """One key with its owner; `lock` takes the key row's lock until the transaction ends (for a change)."""
    query = sql.SQL("SELECT {columns} {source} WHERE a.id = %s {lock}").format(
        columns=_ADMIN_KEY_COLUMNS, source=_ADMIN_KEY_FROM, lock=sql.SQL("FOR UPDATE OF a" if lock else "")
    )
    row = fetch_one(conn, query, (key_id,))
    return None if row is None else AdminKey(**row)


def set_key_status(conn: Connection, *, key_id: int, status: str) -> None:
    """Set a key's status: active, suspended or revoked."""
    with translate_errors():
        conn.execute("UPDATE api_keys SET status = %s, status_changed_at = now() WHERE id = %s", (status, key_id))


def reset_key_usage(conn: Connection, *, key_id: int) -> None:
    """Zero the current day and minute windows (the quota starts over); the lifetime total stays."""
    with translate_errors():
        conn.execute(
            """UPDATE api_keys SET usage_count = 0, usage_day = (now() AT TIME ZONE 'UTC')::date,
                      minute_count = 0, minute_start = date_trunc('minute', now())
               WHERE id = %s""",
            (key_id,),
        )


def set_key_plan(conn: Connection, *, key_id: int, plan: str) -> None:
    with translate_errors():
        conn.execute("UPDATE api_keys SET plan = %s WHERE id = %s", (plan, key_id))


def delete_key(conn: Connection, *, key_id: int) -> bool:
    """Delete a key: it is gone from api_keys (no request, list or action finds it again), and its trigger keeps it
    in deleted_api_keys, so its usage rows keep their owner (issued_api_keys, migration 0012). False if it was gone."""
    return fetch_one(conn, "DELETE FROM api_keys WHERE id = %s RETURNING id", (key_id,)) is not None


def owner_key_ids(conn: Connection, *, owner_id: int) -> list[int]:
    """Every key the developer was ever issued, deleted ones included: for reading their history (usage, log)."""
    rows = fetch_all(conn, "SELECT id FROM issued_api_keys WHERE owner_id = %s ORDER BY id", (owner_id,))
    return [int(row["id"]) for row in rows]
