"""SQL for users (developers)."""

from __future__ import annotations

from movie_common.database import Connection, fetch_required


def ensure_user(conn: Connection, *, name: str, email: str, canonical_email: str, verified: bool) -> int:
    """The id of the user with this canonical email, created if missing."""
    row = fetch_required(
        conn,
        """INSERT INTO users (name, email, canonical_email, verified) VALUES (%s, %s, %s, %s)
           ON CONFLICT (canonical_email) DO UPDATE SET canonical_email = excluded.canonical_email
           RETURNING id""",
        (name, email, canonical_email, verified),
    )
    return int(row["id"])
