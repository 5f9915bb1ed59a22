"""SQL behind a developer's dashboard: their keys with their counters, the 30-day rollup by endpoint and
outcome, and their own request log. Every query is scoped by owner id: nobody reads another developer's rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from psycopg import sql

from movie_common.database import Connection, fetch_all, fetch_one, fetch_required, translate_errors


@dataclass(frozen=True)
class OwnerKey:
    """A key of the developer as the dashboard shows it (its counters and windows: api_keys.key_standing_by_id)."""

    id: int
    last4: str
    plan: str
    plan_name: str
    daily_quota: int | None
    per_minute: int
    status: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    total_count: int


_OWNER_KEY = """SELECT a.id, a.last4, a.plan, p.name AS plan_name, p.daily_quota, p.per_minute, a.status, a.created_at,
                     a.last_used_at, a.expires_at, a.total_count
              FROM api_keys a JOIN plans p ON p.id = a.plan"""


def owner_key(conn: Connection, *, owner_id: int) -> OwnerKey | None:
    """The newest key of the developer whatever its status (after an approved reissue, the revoked one until the
    new key is revealed), or None before verification."""
    row = fetch_one(
        conn, _OWNER_KEY + " WHERE a.owner_id = %s ORDER BY a.created_at DESC, a.id DESC LIMIT 1", (owner_id,)
    )
    return None if row is None else OwnerKey(**row)


def owner_keys(conn: Connection, *, owner_id: int) -> list[OwnerKey]:
    """Every key of the developer that is not revoked (active or suspended; an admin may have given them more than
    one), newest first."""
    rows = fetch_all(
        conn,
        _OWNER_KEY + " WHERE a.owner_id = %s AND a.status <> 'revoked' ORDER BY a.created_at DESC, a.id DESC",
        (owner_id,),
    )
    return [OwnerKey(**row) for row in rows]


def get_owner_key(conn: Connection, *, owner_id: int, key_id: int) -> OwnerKey | None:
    """One key of this developer, whatever its status; None for a deleted key or another developer's."""
    row = fetch_one(conn, _OWNER_KEY + " WHERE a.owner_id = %s AND a.id = %s", (owner_id, key_id))
    return None if row is None else OwnerKey(**row)


def revoke_owner_key(conn: Connection, *, owner_id: int, key_id: int) -> bool:
    """Revoke this key of the developer unless it is revoked already, recording when (the timeline shows it);
    False when there was nothing to revoke."""
    with translate_errors():
        return (
            conn.execute(
                """UPDATE api_keys SET status = 'revoked', status_changed_at = now()
                   WHERE owner_id = %s AND id = %s AND status <> 'revoked'""",
                (owner_id, key_id),
            ).rowcount
            > 0
        )


@dataclass(frozen=True)
class OwnerTotals:
    today: int  # requests admitted today (UTC) across every key of the developer, revoked ones too
    all_time: int  # the lifetime totals of those keys, summed


def owner_totals(conn: Connection, *, owner_id: int) -> OwnerTotals:
    """Today's and all-time admitted requests of every key of the developer (the keys' own counters, the ones
    their day windows and GET /usage report)."""
    row = fetch_required(
        conn,
        """SELECT coalesce(sum(marquee_day_used(a.usage_day, a.usage_count, now())), 0)::bigint AS today,
                  coalesce(sum(a.total_count), 0)::bigint AS all_time
           FROM api_keys a WHERE a.owner_id = %s""",
        (owner_id,),
    )
    return OwnerTotals(today=int(row["today"]), all_time=int(row["all_time"]))


@dataclass(frozen=True)
class DailyUsage:
    day: date
    endpoint: str
    ok: int  # 2xx (and 3xx) responses
    client_errors: int  # 4xx other than 429, including refusals by key status
    limited: int  # 429: refused by the per-minute limit or the daily quota
    server_errors: int  # 5xx


def daily_usage(conn: Connection, *, owner_id: int, since: date) -> list[DailyUsage]:
    """The rollup rows of every key the developer was issued (deleted ones too) from `since` (a UTC day) on, summed
    per day and endpoint."""
    rows = fetch_all(
        conn,
        """SELECT u.day, u.endpoint, sum(u.ok)::int AS ok, sum(u.client_errors)::int AS client_errors,
                  sum(u.limited)::int AS limited, sum(u.server_errors)::int AS server_errors
           FROM usage_daily u JOIN issued_api_keys a ON a.id = u.api_key_id
           WHERE a.owner_id = %s AND u.day >= %s
           GROUP BY u.day, u.endpoint ORDER BY u.day, u.endpoint""",
        (owner_id, since),
    )
    return [DailyUsage(**row) for row in rows]


@dataclass(frozen=True)
class LoggedRequest:
    id: int  # with `time`, where a cursor page continues (movie_common.log_cursors)
    time: datetime
    method: str
    endpoint: str
    status: int


def request_log(
    conn: Connection,
    *,
    owner_id: int,
    since: datetime,
    limit: int,
    offset: int = 0,
    after: tuple[datetime, int] | None = None,
) -> list[LoggedRequest]:
    """The developer's requests since `since`, newest first (served by usage_logs_key_time_idx per key): `limit`
    rows after skipping `offset`, or, with `after`, the rows strictly older than that (timestamp, id): a keyset
    page that rows logged meanwhile do not shift."""
    params: dict[str, object] = {"owner": owner_id, "since": since, "limit": limit, "offset": offset}
    keyset = sql.SQL("")
    if after is not None:
        keyset = sql.SQL(""" AND (l."timestamp", l.id) < (%(after_ts)s, %(after_id)s)""")
        params.update(after_ts=after[0], after_id=after[1])
    rows = fetch_all(
        conn,
        sql.SQL(
            """SELECT l.id, l."timestamp" AS time, l.method, l.endpoint, l.status
               FROM usage_logs l
               WHERE l.api_key_id = ANY (ARRAY(SELECT id FROM issued_api_keys WHERE owner_id = %(owner)s))
                 AND l."timestamp" >= %(since)s{keyset}
               ORDER BY l."timestamp" DESC, l.id DESC LIMIT %(limit)s OFFSET %(offset)s"""
        ).format(keyset=keyset),
        params,
    )
    return [LoggedRequest(**row) for row in rows]


def request_count(conn: Connection, *, owner_id: int, since: date) -> int:
    """How many requests the developer's keys logged from the UTC day `since` on (from the rollup, not a count
    over the log: a pro key logs up to 1.5 million rows a month): admitted ones, the free 304s (logged as 304, counted
    in `not_modified`, not `requests`) and refusals (every one is counted, the first few per key and minute logged)."""
    row = fetch_required(
        conn,
        """SELECT coalesce(sum(u.requests + u.not_modified + u.rejected), 0)::bigint AS total
           FROM usage_daily u JOIN issued_api_keys a ON a.id = u.api_key_id
           WHERE a.owner_id = %s AND u.day >= %s""",
        (owner_id, since),
    )
    return int(row["total"])
