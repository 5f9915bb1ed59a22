"""SQL for admin accounts: creation, password changes, and the sign-in's known addresses (admin_login_addresses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg import sql

from movie_common.database import Connection, fetch_all, fetch_one, fetch_required, translate_errors

_COLUMNS = sql.SQL("id, email::text AS email, status, last_login_at, created_at")


@dataclass(frozen=True)
class Admin:
    """An admin account as the admin pages and the CLI show it (never the password hash)."""

    id: int
    email: str
    status: str  # active | disabled
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
    """Replace the password hash; None if there is no such admin. (The caller lifts the sign-in locks, which live in
    auth_attempts: movie_admin.services.admins.reset_password.)"""
    row = fetch_one(
        conn,
        sql.SQL(
            """UPDATE admins SET hashed_password = %(hash)s, password_changed_at = now()
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
class AdminLogin:
    """What a sign-in checks: the account's id, status and bcrypt hash (never shown anywhere)."""

    id: int
    status: str
    hashed_password: str


def find_login(conn: Connection, *, email: str) -> AdminLogin | None:
    """The sign-in data of the admin with this email (case-insensitive); None when there is none."""
    row = fetch_one(conn, "SELECT id, status, hashed_password FROM admins WHERE email = %s", (email,))
    return None if row is None else AdminLogin(**row)


def is_known_address(conn: Connection, *, email: str, address: str, within: timedelta) -> bool:
    """Whether the admin with this email signed in from `address` within `within`. One query whether or not the
    admin exists, so that the answer's time says nothing about who is an admin."""
    row = fetch_required(
        conn,
        """SELECT EXISTS (SELECT 1 FROM admin_login_addresses l JOIN admins a ON a.id = l.admin_id
                          WHERE a.email = %s AND l.address = %s AND l.last_login_at > now() - %s) AS known""",
        (email, address, within),
    )
    return bool(row["known"])


def record_login_success(conn: Connection, *, admin_id: int, address: str) -> None:
    """A correct password from `address`: it becomes (or stays) a known address, and the account's last sign-in is
    now. (The failures themselves are counted in auth_attempts, movie_common.attempt_limits, since migration 0019.)"""
    with translate_errors():
        conn.execute(
            """INSERT INTO admin_login_addresses (admin_id, address, last_login_at) VALUES (%(id)s, %(address)s, now())
               ON CONFLICT (admin_id, address) DO UPDATE SET last_login_at = now()""",
            {"id": admin_id, "address": address},
        )
        conn.execute("UPDATE admins SET last_login_at = now() WHERE id = %s", (admin_id,))
