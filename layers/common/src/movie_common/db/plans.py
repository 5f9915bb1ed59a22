"""SQL for plans (quota tiers)."""

from __future__ import annotations

from dataclasses import dataclass

from movie_common.database import Connection, fetch_all


def plan_ids(conn: Connection) -> list[str]:
    return [row["id"] for row in fetch_all(conn, "SELECT id FROM plans ORDER BY id")]


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    daily_quota: int | None  # None: no daily cap
    per_minute: int


def list_plans(conn: Connection) -> list[Plan]:
    """Every plan, smallest daily quota first (no cap last)."""
    rows = fetch_all(
        conn,
        """SELECT id, name, daily_quota, per_minute FROM plans
           ORDER BY daily_quota IS NULL, daily_quota, per_minute, id""",
    )
    return [Plan(**row) for row in rows]
