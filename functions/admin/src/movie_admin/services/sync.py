"""Admin use cases for the TMDB sync (issue 11): its runs with their counts and errors, and a run on demand, asked
for by putting a "Sync Requested" event on the EventBridge bus, whose rule invokes SyncFunction (audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from movie_admin.audit import Actor, record, snapshot
from movie_admin.pages import Page, offset_of
from movie_common import sync_requests
from movie_common.database import Connection
from movie_common.db import sync_runs, tmdb
from movie_common.db.sync_runs import SyncRun
from movie_common.db.tmdb import RefusedTitle
from movie_common.errors import NotFoundError, SyncAlreadyRunningError, SyncNotConfiguredError

# A run never outlives its Lambda (900 s at most); an older row still 'running' was cut off without recording its
# end, and must not block a new request.
RUNNING_WINDOW_S = 16 * 60


class EventPublisher(Protocol):
    def put(self, entry: dict[str, Any]) -> str:
        """Put one PutEvents entry on its bus; returns the event id (SyncRequestFailedError otherwise)."""
        ...


@dataclass(frozen=True)
class SyncStatus:
    configured: bool
    running: SyncRun | None
    last_succeeded_at: datetime | None


@dataclass(frozen=True)
class SyncRequest:
    """A requested run: the id EventBridge gave the event, when and by whom it was asked for."""

    event_id: str
    requested_at: datetime
    requested_by: str


def list_runs(conn: Connection, *, page: int, per_page: int, status: str | None = None) -> Page[SyncRun]:
    """Runs newest first, with their counts and (the first 100) errors; only those in `status` (one of
    movie_common.db.sync_runs.STATUSES) when given."""
    rows, total = sync_runs.list_runs(conn, limit=per_page, offset=offset_of(page, per_page), status=status)
    return Page(rows, page, per_page, total)


def get_run(conn: Connection, *, run_id: int) -> SyncRun:
    run = sync_runs.get_run(conn, run_id=run_id)
    if run is None:
        raise NotFoundError(f"There is no sync run {run_id}.")
    return run


def status(conn: Connection, *, configured: bool) -> SyncStatus:
    """Whether runs can be requested, the run in progress (if any) and the last success."""
    return SyncStatus(
        configured=configured,
        running=sync_runs.latest_running(conn, started_within_s=RUNNING_WINDOW_S),
        last_succeeded_at=sync_runs.last_successful_start(conn),
    )


def request_sync(
    conn: Connection, actor: Actor, publisher: EventPublisher, *, configured: bool, event_bus: str = "default"
) -> SyncRequest:
    """Ask for a sync now: the "Sync Requested" event goes on `event_bus`, and the template's rule runs SyncFunction
    with it (asynchronously: the run appears in the list once it starts). Audited as `sync_run.request`, in one
    transaction with the PutEvents call (a refused call leaves no entry).

    SyncNotConfiguredError without a TMDB token; SyncAlreadyRunningError while a run is in progress (runs never
    overlap: the sync holds a lock); SyncRequestFailedError when EventBridge does not take the event.
    """
    if not configured:
        raise SyncNotConfiguredError(
            "The TMDB sync is not configured, so no run was requested: give the stack a TMDB v3 API read access "
            "token (the TmdbApiTokenSecretArn parameter in AWS; TMDB_API_TOKEN for `marquee run`)."
        )
    running = sync_runs.latest_running(conn, started_within_s=RUNNING_WINDOW_S)
    if running is not None:
        raise SyncAlreadyRunningError(
            f"Sync run {running.id} (started {running.started_at:%Y-%m-%d %H:%M:%S} UTC) is still running; "
            "runs never overlap. Wait for it to finish, then ask again."
        )
    entry = sync_requests.sync_requested_entry(requested_by=actor.name, event_bus=event_bus)
    with conn.transaction():
        record(
            conn,
            actor,
            action="sync_run.request",
            target_type="sync_run",
            target_id=None,
            after={"source": entry["Source"], "detail_type": entry["DetailType"], "event_bus": event_bus},
        )
        event_id = publisher.put(entry)
    return SyncRequest(event_id=event_id, requested_at=datetime.now(UTC), requested_by=actor.name)


def list_refused_titles(conn: Connection, *, page: int, per_page: int) -> Page[RefusedTitle]:
    """The TMDB titles the sync remembers it could not write (another row's title + year, malformed details, given
    up after too many failed runs), which a list showing them unchanged does not queue again; the latest first."""
    rows, total = tmdb.list_refused(conn, limit=per_page, offset=offset_of(page, per_page))
    return Page(rows, page, per_page, total)


def retry_refused_title(conn: Connection, actor: Actor, *, media_type: str, tmdb_id: int) -> RefusedTitle:
    """Forget that the sync could not write the title: the next run fetches it again if a TMDB list shows it (and
    reports it again if it still cannot be written). Audited as `tmdb_title.retry`. NotFoundError when the sync
    remembers no such title."""
    with conn.transaction():
        removed = tmdb.forget_refused(conn, media_type=media_type, tmdb_id=tmdb_id)
        if removed is None:
            raise NotFoundError(f"The TMDB sync remembers no refusal of TMDB {media_type} {tmdb_id}.")
        record(
            conn,
            actor,
            action="tmdb_title.retry",
            target_type="tmdb_title",
            target_id=f"{media_type}:{tmdb_id}",
            before=snapshot(removed),
        )
    return removed
