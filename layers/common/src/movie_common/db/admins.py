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
    """Replace the password hash and clear every lockout (the account's and each address's); None if there is no
    such admin."""
    row = fetch_one(
        conn,
        sql.SQL(
            """WITH unlocked AS (
                   UPDATE admin_login_addresses SET failed_logins = 0, last_failed_login_at = NULL, locked_until = NULL
                   WHERE admin_id = %(id)s
               )
               UPDATE admins SET hashed_password = %(hash)s, password_changed_at = now(), failed_logins = 0,
                      locked_until = NULL
               WHERE id = %(id)s RETURNING {}"""
        ).format(_COLUMNS),
        {"hash": hashed_password, "id": admin_id},
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
class LoginLimits:
    """`max_failures` wrong passwords from one client address within `window` lock the account for that address for
    `lock_for`; `account_max_failures` from all addresses together lock it for every address except those the admin
    signed in from within `known_for` (migration 0015)."""

    max_failures: int
    account_max_failures: int
    window: timedelta
    lock_for: timedelta
    known_for: timedelta


@dataclass(frozen=True)
class LoginAttempt:
    """The outcome of reserving one login attempt.

    `admin_id` None: no admin has this email. `locked_until` set: the account is locked for this address and the
    password must not be checked. Otherwise `hashed_password` is to be checked, and `attempt` is this attempt's
    number among the failures from this address counted so far (itself included, since it counts as failed until it
    succeeds).
    """

    admin_id: int | None
    status: str | None
    hashed_password: str | None
    attempt: int
    locked_until: datetime | None
    now: datetime


def _counted(
    failures: int, last_failed: datetime | None, locked_until: datetime | None, now: datetime, window: timedelta
) -> int:
    """The failure count with one more: failures older than `window`, or from before a lock that has ended, no
    longer count."""
    if locked_until is not None and locked_until <= now:
        return 1
    if last_failed is None or last_failed < now - window:
        return 1
    return failures + 1


def reserve_login_attempt(conn: Connection, *, email: str, address: str, limits: LoginLimits) -> LoginAttempt:
    """Count one login attempt for `email` from `address` before its password is checked (see LoginAttempt).

    Under the admin row's lock (call inside a transaction): a lock in force for this address is left as it is and
    nothing is counted; otherwise the attempt counts as a failure of the address and of the account before the
    password is checked, so N parallel guesses are N counted failures, and the one that makes a count exceed its
    limit locks at once."""
    with translate_errors():
        account = fetch_one(
            conn,
            """SELECT id, status, hashed_password, failed_logins, last_failed_login_at, locked_until, now() AS now
               FROM admins WHERE email = %s FOR UPDATE""",
            (email,),
        )
        if account is None:
            clock = fetch_one(conn, "SELECT now() AS now")
            return LoginAttempt(None, None, None, 0, None, clock["now"] if clock else datetime.now().astimezone())
        now: datetime = account["now"]
        pair = fetch_one(
            conn,
            """SELECT failed_logins, last_failed_login_at, locked_until, last_login_at FROM admin_login_addresses
               WHERE admin_id = %s AND address = %s""",
            (account["id"], address),
        )
        pair_lock = pair["locked_until"] if pair is not None else None
        known = (
            pair is not None and pair["last_login_at"] is not None and pair["last_login_at"] > now - limits.known_for
        )
        account_lock = account["locked_until"]
        if pair_lock is not None and pair_lock > now:
            return LoginAttempt(account["id"], account["status"], None, 0, pair_lock, now)
        if account_lock is not None and account_lock > now and not known:
            return LoginAttempt(account["id"], account["status"], None, 0, account_lock, now)
        failures = _counted(
            pair["failed_logins"] if pair else 0,
            pair["last_failed_login_at"] if pair else None,
            pair_lock,
            now,
            limits.window,
        )
        locked_until = now + limits.lock_for if failures > limits.max_failures else None
        conn.execute(
            """INSERT INTO admin_login_addresses (admin_id, address, failed_logins, last_failed_login_at, locked_until)
               VALUES (%(id)s, %(address)s, %(failures)s, %(now)s, %(locked_until)s)
               ON CONFLICT (admin_id, address) DO UPDATE SET failed_logins = excluded.failed_logins,
                   last_failed_login_at = excluded.last_failed_login_at, locked_until = excluded.locked_until""",
            {"id": account["id"], "address": address, "failures": failures, "now": now, "locked_until": locked_until},
        )
        if account_lock is None or account_lock <= now:  # a lock in force (passed by a known address) stays as it is
            total = _counted(
                account["failed_logins"], account["last_failed_login_at"], account_lock, now, limits.window
            )
            account_locked = now + limits.lock_for if total > limits.account_max_failures else None
            conn.execute(
                "UPDATE admins SET failed_logins = %s, last_failed_login_at = %s, locked_until = %s WHERE id = %s",
                (total, now, account_locked, account["id"]),
            )
            if account_locked is not None and not known:
                locked_until = locked_until or account_locked
    return LoginAttempt(
        admin_id=account["id"],
        status=account["status"],
        hashed_password=None if locked_until is not None else account["hashed_password"],
        attempt=failures,
        locked_until=locked_until,
        now=now,
    )


def record_login_success(conn: Connection, *, admin_id: int, address: str) -> None:
    """A correct password: the failures of this address are forgiven and it becomes a known address; the account's
    failures too, unless an account lock is in force (then a guesser elsewhere is still at work)."""
    with translate_errors():
        conn.execute(
            """INSERT INTO admin_login_addresses (admin_id, address, last_login_at) VALUES (%(id)s, %(address)s, now())
               ON CONFLICT (admin_id, address) DO UPDATE SET failed_logins = 0, last_failed_login_at = NULL,
                   locked_until = NULL, last_login_at = now()""",
            {"id": admin_id, "address": address},
        )
        conn.execute(
            """UPDATE admins SET last_login_at = now(),
                      failed_logins = CASE WHEN locked_until > now() THEN failed_logins ELSE 0 END,
                      last_failed_login_at = CASE WHEN locked_until > now() THEN last_failed_login_at END,
                      locked_until = CASE WHEN locked_until > now() THEN locked_until END
               WHERE id = %s""",
            (admin_id,),
        )


def lock_if_exhausted(conn: Connection, *, admin_id: int, address: str, limits: LoginLimits) -> datetime | None:
    """After a wrong password: lock the account for this address when its failures reached `max_failures`, and for
    every address but the known ones when the account's reached `account_max_failures`; returns the address's lock's
    end, if any."""
    with translate_errors():
        conn.execute(
            """UPDATE admins SET locked_until = now() + %s
               WHERE id = %s AND failed_logins >= %s AND (locked_until IS NULL OR locked_until <= now())""",
            (limits.lock_for, admin_id, limits.account_max_failures),
        )
        row = fetch_one(
            conn,
            """UPDATE admin_login_addresses SET locked_until = now() + %s
               WHERE admin_id = %s AND address = %s AND failed_logins >= %s
                 AND (locked_until IS NULL OR locked_until <= now())
               RETURNING locked_until""",
            (limits.lock_for, admin_id, address, limits.max_failures),
        )
    return None if row is None else row["locked_until"]
