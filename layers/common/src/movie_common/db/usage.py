"""SQL for usage-log upkeep: monthly partitions created ahead of time."""

from __future__ import annotations

from movie_common.database import Connection, fetch_required


def ensure_partitions(conn: Connection, *, months_ahead: int = 2) -> int:
    """Create the monthly usage_logs partitions from this month to `months_ahead`; returns how many were new.

    Run on every deploy and local start (and, once it exists, by the daily scheduled job): rows of a month with
    no partition land in the default partition, which still works but keeps that month from being partitioned.
    """
    row = fetch_required(conn, "SELECT marquee_ensure_usage_partitions(%s) AS created", (months_ahead,))
    return int(row["created"])
