"""SQL for plans (quota tiers)."""

from __future__ import annotations

from movie_common.database import Connection, fetch_all


def plan_ids(conn: Connection) -> list[str]:
    return [row["id"] for row in fetch_all(conn, "SELECT id FROM plans ORDER BY id")]
