"""SQL for the addresses developers sign in from (developer_login_addresses, migration 0018): an address the account
signed in from lately is *known*, and the account-wide sign-in limits do not refuse it."""

from __future__ import annotations

from datetime import timedelta

from movie_common.database import Connection, fetch_required, translate_errors


def is_known(conn: Connection, *, canonical_email: str, address: str, within: timedelta) -> bool:
    """Whether the account with this canonical email signed in from `address` within `within`. One query whether or
    not the account exists, so that the answer's time says nothing about who has an account."""
    row = fetch_required(
        conn,
        """SELECT EXISTS (SELECT 1 FROM developer_login_addresses d JOIN users u ON u.id = d.user_id
                          WHERE u.canonical_email = %s AND d.address = %s AND d.last_login_at > now() - %s) AS known""",
        (canonical_email, address, within),
    )
    return bool(row["known"])


def record_known(conn: Connection, *, user_id: int, address: str) -> None:
    """The account just proved its password (or its mailbox and a new password) from `address`: known from now."""
    with translate_errors():
        conn.execute(
            """INSERT INTO developer_login_addresses (user_id, address, last_login_at) VALUES (%s, %s, now())
               ON CONFLICT (user_id, address) DO UPDATE SET last_login_at = now()""",
            (user_id, address),
        )
