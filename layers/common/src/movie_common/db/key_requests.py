"""SQL for key reissue requests (key_requests): filed by developers, decided by admins, fulfilled once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from movie_common.database import Connection, fetch_all, fetch_one, translate_errors


@dataclass(frozen=True)
class KeyRequest:
    id: int
    user_id: int
    api_key_id: int | None
    reason: str
    status: str  # pending | approved | denied
    created_at: datetime
    decided_at: datetime | None
    decision_note: str | None
    fulfilled_at: datetime | None


_COLUMNS = sql.SQL("id, user_id, api_key_id, reason, status, created_at, decided_at, decision_note, fulfilled_at")


def file_request(conn: Connection, *, user_id: int, api_key_id: int | None, reason: str) -> KeyRequest | None:
    """A new pending request; None when the developer already has an open one (pending, or approved and not yet
    fulfilled): a partial unique index decides, so concurrent submissions file exactly one."""
    try:
        with translate_errors(), conn.transaction():
            row = conn.execute(
                sql.SQL(
                    "INSERT INTO key_requests (user_id, api_key_id, reason) VALUES (%s, %s, %s) RETURNING {}"
                ).format(_COLUMNS),
                (user_id, api_key_id, reason),
            ).fetchone()
    except psycopg.errors.UniqueViolation:
        return None
    return None if row is None else KeyRequest(**row)


def list_requests(conn: Connection, *, user_id: int, limit: int = 20) -> list[KeyRequest]:
    """The developer's requests, newest first."""
    rows = fetch_all(
        conn,
        sql.SQL("SELECT {} FROM key_requests WHERE user_id = %s ORDER BY created_at DESC, id DESC LIMIT %s").format(
            _COLUMNS
        ),
        (user_id, limit),
    )
    return [KeyRequest(**row) for row in rows]


def get_request(conn: Connection, *, request_id: int, user_id: int, lock: bool = False) -> KeyRequest | None:
    """One request of this developer (None for another developer's id: they are indistinguishable from missing)."""
    query = sql.SQL("SELECT {} FROM key_requests WHERE id = %s AND user_id = %s{}").format(
        _COLUMNS, sql.SQL(" FOR UPDATE") if lock else sql.SQL("")
    )
    row = fetch_one(conn, query, (request_id, user_id))
    return None if row is None else KeyRequest(**row)


def decide_request(
    conn: Connection, *, request_id: int, approve: bool, admin_id: int | None, note: str | None = None
) -> KeyRequest | None:
    """Approve or deny a pending request (the admin portal's action); None if it is not pending (or unknown)."""
    row = fetch_one(
        conn,
        sql.SQL(
            """UPDATE key_requests SET status = %s, decided_at = now(), decided_by = %s, decision_note = %s
               WHERE id = %s AND status = 'pending' RETURNING {}"""
        ).format(_COLUMNS),
        ("approved" if approve else "denied", admin_id, note, request_id),
    )
    return None if row is None else KeyRequest(**row)


def mark_fulfilled(conn: Connection, *, request_id: int, new_api_key_id: int) -> None:
    with translate_errors():
        conn.execute(
            "UPDATE key_requests SET fulfilled_at = now(), new_api_key_id = %s WHERE id = %s",
            (new_api_key_id, request_id),
        )


# ---------------------------------------------------------------- the admin's view (issue 9)

_ADMIN_COLUMNS = sql.SQL(
    """r.id, r.user_id, u.email::text AS developer_email, u.name AS developer_name, r.api_key_id,
       k.last4 AS key_last4, k.plan AS key_plan,
       CASE WHEN k.deleted_at IS NOT NULL THEN 'deleted' ELSE k.status END AS key_status,
       r.reason, r.status, r.created_at, r.decided_at, r.decided_by,
       d.email::text AS decided_by_email, r.decision_note, r.fulfilled_at, r.new_api_key_id"""
)
# The key a request replaces may have been deleted since: issued_api_keys still knows it (migration 0012).
_ADMIN_FROM = sql.SQL(
    """FROM key_requests r JOIN users u ON u.id = r.user_id LEFT JOIN issued_api_keys k ON k.id = r.api_key_id
       LEFT JOIN admins d ON d.id = r.decided_by"""
)
SORTS: dict[str, sql.Composable] = {
    "created.desc": sql.SQL("r.created_at DESC, r.id DESC"),
    "created.asc": sql.SQL("r.created_at ASC, r.id ASC"),
}


@dataclass(frozen=True)
class AdminKeyRequest:
    """A reissue request as the admin sees it: who asked (for which key, on which plan), why, what was decided.

    `status`: pending, approved (the old key revoked; the new one waits to be revealed to the developer once, then
    `new_api_key_id` and `fulfilled_at` are set) or denied (`decision_note` says why).
    """

    id: int
    user_id: int
    developer_email: str
    developer_name: str
    api_key_id: int | None
    key_last4: str | None
    key_plan: str | None
    key_status: str | None  # the key's status now: active, suspended, revoked, or deleted
    reason: str
    status: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: int | None
    decided_by_email: str | None
    decision_note: str | None
    fulfilled_at: datetime | None
    new_api_key_id: int | None


@dataclass(frozen=True)
class KeyRequestFilters:
    status: str | None = None
    user_id: int | None = None
    search: str | None = None  # substring of the developer's name or email, or of the reason


def _where(filters: KeyRequestFilters) -> tuple[sql.Composable, dict[str, Any]]:
    clauses: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if filters.status is not None:
        clauses.append(sql.SQL("r.status = %(status)s"))
        params["status"] = filters.status
    if filters.user_id is not None:
        clauses.append(sql.SQL("r.user_id = %(user_id)s"))
        params["user_id"] = filters.user_id
    if filters.search:
        clauses.append(
            sql.SQL("strpos(lower(u.email::text || ' ' || u.name || ' ' || r.reason), lower(%(search)s)) > 0")
        )
        params["search"] = filters.search.strip()
    if not clauses:
        return sql.SQL(""), params
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses), params


def list_admin_key_requests(
    conn: Connection, *, filters: KeyRequestFilters, sort: str, limit: int, offset: int
) -> tuple[list[AdminKeyRequest], int]:
    """One page of requests and how many match."""
    where, params = _where(filters)
    rows = fetch_all(
        conn,
        sql.SQL(
            """SELECT {columns}, count(*) OVER () AS total {source} {where}
               ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s"""
        ).format(columns=_ADMIN_COLUMNS, source=_ADMIN_FROM, where=where, order=SORTS[sort]),
        {**params, "limit": limit, "offset": offset},
    )
    if not rows:
        count = fetch_one(conn, sql.SQL("SELECT count(*) AS total {} {}").format(_ADMIN_FROM, where), params)
        return [], int(count["total"]) if count else 0
    return [AdminKeyRequest(**{k: v for k, v in row.items() if k != "total"}) for row in rows], int(rows[0]["total"])


def get_admin_key_request(conn: Connection, *, request_id: int, lock: bool = False) -> AdminKeyRequest | None:
    """One request; `lock` holds its row until the transaction ends (deciding it)."""
    if lock:
        fetch_one(conn, "SELECT id FROM key_requests WHERE id = %s FOR UPDATE", (request_id,))
    row = fetch_one(conn, sql.SQL("SELECT {} {} WHERE r.id = %s").format(_ADMIN_COLUMNS, _ADMIN_FROM), (request_id,))
    return None if row is None else AdminKeyRequest(**row)
