"""SQL for key reissue requests (key_requests): filed by developers, decided by admins, fulfilled once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
