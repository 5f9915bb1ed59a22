"""Admin analytics: requests per day by status class, busiest endpoints, active developers and signups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from movie_common.database import Connection
from movie_common.db import usage
from movie_common.db.usage import Traffic
from movie_common.errors import InvalidParameter, RequestValidationError

WINDOWS = (7, 30, 90)
TOP_ENDPOINTS = 10
# Days a read may close before answering: the daily schedule normally leaves none; after a pause the rest is read
# live (exact, only slower) and caught up by later calls.
ROLL_UP_DAYS_PER_READ = 2


def overview(conn: Connection, *, days: int = 30, now: datetime | None = None) -> Traffic:
    """The last `days` UTC days, today included (`days` one of WINDOWS): per-day requests by outcome (2xx/3xx, 4xx,
    429, 5xx), developers and keys with an admitted request, signups; the busiest TOP_ENDPOINTS endpoints;
    developers active in the window. Read from the daily rollups, plus the days they do not hold yet."""
    if days not in WINDOWS:
        raise RequestValidationError(
            "Choose a window the overview offers.",
            [InvalidParameter("days", "query", f"one of {', '.join(map(str, WINDOWS))}")],
        )
    with conn.transaction():
        usage.roll_up(conn, max_days=ROLL_UP_DAYS_PER_READ)
    today = (now or datetime.now(UTC)).date()
    return usage.traffic(conn, first_day=today - timedelta(days=days - 1), today=today, top_endpoints=TOP_ENDPOINTS)


def roll_up(conn: Connection, *, max_days: int | None = None) -> date | None:
    """Close finished days (the daily schedule); returns the first open day, None if another session is at it."""
    with conn.transaction():
        return usage.roll_up(conn, max_days=max_days)
