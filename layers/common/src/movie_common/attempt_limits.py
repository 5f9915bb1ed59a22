"""Per-IP and per-account limits for the portals' sensitive actions (sign-up, login, resend, reset) and lockouts
after repeated failed logins, counted in PostgreSQL (auth_attempts) so every Lambda environment sees one count."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from movie_common.database import Connection
from movie_common.db import auth_attempts
from movie_common.errors import AccountLockedError, TooManyAttemptsError


@dataclass(frozen=True)
class AttemptLimit:
    """At most `limit` attempts per `window` for one subject of `scope`."""

    scope: str
    limit: int
    window: timedelta


@dataclass(frozen=True)
class Lockout:
    """After `failures` failed attempts within `window`, the subject is locked for `duration`."""

    scope: str
    failures: int
    window: timedelta
    duration: timedelta


# Counters outlive their windows; one attempt in PURGE_EVERY also deletes a bounded batch of stale ones, so the
# table stays small without a scheduled job.
PURGE_EVERY = 200
STALE_AFTER = timedelta(days=2)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def hit(conn: Connection, limit: AttemptLimit, subject: str, *, what: str) -> None:
    """Count one attempt of `subject`; TooManyAttemptsError (429, Retry-After) once the window's limit is passed.
    `what` names the action in the detail ("sign-ups from this network", "verification emails")."""
    if random.randrange(PURGE_EVERY) == 0:  # noqa: S311 - a sampling choice, not a secret
        auth_attempts.purge_stale(conn, older_than=STALE_AFTER)
    count = auth_attempts.count_attempt(conn, scope=limit.scope, subject=subject, window=limit.window)
    if count.attempts > limit.limit:
        reset_at = count.window_start + limit.window
        retry = _seconds_until(reset_at, count.now)
        raise TooManyAttemptsError(
            f"Too many {what}; try again in {_human(retry)}.", limit=limit.limit, retry_after=retry, reset_at=reset_at
        )


def ensure_unlocked(conn: Connection, lockout: Lockout, subject: str) -> None:
    """AccountLockedError (429, Retry-After) while a lock on `subject` is in force."""
    until, now = auth_attempts.locked_until(conn, scope=lockout.scope, subject=subject)
    if until is not None:
        raise _locked(lockout, until, now)


def _locked(lockout: Lockout, until: datetime, now: datetime) -> AccountLockedError:
    # A lock that starts now lasts its duration, not that plus the instants between the count's clock and the
    # lock's (which made a 15-minute lock read "16 minutes", Retry-After 901).
    retry = min(_seconds_until(until, now), math.ceil(lockout.duration.total_seconds()))
    return AccountLockedError(
        f"Too many failed sign-in attempts; this account is locked for {_human(retry)}. "
        "You can reset your password meanwhile.",
        limit=lockout.failures,
        retry_after=retry,
        reset_at=until,
    )


def record_failure(conn: Connection, lockout: Lockout, subject: str) -> None:
    """Count a failure; the one that reaches the threshold locks the subject and raises AccountLockedError."""
    count = auth_attempts.count_attempt(conn, scope=lockout.scope, subject=subject, window=lockout.window)
    if count.attempts >= lockout.failures:
        until = auth_attempts.lock(conn, scope=lockout.scope, subject=subject, duration=lockout.duration)
        raise _locked(lockout, until, count.now)


def reserve_attempt(conn: Connection, lockout: Lockout, subject: str, *, enforce: bool = True) -> int:
    """Count one attempt of `subject` as a failure *before* its password is checked, so that N parallel guesses are
    N counted failures and none gets past the lock; returns this attempt's number in the window (itself included),
    for confirm_failure after a wrong password (forgive after a right one).

    AccountLockedError (429, Retry-After) while a lock on `subject` is in force, or when this attempt passes
    `lockout.failures` (which locks it). With `enforce` False nothing is refused (the lock is set all the same): the
    account-wide lock that does not apply to the caller's address."""
    count = auth_attempts.count_attempt(conn, scope=lockout.scope, subject=subject, window=lockout.window)
    until = count.locked_until if count.locked_until is not None and count.locked_until > count.now else None
    if until is None and count.attempts > lockout.failures:
        until = auth_attempts.lock(conn, scope=lockout.scope, subject=subject, duration=lockout.duration)
    if until is not None and enforce:
        raise _locked(lockout, until, count.now)
    return count.attempts


def confirm_failure(conn: Connection, lockout: Lockout, subject: str, attempt: int) -> AccountLockedError | None:
    """After a wrong password, for the `attempt` reserve_attempt returned: when it reached `lockout.failures`, lock
    `subject` and return the error to answer (the caller raises it if the lock applies to it); else None."""
    if attempt < lockout.failures:
        return None
    until = auth_attempts.lock(conn, scope=lockout.scope, subject=subject, duration=lockout.duration)
    return _locked(lockout, until, until - lockout.duration)


def forgive(conn: Connection, lockout: Lockout, subject: str) -> None:
    """After a right password: the failures counted for `subject` are forgiven, but a lock in force stays."""
    auth_attempts.forgive(conn, scope=lockout.scope, subject=subject)


def clear_failures(conn: Connection, lockout: Lockout, subject: str) -> None:
    """Forget the subject's failures and lift its lock."""
    auth_attempts.clear(conn, scope=lockout.scope, subject=subject)


def clear_limit(conn: Connection, limit: AttemptLimit, subject: str) -> None:
    """Forget the subject's attempts of `limit`."""
    auth_attempts.clear(conn, scope=limit.scope, subject=subject)


def clear_failures_prefixed(conn: Connection, lockout: Lockout, prefix: str) -> int:
    """Forget the failures and lift the locks of every subject starting with `prefix`; returns how many."""
    return auth_attempts.clear_prefixed(conn, scope=lockout.scope, prefix=prefix)


def _human(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"
