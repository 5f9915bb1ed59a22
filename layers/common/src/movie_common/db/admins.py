"""SQL for admin accounts: creation, password changes, and the login bookkeeping behind the lockout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg import sql

from movie_common.database import Connection, fetch_all, fetch_one, translate_errors

_COLUMNS = sql.SQL("id, email::text AS email, status, failed_logins, locked_until, last_login_at, created_at")


@dataclass(frozen=True)
class Admin:
    """An admin account as the admin pages and the CLI show it (never the password hash)."""

    id: int
    email: str
    status: str  # active | disabled
    failed_logins: int
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime


def insert_admin(conn: Connection, *, email: str, hashed_password: str) -> Admin | None:
    """Create an admin; None when one with this email (case-insensitive) exists already."""
    row = fetch_one(
        conn,
        sql.SQL(
            """INSERT INTO admins (email, hashed_password) VALUES (%s, %s)
               ON CONFLICT (email) DO NOTHING RETURNING {}"""
        ).format(_COLUMNS),
        (email, hashed_password),
    )
    return None if row is None else Admin(**row)


def set_password(conn: Connection, *, admin_id: int, hashed_password: str) -> Admin | None:
    """Replace the password hash and clear any lockout; None if there is no such admin."""
    row = fetch_one(
        conn,
        sql.SQL(
            """UPDATE admins SET hashed_password = %s, password_changed_at = now(), failed_logins = 0,
                      locked_until = NULL
               WHERE id = %s RETURNING {}"""
        ).format(_COLUMNS),
        (hashed_password, admin_id),
    )
    return None if row is None else Admin(**row)


def get_admin(conn: Connection, *, admin_id: int) -> Admin | None:
    row = fetch_one(conn, sql.SQL("SELECT {} FROM admins WHERE id = %s").format(_COLUMNS), (admin_id,))
    return None if row is None else Admin(**row)


def find_admin(conn: Connection, *, email: str) -> Admin | None:
    row = fetch_one(conn, sql.SQL("SELECT {} FROM admins WHERE email = %s").format(_COLUMNS), (email,))
    return None if row is None else Admin(**row)


def list_admins(conn: Connection) -> list[Admin]:
    return [Admin(**row) for row in fetch_all(conn, sql.SQL("SELECT {} FROM admins ORDER BY id").format(_COLUMNS))]


def count_admins(conn: Connection) -> int:
    row = fetch_one(conn, "SELECT count(*) AS n FROM admins")
    return int(row["n"]) if row else 0


@dataclass(frozen=True)
class LoginAttempt:
    """The outcome of reserving one login attempt.

    `admin_id` None: no admin has this email. `locked_until` set: the account is locked and the password must not
    be checked. Otherwise `hashed_password` is to be checked, and `attempt` is this attempt's number among the
    failures counted so far (itself included, since it counts as failed until it succeeds).
    """

    admin_id: int | None
    status: str | None
    hashed_password: str | None
    attempt: int
    locked_until: datetime | None
    now: datetime


# One statement, under the admin row's lock: a locked account is left as it is; otherwise the attempt is counted as
# a failure before the password is checked, so N parallel guesses are N counted failures, and the one that makes
# the count exceed `max_failures` locks the account at once. Failures older than `window`, or from before a lock
# that has ended, no longer count.
_RESERVE = """
WITH a AS (
    SELECT id, locked_until,
           CASE WHEN locked_until IS NOT NULL AND locked_until <= now() THEN 1
                WHEN last_failed_login_at IS NULL OR last_failed_login_at < now() - %(window)s THEN 1
                ELSE failed_logins + 1 END AS failures
    FROM admins WHERE email = %(email)s
    FOR UPDATE
), counted AS (
    UPDATE admins t SET
        failed_logins = a.failures,
        last_failed_login_at = now(),
        locked_until = CASE WHEN a.failures > %(max_failures)s THEN now() + %(lock_for)s END
    FROM a
    WHERE t.id = a.id AND (a.locked_until IS NULL OR a.locked_until <= now())
    RETURNING t.id, t.hashed_password, t.status, t.failed_logins, t.locked_until
)
SELECT a.id AS admin_id, c.status, c.hashed_password, coalesce(c.failed_logins, 0) AS attempt,
       CASE WHEN c.id IS NULL THEN a.locked_until ELSE c.locked_until END AS locked_until, now() AS now
FROM (SELECT 1) AS one LEFT JOIN a ON true LEFT JOIN counted c ON c.id = a.id
"""


def reserve_login_attempt(
    conn: Connection, *, email: str, max_failures: int, window: timedelta, lock_for: timedelta
) -> LoginAttempt:
    """Count one login attempt for `email` before its password is checked (see LoginAttempt)."""
    row = fetch_one(
        conn,
        _RESERVE,
        {"email": email, "window": window, "lock_for": lock_for, "max_failures": max_failures},
    )
    if row is None:  # pragma: no cover - the statement always returns its one row
        raise RuntimeError("reserve_login_attempt returned no row")
    return LoginAttempt(
        admin_id=row["admin_id"],
        status=row["status"],
        hashed_password=row["hashed_password"],
        attempt=int(row["attempt"]),
        locked_until=row["locked_until"],
        now=row["now"],
    )


def record_login_success(conn: Connection, *, admin_id: int) -> None:
    """A correct password: the failures counted so far are forgiven."""
    with translate_errors():
        conn.execute(
            """UPDATE admins SET failed_logins = 0, last_failed_login_at = NULL, locked_until = NULL,
                      last_login_at = now()
               WHERE id = %s""",
            (admin_id,),
        )


def lock_if_exhausted(conn: Connection, *, admin_id: int, max_failures: int, lock_for: timedelta) -> datetime | None:
    """After a wrong password: lock the account when the failures reached `max_failures`; returns the lock's end."""
    row = fetch_one(
        conn,
        """UPDATE admins SET locked_until = now() + %s
           WHERE id = %s AND failed_logins >= %s AND (locked_until IS NULL OR locked_until <= now())
           RETURNING locked_until""",
        (lock_for, admin_id, max_failures),
    )
    return None if row is None else row["locked_until"]
