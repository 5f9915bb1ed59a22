"""Numbered SQL migrations, applied in order under an advisory lock: the same code in tests, locally and on deploy."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from movie_common.database import Connection

# Any constant works; it only has to be the same for every process that migrates this database.
MIGRATION_LOCK_ID = 0x4D41525155454501
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    folder = Path(__file__).with_name("migrations")
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


def migrate(conn: Connection) -> list[str]:
    """Apply what is missing, each migration in its own transaction; returns the names applied now.

    The session-level advisory lock makes concurrent deploys and cold starts wait for one another
    instead of racing; the migration itself is transactional, so a failure leaves the schema as it was.
    """
    applied_now: list[str] = []
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
    try:
        conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        if not conn.autocommit:
            conn.commit()
        rows = conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
        done = {row["version"]: row["checksum"] for row in rows}
        for migration in available_migrations():
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise RuntimeError(f"migration {migration.name} changed after it was applied")
                continue
            with conn.transaction():
                conn.execute(migration.sql.encode())  # trusted files shipped in this package
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
            applied_now.append(migration.name)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))
        if not conn.autocommit:
            conn.commit()
    return applied_now
