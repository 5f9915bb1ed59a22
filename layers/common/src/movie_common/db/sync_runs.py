"""SQL for `sync_runs`: one row per TMDB sync run, its counts and errors, and the lock that keeps runs apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from movie_common.database import Connection, fetch_all, fetch_one, fetch_required, translate_errors
from movie_common.timestamps import rfc3339

# Session-level advisory lock held for a whole run: two runs (the schedule and an admin's trigger) never overlap.
SYNC_LOCK_ID = 0x4D41525155455302
MAX_STORED_ERRORS = 100
STATUSES = ("running", "succeeded", "partial", "failed")
TRIGGERS = ("schedule", "startup", "admin", "cli")


@dataclass
class SyncCounts:
    """What a run did so far; `errors` holds at most MAX_STORED_ERRORS entries, `error_count` counts them all."""

    requests: int = 0
    pages: int = 0
    titles_new: int = 0
    titles_updated: int = 0
    titles_unchanged: int = 0
    titles_skipped: int = 0
    titles_gone: int = 0
    queued: int = 0
    error_count: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class SyncRun:
    """A `sync_runs` row. Times are UTC; `status` is one of STATUSES."""

    id: int
    triggered_by: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: SyncCounts
    message: str | None

    def as_json(self) -> dict[str, Any]:
        """The run as a JSON-ready object (UTC times with `Z`), as `marquee sync` prints it and the admin API serves."""
        c = self.counts
        return {
            "id": self.id,
            "triggered_by": self.triggered_by,
            "status": self.status,
            "started_at": rfc3339(self.started_at),
            "finished_at": rfc3339(self.finished_at) if self.finished_at else None,
            "requests": c.requests,
            "pages": c.pages,
            "titles": {
                "new": c.titles_new,
                "updated": c.titles_updated,
                "unchanged": c.titles_unchanged,
                "skipped": c.titles_skipped,
                "gone": c.titles_gone,
            },
            "queued": c.queued,
            "error_count": c.error_count,
            "errors": c.errors,
            "message": self.message,
        }


_COLUMNS = sql.SQL(
    """id, triggered_by, status, started_at, finished_at, requests, pages, titles_new, titles_updated,
              titles_unchanged, titles_skipped, titles_gone, queued, error_count, errors, message"""
)


def _run(row: Any) -> SyncRun:
    counts = SyncCounts(
        requests=row["requests"],
        pages=row["pages"],
        titles_new=row["titles_new"],
        titles_updated=row["titles_updated"],
        titles_unchanged=row["titles_unchanged"],
        titles_skipped=row["titles_skipped"],
        titles_gone=row["titles_gone"],
        queued=row["queued"],
        error_count=row["error_count"],
        errors=list(row["errors"]),
    )
    return SyncRun(
        id=row["id"],
        triggered_by=row["triggered_by"],
        status=row["status"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        counts=counts,
        message=row["message"],
    )


def try_lock(conn: Connection) -> bool:
    """Take the sync lock for this session; False if another session holds it."""
    row = fetch_required(conn, "SELECT pg_try_advisory_lock(%s) AS locked", (SYNC_LOCK_ID,))
    return bool(row["locked"])


def unlock(conn: Connection) -> None:
    fetch_one(conn, "SELECT pg_advisory_unlock(%s) AS unlocked", (SYNC_LOCK_ID,))


def close_interrupted(conn: Connection) -> int:
    """Mark runs still 'running' as failed; call only while holding the sync lock (so none can really be running).

    A Lambda killed at its timeout, or a process stopped hard, leaves its row open; returns how many were closed.
    """
    with translate_errors():
        cursor = conn.execute(
            """UPDATE sync_runs SET status = 'failed', finished_at = now(),
                      message = coalesce(message, 'interrupted: the run stopped before it could record its end')
               WHERE status = 'running'"""
        )
        return cursor.rowcount


def start_run(conn: Connection, *, triggered_by: str) -> SyncRun:
    """Insert a 'running' row; `triggered_by` is one of TRIGGERS."""
    row = fetch_required(
        conn,
        sql.SQL("INSERT INTO sync_runs (triggered_by) VALUES (%s) RETURNING {}").format(_COLUMNS),
        (triggered_by,),
    )
    return _run(row)


def record_progress(conn: Connection, *, run_id: int, counts: SyncCounts) -> None:
    """Write the counts so far to a running row."""
    _write(conn, run_id=run_id, counts=counts, status=None, message=None)


def finish_run(conn: Connection, *, run_id: int, counts: SyncCounts, status: str, message: str | None) -> SyncRun:
    """Close the row with its final counts, status ('succeeded', 'partial' or 'failed') and message."""
    if status not in STATUSES or status == "running":
        raise ValueError(f"not a final status: {status!r}")
    _write(conn, run_id=run_id, counts=counts, status=status, message=message)
    run = get_run(conn, run_id=run_id)
    if run is None:
        raise RuntimeError(f"sync run {run_id} vanished")
    return run


def _write(conn: Connection, *, run_id: int, counts: SyncCounts, status: str | None, message: str | None) -> None:
    with translate_errors():
        conn.execute(
            """UPDATE sync_runs SET
                   requests = %(requests)s, pages = %(pages)s, titles_new = %(titles_new)s,
                   titles_updated = %(titles_updated)s, titles_unchanged = %(titles_unchanged)s,
                   titles_skipped = %(titles_skipped)s, titles_gone = %(titles_gone)s, queued = %(queued)s,
                   error_count = %(error_count)s, errors = %(errors)s,
                   status = coalesce(%(status)s, status), message = coalesce(%(message)s, message),
                   finished_at = CASE WHEN %(status)s::text IS NULL THEN NULL ELSE now() END
               WHERE id = %(id)s""",
            {
                "id": run_id,
                "requests": counts.requests,
                "pages": counts.pages,
                "titles_new": counts.titles_new,
                "titles_updated": counts.titles_updated,
                "titles_unchanged": counts.titles_unchanged,
                "titles_skipped": counts.titles_skipped,
                "titles_gone": counts.titles_gone,
                "queued": counts.queued,
                "error_count": counts.error_count,
                "errors": Jsonb(counts.errors[:MAX_STORED_ERRORS]),
                "status": status,
                "message": message,
            },
        )


def get_run(conn: Connection, *, run_id: int) -> SyncRun | None:
    row = fetch_one(conn, sql.SQL("SELECT {} FROM sync_runs WHERE id = %s").format(_COLUMNS), (run_id,))
    return None if row is None else _run(row)


def list_runs(conn: Connection, *, limit: int, offset: int, status: str | None = None) -> tuple[list[SyncRun], int]:
    """Runs newest first (only those in `status`, one of STATUSES, when given), and how many match in all.
    ValueError for a status that is not one of STATUSES."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"not a sync run status: {status!r}")
    where = sql.SQL("WHERE status = %(status)s") if status is not None else sql.SQL("")
    params = {"status": status, "limit": limit, "offset": offset}
    rows = fetch_all(
        conn,
        sql.SQL(
            "SELECT {}, count(*) OVER () AS total FROM sync_runs {} "
            "ORDER BY started_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s"
        ).format(_COLUMNS, where),
        params,
    )
    if rows:
        return [_run(r) for r in rows], int(rows[0]["total"])
    total = fetch_required(conn, sql.SQL("SELECT count(*) AS n FROM sync_runs {}").format(where), params)
    return [], int(total["n"])


def last_successful_start(conn: Connection) -> datetime | None:
    """When the latest run that finished without being cut short started."""
    row = fetch_one(conn, "SELECT max(started_at) AS at FROM sync_runs WHERE status = 'succeeded'")
    return None if row is None else row["at"]


def latest_running(conn: Connection, *, started_within_s: int) -> SyncRun | None:
    """The newest run still 'running' that started less than `started_within_s` seconds ago (older open rows are
    runs that were cut off without recording their end; the next run closes them)."""
    row = fetch_one(
        conn,
        sql.SQL(
            """SELECT {} FROM sync_runs
               WHERE status = 'running' AND started_at > now() - make_interval(secs => %s)
               ORDER BY started_at DESC, id DESC LIMIT 1"""
        ).format(_COLUMNS),
        (started_within_s,),
    )
    return None if row is None else _run(row)
