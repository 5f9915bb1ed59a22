"""SQL for usage logs: partitions kept ahead, the admin's request log, and the rollups behind the admin analytics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from psycopg import sql

from movie_common.database import Connection, copy_out, fetch_all, fetch_required


def ensure_partitions(conn: Connection, *, months_ahead: int = 2) -> int:
    """Create the monthly usage_logs partitions from this month to `months_ahead`; returns how many were new.

    Run on every deploy and local start (and, once it exists, by the daily scheduled job): rows of a month with
    no partition land in the default partition, which still works but keeps that month from being partitioned.
    """
    row = fetch_required(conn, "SELECT marquee_ensure_usage_partitions(%s) AS created", (months_ahead,))
    return int(row["created"])


# ---------------------------------------------------------------- the admin's request log (issue 9)

STATUS_CLASSES: dict[str, tuple[int, int]] = {
    "2xx": (200, 299),
    "3xx": (300, 399),
    "4xx": (400, 499),
    "5xx": (500, 599),
}


@dataclass(frozen=True)
class LoggedRequest:
    """One keyed request from usage_logs: when, which key and its owner (a deleted key's too: issued_api_keys,
    migration 0012), the route template it hit and the status it got."""

    id: int
    timestamp: datetime
    api_key_id: int
    key_last4: str | None
    owner_id: int | None
    owner_email: str | None
    method: str
    endpoint: str
    status: int


@dataclass(frozen=True)
class RequestFilters:
    """Filters of the request log and its export; None means not filtered. Times are inclusive-exclusive."""

    key_ids: list[int] | None = None  # one key, or every key of an owner
    endpoint: str | None = None
    status_class: str | None = None  # 2xx | 3xx | 4xx | 5xx
    status: int | None = None
    since: datetime | None = None
    until: datetime | None = None


REQUEST_SORTS: dict[str, sql.Composable] = {
    "timestamp.desc": sql.SQL('l."timestamp" DESC, l.id DESC'),
    "timestamp.asc": sql.SQL('l."timestamp" ASC, l.id ASC'),
}
# The export's rows with their keys, live or deleted (migration 0012), and owners. Not through issued_api_keys: over
# a million rows the planner probes that UNION ALL view row by row (twice the join's time, measured on bench/admin.py's
# data), where two small tables are each hashed once.
_REQUEST_FROM = sql.SQL(
    """FROM usage_logs l LEFT JOIN api_keys a ON a.id = l.api_key_id
       LEFT JOIN deleted_api_keys d ON d.id = l.api_key_id
       LEFT JOIN users u ON u.id = coalesce(a.owner_id, d.owner_id)"""
)


def _request_where(
    filters: RequestFilters, *, after: tuple[datetime, int] | None = None, sort: str = "timestamp.desc"
) -> tuple[sql.Composable, dict[str, Any]]:
    clauses: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if filters.key_ids is not None:
        clauses.append(sql.SQL("l.api_key_id = ANY(%(key_ids)s)"))
        params["key_ids"] = filters.key_ids
    if filters.endpoint is not None:
        clauses.append(sql.SQL("l.endpoint = %(endpoint)s"))
        params["endpoint"] = filters.endpoint
    if filters.status_class is not None:
        low, high = STATUS_CLASSES[filters.status_class]
        clauses.append(sql.SQL("l.status BETWEEN %(status_low)s AND %(status_high)s"))
        params.update(status_low=low, status_high=high)
    if filters.status is not None:
        clauses.append(sql.SQL("l.status = %(status)s"))
        params["status"] = filters.status
    if filters.since is not None:
        clauses.append(sql.SQL('l."timestamp" >= %(since)s'))
        params["since"] = filters.since
    if filters.until is not None:
        clauses.append(sql.SQL('l."timestamp" < %(until)s'))
        params["until"] = filters.until
    if after is not None:
        comparison = "<" if sort == "timestamp.desc" else ">"
        clauses.append(sql.SQL('(l."timestamp", l.id) {} (%(after_ts)s, %(after_id)s)').format(sql.SQL(comparison)))
        params.update(after_ts=after[0], after_id=after[1])
    if not clauses:
        return sql.SQL(""), params
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses), params


def list_requests(
    conn: Connection, *, filters: RequestFilters, sort: str, limit: int, after: tuple[datetime, int] | None
) -> tuple[list[LoggedRequest], bool]:
    """One page of the request log in `sort` order (REQUEST_SORTS), starting after the (timestamp, id) of the last
    row of the previous page; returns the rows and whether more follow. Keyset pages: a page deep in a log of
    hundreds of millions of rows costs what the first one does, and no count is taken."""
    where, params = _request_where(filters, after=after, sort=sort)
    # The page is cut from usage_logs alone (an index scan by time), then joined to its keys and owners: joining
    # first would make the planner hash the whole key and user tables before it could stop at the page.
    rows = fetch_all(
        conn,
        sql.SQL(
            """SELECT l.id, l."timestamp", l.api_key_id, a.last4 AS key_last4, a.owner_id,
                      u.email::text AS owner_email, l.method, l.endpoint, l.status
               FROM (SELECT l.id, l."timestamp", l.api_key_id, l.method, l.endpoint, l.status FROM usage_logs l {where}
                     ORDER BY {order} LIMIT %(limit)s) AS l
               LEFT JOIN issued_api_keys a ON a.id = l.api_key_id LEFT JOIN users u ON u.id = a.owner_id
               ORDER BY {order}"""
        ).format(where=where, order=REQUEST_SORTS[sort]),
        {**params, "limit": limit + 1},
    )
    return [LoggedRequest(**row) for row in rows[:limit]], len(rows) > limit


REQUEST_CSV_COLUMNS = (
    "timestamp",
    "id",
    "api_key_id",
    "key_last4",
    "owner_id",
    "owner_email",
    "method",
    "endpoint",
    "status",
)


def export_requests_csv(
    conn: Connection, *, filters: RequestFilters, sort: str, statement_timeout_ms: int | None = None
) -> Iterator[bytes]:
    """The filtered request log as CSV (header first; UTC ISO 8601 times), streamed by COPY in flat memory."""
    where, params = _request_where(filters, sort=sort)
    query = sql.SQL(
        """COPY (SELECT to_char(l."timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), l.id,
                        l.api_key_id, coalesce(a.last4, d.last4), coalesce(a.owner_id, d.owner_id),
                        marquee_csv_text(u.email::text), l.method,
                        marquee_csv_text(l.endpoint), l.status
                 {source} {where} ORDER BY {order})
           TO STDOUT WITH (FORMAT csv)"""
    ).format(source=_REQUEST_FROM, where=where, order=REQUEST_SORTS[sort])
    yield (",".join(REQUEST_CSV_COLUMNS) + "\n").encode()
    yield from copy_out(conn, query, params, statement_timeout_ms=statement_timeout_ms)


def endpoints_seen(conn: Connection, *, days: int) -> list[str]:
    """Route templates with traffic in the last `days` days (from the rollups), for the request-log filter."""
    rows = fetch_all(
        conn,
        """SELECT DISTINCT endpoint FROM usage_daily WHERE day > (now() AT TIME ZONE 'UTC')::date - %s
           ORDER BY endpoint""",
        (days,),
    )
    return [row["endpoint"] for row in rows]


# ---------------------------------------------------------------- analytics from the rollups (issue 9)


def roll_up(conn: Connection, *, max_days: int | None) -> date | None:
    """Close the finished days of usage_daily into usage_day_totals and usage_daily_active (marquee_roll_up_usage,
    migration 0007), at most `max_days` of them (None: all); returns the first day still open, or None when another
    session is rolling up."""
    row = fetch_required(conn, "SELECT marquee_roll_up_usage(%s) AS open_from", (max_days,))
    open_from: date | None = row["open_from"]
    return open_from


@dataclass(frozen=True)
class DayTraffic:
    """One UTC day: every request by outcome, developers and keys with an admitted request, and self-serve signups
    (the portal's sign-up form; owners named by an admin or the CLI are not signups)."""

    day: date
    requests: int  # admitted and refused
    ok: int  # 2xx and 3xx
    client_errors: int  # 4xx other than 429 (refusals by key status included)
    limited: int  # 429
    server_errors: int  # 5xx
    active_developers: int
    active_keys: int
    signups: int  # self-serve accounts that signed up that day (users.signed_up_at)
    verified_signups: int  # of those, the ones that have confirmed their address since

    @property
    def status_4xx(self) -> int:
        return self.client_errors + self.limited


@dataclass(frozen=True)
class EndpointTraffic:
    endpoint: str
    requests: int
    client_errors: int
    limited: int
    server_errors: int


@dataclass(frozen=True)
class Traffic:
    """What the admin overview charts over the last `days` UTC days (today included)."""

    days: list[DayTraffic]
    endpoints: list[EndpointTraffic]  # busiest first
    active_developers: int  # developers with an admitted request in the window
    active_keys: int
    developers: int  # accounts in total
    open_from: date  # days before this came from the rollups, later ones live from usage_daily


_COUNTS = ("requests", "ok", "client_errors", "limited", "server_errors")

# Closed days from usage_day_totals, open ones live from usage_daily; totals per day and per endpoint at once.
_TRAFFIC = """
WITH days AS (
    SELECT day, endpoint, requests, ok, client_errors, limited, server_errors
    FROM usage_day_totals
    WHERE day >= %(first_day)s AND day < %(open_from)s
    UNION ALL
    SELECT day, endpoint, sum(requests + rejected + not_modified), sum(ok), sum(client_errors), sum(limited),
           sum(server_errors)
    FROM usage_daily
    WHERE day >= greatest(%(first_day)s, %(open_from)s)
    GROUP BY day, endpoint
)
SELECT day, endpoint, GROUPING(day) AS by_endpoint, sum(requests)::bigint AS requests, sum(ok)::bigint AS ok,
       sum(client_errors)::bigint AS client_errors, sum(limited)::bigint AS limited,
       sum(server_errors)::bigint AS server_errors
FROM days
GROUP BY GROUPING SETS ((day), (endpoint))
"""

# Developers and keys with an admitted request, per day: closed days from usage_daily_active; open days before
# today live from usage_daily (none while the scheduled rollup keeps up); today from the keys' last use (below),
# two small tables instead of today's rows of usage_daily. Keys deleted since count too (issued_api_keys): deleting
# a key does not change what happened.
_ACTIVE_PER_DAY = """
SELECT day, developers, keys FROM usage_daily_active
WHERE day >= %(first_day)s AND day < %(open_from)s
UNION ALL
SELECT d.day, count(DISTINCT k.owner_id), count(DISTINCT d.api_key_id)
FROM usage_daily d JOIN issued_api_keys k ON k.id = d.api_key_id
WHERE d.day >= greatest(%(first_day)s, %(open_from)s) AND d.day < %(today)s
  AND d.requests + d.not_modified > 0
GROUP BY d.day
"""

# Self-serve accounts by the day they signed up (not owners named by an admin or the CLI, nor demo@localhost), and
# how many of them have confirmed their address since.
_SIGNUPS_PER_DAY = """
SELECT (signed_up_at AT TIME ZONE 'UTC')::date AS day, count(*) AS signups,
       count(*) FILTER (WHERE verified) AS verified_signups
FROM users
WHERE signed_up_at >= %(window_start)s
GROUP BY 1
"""

# Over every key ever issued (api_keys and deleted_api_keys, two small tables): developers and keys active in the
# window and today, and all developers.
_HEADLINE = """
SELECT count(DISTINCT owner_id) FILTER (WHERE last_used_at >= %(window_start)s) AS active_developers,
       count(*) FILTER (WHERE last_used_at >= %(window_start)s) AS active_keys,
       count(DISTINCT owner_id) FILTER (WHERE last_used_at >= %(today_start)s) AS active_developers_today,
       count(*) FILTER (WHERE last_used_at >= %(today_start)s) AS active_keys_today,
       (SELECT count(*) FROM users) AS developers
FROM issued_api_keys
"""


def traffic(conn: Connection, *, first_day: date, today: date, top_endpoints: int) -> Traffic:
    """Requests per day by outcome, the busiest endpoints, active developers and signups from `first_day` to `today`
    (UTC days), from the rollups (usage_day_totals, usage_daily_active) plus the days they do not hold yet."""
    open_from: date = fetch_required(conn, "SELECT open_from FROM usage_rollup_state")["open_from"]
    params = {
        "first_day": first_day,
        "open_from": open_from,
        "today": today,
        "window_start": datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC),
        "today_start": datetime(today.year, today.month, today.day, tzinfo=UTC),
    }
    per_day: dict[date, dict[str, int]] = {}
    endpoints: list[EndpointTraffic] = []
    for row in fetch_all(conn, _TRAFFIC, params):
        counts = {key: int(row[key]) for key in _COUNTS}
        if row["by_endpoint"]:
            endpoints.append(EndpointTraffic(row["endpoint"], **{k: v for k, v in counts.items() if k != "ok"}))
        else:
            per_day[row["day"]] = counts
    active = {
        row["day"]: (int(row["developers"]), int(row["keys"])) for row in fetch_all(conn, _ACTIVE_PER_DAY, params)
    }
    signups = {
        row["day"]: (int(row["signups"]), int(row["verified_signups"]))
        for row in fetch_all(conn, _SIGNUPS_PER_DAY, params)
    }
    headline = fetch_required(conn, _HEADLINE, params)
    active[today] = (int(headline["active_developers_today"]), int(headline["active_keys_today"]))
    zero = dict.fromkeys(_COUNTS, 0)
    days = []
    for offset in range((today - first_day).days + 1):
        day = first_day + timedelta(days=offset)
        developers, keys = active.get(day, (0, 0))
        signed_up, verified = signups.get(day, (0, 0))
        days.append(
            DayTraffic(
                day,
                **per_day.get(day, zero),
                active_developers=developers,
                active_keys=keys,
                signups=signed_up,
                verified_signups=verified,
            )
        )
    endpoints.sort(key=lambda e: (-e.requests, e.endpoint))
    return Traffic(
        days=days,
        endpoints=endpoints[:top_endpoints],
        active_developers=int(headline["active_developers"]),
        active_keys=int(headline["active_keys"]),
        developers=int(headline["developers"]),
        open_from=open_from,
    )


@dataclass(frozen=True)
class KeyDay:
    day: date
    requests: int  # admitted, free 304s (usage_daily.not_modified) included
    rejected: int  # refused by a limit or the key's status


def daily_usage(conn: Connection, *, key_ids: list[int], first_day: date) -> list[KeyDay]:
    """Admitted and refused requests per UTC day since `first_day` over the given keys (usage_daily), days with
    traffic only, oldest first."""
    rows = fetch_all(
        conn,
        """SELECT day, sum(requests + not_modified)::bigint AS requests, sum(rejected)::bigint AS rejected
           FROM usage_daily
           WHERE api_key_id = ANY(%s) AND day >= %s GROUP BY day ORDER BY day""",
        (key_ids, first_day),
    )
    return [KeyDay(row["day"], int(row["requests"]), int(row["rejected"])) for row in rows]
