"""The first start's catalogue load as a service of `marquee run`: the bundled catalogue goes into an empty
database in the background while the API already answers, so a first `marquee run` serves within seconds instead
of after the whole load. The load itself is `stack.load_catalogue` (one bulk upsert in one transaction): until it
commits the catalogue is empty, and stopping the stack cancels it and loses nothing (the next start loads again)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from marquee_local import run, stack
from movie_common.database import Connection


class CatalogueLoadService:
    """Loads `catalogue` into the (empty) database of `run` on a thread of its own and says when it is in."""

    name = "catalogue"

    def __init__(self, context: run.RunContext, catalogue: Path) -> None:
        self.context = context
        self.catalogue = catalogue
        self.loaded: int | None = None
        self.seconds: float | None = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None
        self._conn: Connection | None = None
        self._stopping = False
        self.finished = threading.Event()  # set once the load has ended, whichever way
        context.extra["catalogue_load"] = self  # for services that care when the catalogue is in

    @property
    def shown_name(self) -> str:
        try:
            return str(self.catalogue.absolute().relative_to(stack.REPO_ROOT))
        except ValueError:
            return str(self.catalogue)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._load, name="catalogue-load", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            with stack.connect_admin(self.context.database_url) as conn:
                self._conn = conn  # set before the check below: stop() either sees it or we see _stopping
                if self._stopping:
                    raise InterruptedError("stopped before the load began")
                result = stack.load_catalogue(conn, self.catalogue)
            self.loaded, self.seconds = result.inserted, time.perf_counter() - started
            refused = (
                f"; {result.refused:,} rows refused (`marquee ingest {self.shown_name} --mode validate` says why)"
                if result.refused
                else ""
            )
            self.context.log(
                f"catalogue loaded: {_movies(result.inserted)} from {self.shown_name} in {self.seconds:.1f} s "
                f"(the first start only; later starts reuse the database){refused}"
            )
        except Exception as error:
            if self._stopping:
                self.context.log("catalogue load cancelled: nothing was written; the next start loads it again")
                return
            self.error = " ".join(str(error).split())
            if not isinstance(error, stack.StackError):  # the ingest's own errors name the file already
                self.error = f"{self.shown_name}: {self.error}"
            self.context.log(
                f"catalogue did not load: {self.error.rstrip('.')}. The API serves an empty catalogue; "
                "fix the file (or MARQUEE_CATALOGUE) and restart, or load one with `marquee seed --file FILE`"
            )
        finally:
            self._conn = None
            self.finished.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Cancel the load: its transaction rolls back and nothing is written. A cancel reaches only a statement
        that is running, and the load also spends time in Python between statements (reading and checking rows),
        so it is sent again every half second until the load has given up."""
        self._stopping = True
        deadline = time.monotonic() + timeout
        while self._thread is not None and self._thread.is_alive() and time.monotonic() < deadline:
            conn = self._conn
            if conn is not None:
                conn.cancel_safe()
            self._thread.join(0.5)

    def describe(self) -> list[str]:
        # The banner, printed while the load runs, must not contain the load's log line (`catalogue loaded: …`):
        # someone (or a script) waiting for that line in the output was told the load had ended before it began.
        if self.loaded is not None:
            return [f"Catalogue  {_movies(self.loaded)} loaded from {self.shown_name}"]
        return [f"Catalogue  loading {self.shown_name} in the background; searches find its movies once the log "
                "counts them in"]  # fmt: skip


def _movies(count: int) -> str:
    return "1 movie" if count == 1 else f"{count:,} movies"


def wait_for_catalogue(context: run.RunContext, stopped: threading.Event, *, interval: float = 0.5) -> bool:
    """Block until the first start's catalogue load, if this run has one, has ended (loaded, failed or cancelled);
    False when `stopped` is set first. Services that write movies call it before their first write: a `replace`
    dropped during the load must not be undone by it, and a validation or a sync must see the catalogue."""
    load = context.extra.get("catalogue_load")
    if not isinstance(load, CatalogueLoadService):
        return not stopped.is_set()
    while not load.finished.wait(interval):
        if stopped.is_set():
            return False
    return not stopped.is_set()
