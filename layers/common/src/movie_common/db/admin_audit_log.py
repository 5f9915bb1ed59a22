"""SQL for the admin audit log: one row per admin action (written with the action), listed, filtered, exported."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from movie_common.database import Connection, copy_out, fetch_all, fetch_one, fetch_required

_COLUMNS = sql.SQL(
    """l.id, l.occurred_at, l.admin_id, l.actor, l.source, l.action, l.target_type, l.target_id, l.developer_id,
       l.before, l.after, l.request_id"""
)
SORTS: dict[str, sql.Composable] = {
    "occurred_at.desc": sql.SQL("l.occurred_at DESC, l.id DESC"),
    "occurred_at.asc": sql.SQL("l.occurred_at ASC, l.id ASC"),
}


@dataclass(frozen=True)
class AuditEntry:
    """One admin action: who (`actor`, `admin_id`; source api or cli), what (`action`), on what (`target_type`,
    `target_id`, and the developer concerned), the target before and after, when, and the request id."""

    id: int
    occurred_at: datetime
    admin_id: int | None
    actor: str
    source: str
    action: str
    target_type: str
    target_id: str | None
    developer_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


@dataclass(frozen=True)
class AuditFilters:
    """Filters of the audit list and its export; None means not filtered. Times are inclusive-exclusive."""

    admin_id: int | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    developer_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None  # substring of actor, action or target id


def insert_entry(
    conn: Connection,
    *,
    admin_id: int | None,
    actor: str,
    source: str,
    action: str,
    target_type: str,
    target_id: str | None,
    developer_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    request_id: str | None,
) -> int:
    """Append one entry (call inside the action's transaction); returns its id."""
    row = fetch_required(
        conn,
        """INSERT INTO admin_audit_log (admin_id, actor, source, action, target_type, target_id, developer_id,
                                        before, after, request_id)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (
            admin_id,
            actor,
            source,
            action,
            target_type,
            target_id,
            developer_id,
            None if before is None else Jsonb(before),
            None if after is None else Jsonb(after),
            request_id,
        ),
    )
    return int(row["id"])


def _where(filters: AuditFilters) -> tuple[sql.Composable, dict[str, Any]]:
    clauses: list[sql.Composable] = []
    params: dict[str, Any] = {}
    for column, value in (
        ("admin_id", filters.admin_id),
        ("action", filters.action),
        ("target_type", filters.target_type),
        ("target_id", filters.target_id),
        ("developer_id", filters.developer_id),
    ):
        if value is not None:
            clauses.append(sql.SQL("l.{} = {}").format(sql.Identifier(column), sql.Placeholder(column)))
            params[column] = value
    if filters.since is not None:
        clauses.append(sql.SQL("l.occurred_at >= %(since)s"))
        params["since"] = filters.since
    if filters.until is not None:
        clauses.append(sql.SQL("l.occurred_at < %(until)s"))
        params["until"] = filters.until
    if filters.search:
        clauses.append(
            sql.SQL(
                "strpos(lower(l.actor || ' ' || l.action || ' ' || coalesce(l.target_id, '')), lower(%(search)s)) > 0"
            )
        )
        params["search"] = filters.search
    if not clauses:
        return sql.SQL(""), params
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses), params


def list_entries(
    conn: Connection, *, filters: AuditFilters, sort: str, limit: int, offset: int
) -> tuple[list[AuditEntry], int]:
    """One page of entries and the number of entries matching the filters."""
    where, params = _where(filters)
    rows = fetch_all(
        conn,
        sql.SQL(
            """SELECT {columns}, count(*) OVER () AS total FROM admin_audit_log l {where}
               ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s"""
        ).format(columns=_COLUMNS, where=where, order=SORTS[sort]),
        {**params, "limit": limit, "offset": offset},
    )
    if not rows:
        count = fetch_one(conn, sql.SQL("SELECT count(*) AS total FROM admin_audit_log l {}").format(where), params)
        return [], int(count["total"]) if count else 0
    total = int(rows[0]["total"])
    return [AuditEntry(**{k: v for k, v in row.items() if k != "total"}) for row in rows], total


def developer_entries(conn: Connection, *, developer_id: int, limit: int) -> list[AuditEntry]:
    """The latest admin actions concerning one developer (their account or any of their keys), newest first."""
    rows = fetch_all(
        conn,
        sql.SQL(
            """SELECT {columns} FROM admin_audit_log l WHERE l.developer_id = %s
               ORDER BY l.occurred_at DESC, l.id DESC LIMIT %s"""
        ).format(columns=_COLUMNS),
        (developer_id, limit),
    )
    return [AuditEntry(**row) for row in rows]


CSV_COLUMNS = (
    "id",
    "occurred_at",
    "admin_id",
    "actor",
    "source",
    "action",
    "target_type",
    "target_id",
    "developer_id",
    "before",
    "after",
    "request_id",
)


def export_csv(
    conn: Connection, *, filters: AuditFilters, sort: str, statement_timeout_ms: int | None = None
) -> Iterator[bytes]:
    """The filtered entries as CSV (header row first, UTF-8, times in UTC ISO 8601), streamed by COPY."""
    where, params = _where(filters)
    query = sql.SQL(
        """COPY (SELECT l.id, to_char(l.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                        l.admin_id, marquee_csv_text(l.actor), l.source, l.action, l.target_type,
                        marquee_csv_text(l.target_id), l.developer_id,
                        l.before::text, l.after::text, l.request_id
                 FROM admin_audit_log l {where} ORDER BY {order})
           TO STDOUT WITH (FORMAT csv, HEADER false)"""
    ).format(where=where, order=SORTS[sort])
    yield (",".join(CSV_COLUMNS) + "\n").encode()
    yield from copy_out(conn, query, params, statement_timeout_ms=statement_timeout_ms)
