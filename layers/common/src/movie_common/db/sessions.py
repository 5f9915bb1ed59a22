"""SQL for login sessions of developers and admins (the `sessions` table of migration 0004)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from movie_common.database import Connection, fetch_one, fetch_required, translate_errors


@dataclass(frozen=True)
class SessionRow:
    id: uuid.UUID
    role: str
    subject_id: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    now: datetime


def insert_session(conn: Connection, *, role: str, subject_id: int, ttl_seconds: int) -> SessionRow:
    """A new session expiring `ttl_seconds` from now (database time)."""
    row = fetch_required(
        conn,
        """INSERT INTO sessions (role, subject_id, expires_at)
           VALUES (%s, %s, now() + make_interval(secs => %s))
           RETURNING id, role, subject_id, created_at, expires_at, revoked_at, now() AS now""",
        (role, subject_id, ttl_seconds),
    )
    return SessionRow(**row)


def get_session(conn: Connection, *, session_id: uuid.UUID) -> SessionRow | None:
    row = fetch_one(
        conn,
        "SELECT id, role, subject_id, created_at, expires_at, revoked_at, now() AS now FROM sessions WHERE id = %s",
        (session_id,),
    )
    return None if row is None else SessionRow(**row)


def revoke_session(conn: Connection, *, session_id: uuid.UUID, reason: str) -> bool:
    """End one session; False when it was already ended or does not exist."""
    with translate_errors():
        cursor = conn.execute(
            """UPDATE sessions SET revoked_at = now(), revoked_reason = %s
               WHERE id = %s AND revoked_at IS NULL""",
            (reason, session_id),
        )
    return cursor.rowcount == 1


def revoke_subject_sessions(conn: Connection, *, role: str, subject_id: int, reason: str) -> int:
    """End every open session of one developer or admin; returns how many were open."""
    with translate_errors():
        cursor = conn.execute(
            """UPDATE sessions SET revoked_at = now(), revoked_reason = %s
               WHERE role = %s AND subject_id = %s AND revoked_at IS NULL AND expires_at > now()""",
            (reason, role, subject_id),
        )
    return cursor.rowcount


def delete_expired_sessions(conn: Connection, *, older_than_days: int = 30) -> int:
    """Housekeeping: forget sessions that ended more than `older_than_days` ago."""
    with translate_errors():
        cursor = conn.execute(
            "DELETE FROM sessions WHERE expires_at < now() - make_interval(days => %s)", (older_than_days,)
        )
    return cursor.rowcount
