"""SQL for the single-use emailed tokens: email_verifications and password_resets (SHA-256 hashes only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from psycopg import sql

from movie_common.database import Connection, fetch_one, fetch_required, translate_errors

TokenTable = Literal["email_verifications", "password_resets"]


@dataclass(frozen=True)
class TokenRecord:
    """A stored token as of now (the database's clock): `now` is returned so the caller compares on one clock."""

    id: int
    user_id: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    now: datetime

    @property
    def expired(self) -> bool:
        return self.expires_at <= self.now


def insert_token(
    conn: Connection, table: TokenTable, *, user_id: int, token_hash: bytes, ttl: timedelta, email: str | None = None
) -> int:
    """Store the hash of a new token expiring `ttl` from now; `email` (verifications only) is the address it went to."""
    if table == "email_verifications":
        row = fetch_required(
            conn,
            """INSERT INTO email_verifications (user_id, token, email, expires_at)
               VALUES (%s, %s, %s, now() + %s) RETURNING id""",
            (user_id, token_hash, email, ttl),
        )
    else:
        row = fetch_required(
            conn,
            "INSERT INTO password_resets (user_id, token, expires_at) VALUES (%s, %s, now() + %s) RETURNING id",
            (user_id, token_hash, ttl),
        )
    return int(row["id"])


def find_token(conn: Connection, table: TokenTable, *, token_hash: bytes) -> TokenRecord | None:
    """The token with this hash, row-locked until the transaction ends (two clicks cannot both spend it)."""
    query = sql.SQL(
        "SELECT id, user_id, created_at, expires_at, used_at, now() AS now FROM {} WHERE token = %s FOR UPDATE"
    ).format(sql.Identifier(table))
    row = fetch_one(conn, query, (token_hash,))
    return None if row is None else TokenRecord(**row)


def token_owner(conn: Connection, table: TokenTable, *, token_hash: bytes) -> str | None:
    """The canonical email of the account a token belongs to (used or not, expired or not), or None: the subject of
    per-account limits on the action the token allows."""
    query = sql.SQL("SELECT u.canonical_email FROM {} t JOIN users u ON u.id = t.user_id WHERE t.token = %s").format(
        sql.Identifier(table)
    )
    row = fetch_one(conn, query, (token_hash,))
    return None if row is None else str(row["canonical_email"])


def spend_tokens(conn: Connection, table: TokenTable, *, user_id: int) -> int:
    """Mark every unspent token of the user used (after a verification or reset, or before sending a new reset
    link); returns how many were spent."""
    query = sql.SQL("UPDATE {} SET used_at = now() WHERE user_id = %s AND used_at IS NULL").format(
        sql.Identifier(table)
    )
    with translate_errors():
        return conn.execute(query, (user_id,)).rowcount


def discard_tokens(conn: Connection, table: TokenTable, *, user_id: int) -> int:
    """Delete every unspent token of the user (a sign-up that takes over a pending account: the earlier links
    named other credentials, so they must not confirm these); returns how many were deleted. A discarded link is
    then unknown: "not valid, open the latest email"."""
    query = sql.SQL("DELETE FROM {} WHERE user_id = %s AND used_at IS NULL").format(sql.Identifier(table))
    with translate_errors():
        return conn.execute(query, (user_id,)).rowcount
