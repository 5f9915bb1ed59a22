"""SQL for the portal's attempt counters (auth_attempts): fixed windows per (scope, subject) and lockouts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from movie_common.database import Connection, fetch_one, fetch_required, translate_errors


@dataclass(frozen=True)
class AttemptCount:
    """The counter after this attempt: attempts in the window that started at window_start, any lock, and the
    database's clock."""

    attempts: int
    window_start: datetime
    locked_until: datetime | None
    now: datetime


# One upsert per attempt: a window that is over restarts at 1. Concurrent attempts serialise on the row.
_COUNT = """
INSERT INTO auth_attempts AS a (scope, subject, window_start, attempts) VALUES (%(scope)s, %(subject)s, now(), 1)
ON CONFLICT (scope, subject) DO UPDATE SET
    attempts = CASE WHEN a.window_start <= now() - %(window)s THEN 1 ELSE a.attempts + 1 END,
    window_start = CASE WHEN a.window_start <= now() - %(window)s THEN now() ELSE a.window_start END
RETURNING attempts, window_start, locked_until, now() AS now
"""


def count_attempt(conn: Connection, *, scope: str, subject: str, window: timedelta) -> AttemptCount:
    """Count one attempt in the current window of `window` length and return the counter after it."""
    return AttemptCount(**fetch_required(conn, _COUNT, {"scope": scope, "subject": subject, "window": window}))


def locked_until(conn: Connection, *, scope: str, subject: str) -> tuple[datetime | None, datetime]:
    """(the end of a lock still in force or None, the database's now)."""
    row = fetch_required(
        conn,
        """SELECT (SELECT locked_until FROM auth_attempts
                   WHERE scope = %s AND subject = %s AND locked_until > now()) AS locked_until, now() AS now""",
        (scope, subject),
    )
    return row["locked_until"], row["now"]


def lock(conn: Connection, *, scope: str, subject: str, duration: timedelta) -> datetime:
    """Lock (scope, subject) for `duration` from now and restart its count; returns when the lock ends."""
    row = fetch_required(
        conn,
        """INSERT INTO auth_attempts (scope, subject, window_start, attempts, locked_until)
           VALUES (%(scope)s, %(subject)s, now(), 0, now() + %(duration)s)
           ON CONFLICT (scope, subject) DO UPDATE
           SET locked_until = now() + %(duration)s, attempts = 0, window_start = now()
           RETURNING locked_until""",
        {"scope": scope, "subject": subject, "duration": duration},
    )
    until: datetime = row["locked_until"]
    return until


def clear(conn: Connection, *, scope: str, subject: str) -> None:
    """Forget the counter (a successful login clears the account's failures)."""
    with translate_errors():
        conn.execute("DELETE FROM auth_attempts WHERE scope = %s AND subject = %s", (scope, subject))


def forgive(conn: Connection, *, scope: str, subject: str) -> None:
    """Forget the counter unless a lock on it is in force (a right password forgives the failures counted so far,
    but lifts no lock that other attempts set)."""
    with translate_errors():
        conn.execute(
            """DELETE FROM auth_attempts
               WHERE scope = %s AND subject = %s AND (locked_until IS NULL OR locked_until <= now())""",
            (scope, subject),
        )


def clear_prefixed(conn: Connection, *, scope: str, prefix: str) -> int:
    """Forget every counter of `scope` whose subject starts with `prefix` (every address's counter of one account);
    returns how many."""
    with translate_errors():
        return conn.execute(
            "DELETE FROM auth_attempts WHERE scope = %s AND starts_with(subject, %s)", (scope, prefix)
        ).rowcount


def purge_stale(conn: Connection, *, older_than: timedelta, limit: int = 1000) -> int:
    """Delete up to `limit` counters whose window started and whose lock ended more than `older_than` ago; returns
    how many. Bounded, so that the request that happens to run it pays little."""
    with translate_errors():
        return conn.execute(
            """DELETE FROM auth_attempts WHERE (scope, subject) IN (
                   SELECT scope, subject FROM auth_attempts
                   WHERE window_start < now() - %(age)s AND (locked_until IS NULL OR locked_until < now() - %(age)s)
                   LIMIT %(limit)s)""",
            {"age": older_than, "limit": limit},
        ).rowcount


def attempts_in_window(conn: Connection, *, scope: str, subject: str, window: timedelta) -> int:
    """How many attempts the current window holds (0 if none or over), without counting one."""
    row = fetch_one(
        conn,
        "SELECT attempts FROM auth_attempts WHERE scope = %s AND subject = %s AND window_start > now() - %s",
        (scope, subject, window),
    )
    return 0 if row is None else int(row["attempts"])
