"""SQL for plans (quota tiers): the ids keys may use, and the admin's view and edits of the limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg import sql

from movie_common.database import Connection, fetch_all, fetch_one

_PLAN_COLUMNS = sql.SQL("""p.id, p.name, p.daily_quota, p.per_minute, p.gateway_tier, p.created_at, p.updated_at,
                   (SELECT count(*) FROM api_keys a WHERE a.plan = p.id AND a.status <> 'revoked') AS keys""")


def plan_ids(conn: Connection) -> list[str]:
    return [row["id"] for row in fetch_all(conn, "SELECT id FROM plans ORDER BY id")]


@dataclass(frozen=True)
class Plan:
    """A plan's limits: `daily_quota` requests per UTC day (None: no daily cap), `per_minute` requests per minute,
    the API Gateway usage plan (`gateway_tier`) its keys are throttled under, and how many keys use it (active or
    suspended: a revoked key makes no further request, so a change of limits reaches it never)."""

    id: str
    name: str
    daily_quota: int | None
    per_minute: int
    gateway_tier: str
    created_at: datetime
    updated_at: datetime
    keys: int


def list_plans(conn: Connection) -> list[Plan]:
    """Every plan, smallest daily quota first (no cap last)."""
    rows = fetch_all(
        conn,
        sql.SQL("SELECT {} FROM plans p ORDER BY p.daily_quota ASC NULLS LAST, p.per_minute, p.id").format(
            _PLAN_COLUMNS
        ),
    )
    return [Plan(**row) for row in rows]


def get_plan(conn: Connection, *, plan_id: str, lock: bool = False) -> Plan | None:
    query = sql.SQL("SELECT {} FROM plans p WHERE p.id = %s {}").format(
        _PLAN_COLUMNS, sql.SQL("FOR UPDATE OF p" if lock else "")
    )
    row = fetch_one(conn, query, (plan_id,))
    return None if row is None else Plan(**row)


def update_plan(
    conn: Connection, *, plan_id: str, name: str, daily_quota: int | None, per_minute: int, gateway_tier: str
) -> Plan | None:
    """Replace a plan's name and limits; the admission statement reads them on every request, so the next
    request of every key on the plan is held to them. None if there is no such plan."""
    row = fetch_one(
        conn,
        """UPDATE plans SET name = %s, daily_quota = %s, per_minute = %s, gateway_tier = %s, updated_at = now()
           WHERE id = %s RETURNING id""",
        (name, daily_quota, per_minute, gateway_tier, plan_id),
    )
    return None if row is None else get_plan(conn, plan_id=plan_id)
