"""SQL for developer accounts (the users table): sign-up, look-up, verification, passwords, logins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg import sql

from movie_common.database import Connection, fetch_one, fetch_required, translate_errors


@dataclass(frozen=True)
class Developer:
    id: int
    name: str
    email: str
    canonical_email: str
    hashed_password: str | None
    verified: bool
    status: str  # active | suspended
    created_at: datetime
    verified_at: datetime | None
    password_changed_at: datetime | None
    last_login_at: datetime | None


_SELECT = sql.SQL(
    """SELECT id, name, email::text AS email, canonical_email, hashed_password, verified, status, created_at,
              verified_at, password_changed_at, last_login_at FROM users WHERE {} = %s"""
)
_FOR_UPDATE = sql.SQL(" FOR UPDATE")


def find_by_canonical_email(conn: Connection, *, canonical_email: str, lock: bool = False) -> Developer | None:
    """The developer whose canonical address is this one (see movie_common.email_rules), or None."""
    query = _SELECT.format(sql.Identifier("canonical_email")) + (_FOR_UPDATE if lock else sql.SQL(""))
    row = fetch_one(conn, query, (canonical_email,))
    return None if row is None else Developer(**row)


def get_developer(conn: Connection, *, user_id: int, lock: bool = False) -> Developer | None:
    query = _SELECT.format(sql.Identifier("id")) + (_FOR_UPDATE if lock else sql.SQL(""))
    row = fetch_one(conn, query, (user_id,))
    return None if row is None else Developer(**row)


def create_developer(
    conn: Connection, *, name: str, email: str, canonical_email: str, hashed_password: str
) -> int | None:
    """Insert an unverified developer who signed up (`signed_up_at`: a self-serve account, counted as a signup by
    the admin overview); None when the canonical address is already taken (a concurrent sign-up
    or an existing account): the unique constraint decides, so two racing sign-ups cannot both succeed."""
    row = fetch_one(
        conn,
        """INSERT INTO users (name, email, canonical_email, hashed_password, verified, password_changed_at,
                              signed_up_at)
           VALUES (%s, %s, %s, %s, false, now(), now())
           ON CONFLICT (canonical_email) DO NOTHING RETURNING id""",
        (name, email, canonical_email, hashed_password),
    )
    return None if row is None else int(row["id"])


def restart_signup(conn: Connection, *, user_id: int, name: str, email: str, hashed_password: str) -> bool:
    """Give a still-unverified account the new sign-up's name, address and password (whoever controls the mailbox
    finishes by verifying; a squatter's earlier sign-up cannot block the owner). False if it was verified since."""
    row = fetch_one(
        conn,
        """UPDATE users SET name = %s, email = %s, hashed_password = %s, password_changed_at = now()
           WHERE id = %s AND NOT verified RETURNING id""",
        (name, email, hashed_password, user_id),
    )
    return row is not None


def mark_verified(conn: Connection, *, user_id: int) -> None:
    fetch_required(
        conn,
        "UPDATE users SET verified = true, verified_at = coalesce(verified_at, now()) WHERE id = %s RETURNING id",
        (user_id,),
    )


def set_password(conn: Connection, *, user_id: int, hashed_password: str) -> None:
    fetch_required(
        conn,
        "UPDATE users SET hashed_password = %s, password_changed_at = now() WHERE id = %s RETURNING id",
        (hashed_password, user_id),
    )


def record_login(conn: Connection, *, user_id: int) -> None:
    fetch_required(conn, "UPDATE users SET last_login_at = now() WHERE id = %s RETURNING id", (user_id,))


def delete_developer(conn: Connection, *, user_id: int) -> bool:
    """Delete a developer's account; their keys, key history (issued_api_keys), tokens, reissue requests, known
    sign-in addresses go with it (ON DELETE CASCADE). Their request-log rows stay, naming a key id only. False when
    there was no such account. The caller ends the account's sessions (no foreign key: sessions are of admins too)."""
    with translate_errors():
        return conn.execute("DELETE FROM users WHERE id = %s", (user_id,)).rowcount > 0
