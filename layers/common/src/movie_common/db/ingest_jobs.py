"""SQL for CSV ingest jobs (`ingest_jobs`, `ingest_job_errors`; migration 0008): create, claim, progress, read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from movie_common.database import Connection, fetch_all, fetch_one, fetch_required, translate_errors
from movie_common.timestamps import rfc3339

STATUSES = ("queued", "validating", "loading", "done", "failed")
MODES = ("upsert", "replace", "validate")
ORIGINS = ("s3", "upload", "drop_folder", "cli", "catalogue")
IN_PROGRESS = ("queued", "validating", "loading")
# A job whose run ended without finishing it (its process died: a timeout, a crash, a stopped stack).
INTERRUPTED = "interrupted"
# Failures that changed nothing and say nothing about the file: the same object delivered again is run again.
RETRYABLE_FAILURES = frozenset(
    {"catalogue_busy", "database_unavailable", "internal_error", "lock_timeout", "transaction_conflict", INTERRUPTED}
)
# A job being run holds a session-level advisory lock, its lease, keyed (JOB_LEASE, id): from the claim that decides
# to run it to the end of the run. PostgreSQL frees it when the session ends, so a job in progress whose lease is
# free was left by a run that died, whatever the time: the next delivery takes it over (claim_object_job), and the
# admin's views close it as interrupted (close_interrupted).
JOB_LEASE = 0x494A  # the classid of the two-key advisory locks (never the one-key form movies.REPLACE_LOCK_ID uses)
MAX_VALUE_CHARS = 200  # reported values are cut to this: a 20 MB field is not copied into the report


@dataclass(frozen=True)
class RowError:
    """One reported row problem: where it starts in the file, the file's column name, the value, and why."""

    line: int | None
    column: str | None
    value: str | None
    reason: str
    code: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "value": self.value, "reason": self.reason, "code": self.code}


@dataclass(frozen=True)
class Counts:
    """A job's row counts: rows = valid + invalid; valid = inserted + updated + unchanged + duplicates."""

    rows: int = 0
    valid: int = 0
    invalid: int = 0
    duplicates: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclass(frozen=True)
class IngestJob:
    """A row of ingest_jobs; `errors` holds the first reported rows when read with get_job(errors_limit=...)."""

    id: int
    status: str
    mode: str
    keep_tmdb: bool
    origin: str
    file_name: str | None
    bucket: str | None
    object_key: str | None
    object_version: str | None
    size_bytes: int | None
    bytes_read: int
    encoding: str | None
    delimiter: str | None
    read_options: str
    columns: dict[str, list[str]]
    unknown_columns: list[str]
    warnings: list[str]
    counts: Counts
    error_count: int
    error_code: str | None
    error_detail: str | None
    report_key: str | None
    requested_by: str | None
    attempts: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    loading_at: dt.datetime | None
    finished_at: dt.datetime | None
    updated_at: dt.datetime
    errors: list[RowError] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    def as_dict(self) -> dict[str, Any]:
        """The job as JSON-ready data: what `marquee ingest` prints and the admin routes return."""

        def seconds(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
            return None if start is None or end is None else round((end - start).total_seconds(), 3)

        c = self.counts
        return {
            "id": self.id,
            "status": self.status,
            "mode": self.mode,
            "keep_tmdb": self.keep_tmdb,
            "origin": self.origin,
            "file_name": self.file_name,
            "bucket": self.bucket,
            "key": self.object_key,
            "version": self.object_version,
            "size_bytes": self.size_bytes,
            "bytes_read": self.bytes_read,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "read_options": self.read_options,
            "columns": self.columns,
            "unknown_columns": self.unknown_columns,
            "warnings": self.warnings,
            "rows": c.rows,
            "valid": c.valid,
            "invalid": c.invalid,
            "duplicates": c.duplicates,
            "inserted": c.inserted,
            "updated": c.updated,
            "unchanged": c.unchanged,
            "deleted": c.deleted,
            "error_count": self.error_count,
            "error": None if self.error_code is None else {"code": self.error_code, "detail": self.error_detail},
            "report_key": self.report_key,
            "requested_by": self.requested_by,
            "created_at": rfc3339(self.created_at),
            "started_at": rfc3339(self.started_at) if self.started_at else None,
            "finished_at": rfc3339(self.finished_at) if self.finished_at else None,
            "timings": {
                "queued_seconds": seconds(self.created_at, self.started_at),
                "reading_seconds": seconds(self.started_at, self.loading_at or self.finished_at),
                "loading_seconds": seconds(self.loading_at, self.finished_at),
                "total_seconds": seconds(self.started_at, self.finished_at),
            },
            "errors": [error.as_dict() for error in self.errors],
        }


def _job(row: Any) -> IngestJob:
    return IngestJob(
        id=row["id"],
        status=row["status"],
        mode=row["mode"],
        keep_tmdb=row["keep_tmdb"],
        origin=row["origin"],
        file_name=row["file_name"],
        bucket=row["bucket"],
        object_key=row["object_key"],
        object_version=row["object_version"],
        size_bytes=row["size_bytes"],
        bytes_read=row["bytes_read"],
        encoding=row["encoding"],
        delimiter=row["delimiter"],
        read_options=row["read_options"],
        columns=dict(row["columns"] or {}),
        unknown_columns=list(row["unknown_columns"]),
        warnings=list(row["warnings"]),
        counts=Counts(
            rows=row["rows"],
            valid=row["valid"],
            invalid=row["invalid"],
            duplicates=row["duplicates"],
            inserted=row["inserted"],
            updated=row["updated"],
            unchanged=row["unchanged"],
            deleted=row["deleted"],
        ),
        error_count=row["error_count"],
        error_code=row["error_code"],
        error_detail=row["error_detail"],
        report_key=row["report_key"],
        requested_by=row["requested_by"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        loading_at=row["loading_at"],
        finished_at=row["finished_at"],
        updated_at=row["updated_at"],
    )


def create_job(
    conn: Connection,
    *,
    mode: str,
    origin: str,
    keep_tmdb: bool = True,
    file_name: str | None = None,
    bucket: str | None = None,
    object_key: str | None = None,
    object_version: str | None = None,
    size_bytes: int | None = None,
    requested_by: str | None = None,
    read_options: str = "",
) -> IngestJob:
    """A new queued job. For an S3 object, see claim_object_job instead (it makes delivery idempotent).
    `read_options` is how the file is asked to be read (`delimiter=semicolon encoding=cp1252`, '' for detection)."""
    row = fetch_required(
        conn,
        """INSERT INTO ingest_jobs (mode, origin, keep_tmdb, file_name, bucket, object_key, object_version,
                                    size_bytes, requested_by, read_options)
           VALUES (%(mode)s, %(origin)s, %(keep_tmdb)s, %(file_name)s, %(bucket)s, %(object_key)s,
                   %(object_version)s, %(size_bytes)s, %(requested_by)s, %(read_options)s)
           RETURNING *""",
        {
            "mode": mode,
            "origin": origin,
            "keep_tmdb": keep_tmdb,
            "file_name": file_name,
            "bucket": bucket,
            "object_key": object_key,
            "object_version": object_version,
            "size_bytes": size_bytes,
            "requested_by": requested_by,
            "read_options": read_options,
        },
    )
    return _job(row)


@dataclass(frozen=True)
class Claim:
    """The outcome of claim_object_job: the job, and whether this caller should run it now."""

    job: IngestJob
    run: bool


def claim_object_job(
    conn: Connection,
    *,
    bucket: str,
    object_key: str,
    object_version: str,
    mode: str,
    origin: str,
    keep_tmdb: bool = True,
    file_name: str | None = None,
    size_bytes: int | None = None,
    requested_by: str | None = None,
    etag: str | None = None,
    refused_detail: Callable[[IngestJob], str] | None = None,
    refused_code: str = "upload_already_used",
    read_options: str = "",
) -> Claim:
    """Find or create the job of one S3 object version read with `read_options`, and say whether to run it.

    The first delivery creates the job (or takes over the queued job a presigned upload made for that key) and
    runs it. Later deliveries of the same (bucket, key, version, read options) do not run it, unless the job was left in
    progress by a run that died (its function timed out or crashed: its lease is free, see JOB_LEASE), or failed
    for a reason that may pass (RETRYABLE_FAILURES: the catalogue was busy, the database away, an internal error):
    then it runs again. A claim that says run holds the job's lease in this session: release_lease when the run
    ends. `read_options` is how the object's metadata asks it to be read (a canonical text, '' for detection): the
    same object delivered again with other options (a wrong delimiter or encoding corrected) is a job of its own.

    A key an upload form granted (a job of origin 'upload') brings one file: once the grant's job has claimed an
    object, another version with the same `etag` (the same content posted again) is that job, delivered again;
    one with other content gets a job of its own that is already failed (`refused_code`, the detail
    `refused_detail(grant's job)` gives) and is never run, so it changes nothing.
    """
    etag = etag.strip('"') if etag else None
    leased: list[int] = []
    try:
        return _claim(
            conn,
            leased,
            bucket=bucket,
            object_key=object_key,
            object_version=object_version,
            mode=mode,
            origin=origin,
            keep_tmdb=keep_tmdb,
            file_name=file_name,
            size_bytes=size_bytes,
            requested_by=requested_by,
            etag=etag,
            refused_detail=refused_detail,
            refused_code=refused_code,
            read_options=read_options,
        )
    except BaseException:
        for job_id in leased:  # a session-level lock outlives the rollback of the claim that took it
            release_lease(conn, job_id=job_id)
        raise


def _claim(
    conn: Connection,
    leased: list[int],
    *,
    bucket: str,
    object_key: str,
    object_version: str,
    mode: str,
    origin: str,
    keep_tmdb: bool,
    file_name: str | None,
    size_bytes: int | None,
    requested_by: str | None,
    etag: str | None,
    refused_detail: Callable[[IngestJob], str] | None,
    refused_code: str,
    read_options: str,
) -> Claim:
    with translate_errors(), conn.transaction():
        row = fetch_one(
            conn,
            """SELECT * FROM ingest_jobs
               WHERE bucket = %s AND object_key = %s AND object_version = %s AND read_options = %s FOR UPDATE""",
            (bucket, object_key, object_version, read_options),
        )
        if row is None:
            row = fetch_one(
                conn,
                """UPDATE ingest_jobs SET object_version = %(version)s, object_etag = %(etag)s, size_bytes = %(size)s,
                                          read_options = %(options)s, updated_at = now()
                   WHERE id = (SELECT id FROM ingest_jobs
                               WHERE bucket = %(bucket)s AND object_key = %(key)s AND object_version IS NULL
                                 AND status = 'queued'
                               ORDER BY id DESC LIMIT 1 FOR UPDATE SKIP LOCKED)
                   RETURNING *""",
                {
                    "version": object_version,
                    "etag": etag,
                    "size": size_bytes,
                    "options": read_options,
                    "bucket": bucket,
                    "key": object_key,
                },
            )
        refused = False
        if row is None:
            # A granted key whose job already has its file: the same content again is that job; other content is
            # refused. The grant's rows are locked (not skipped), so a concurrent first delivery is waited for.
            granted = fetch_all(
                conn,
                """SELECT * FROM ingest_jobs WHERE bucket = %s AND object_key = %s AND origin = 'upload'
                   ORDER BY id FOR UPDATE""",
                (bucket, object_key),
            )
            used = next((r for r in granted if r["object_version"] is not None), None)
            same_file = used is not None and etag is not None and used["object_etag"] == etag
            if same_file and used is not None and used["read_options"] == read_options:
                return _again(conn, _job(used), leased)
            refused = used is not None and not same_file  # the same file read otherwise is a job of its own
        if row is None:
            grant = _job(used) if refused and used is not None else None
            row = fetch_one(
                conn,
                """INSERT INTO ingest_jobs (mode, origin, keep_tmdb, file_name, bucket, object_key, object_version,
                                            read_options, object_etag, size_bytes, requested_by, status, error_code,
                                            error_detail, started_at, finished_at)
                   VALUES (%(mode)s, %(origin)s, %(keep_tmdb)s, %(file_name)s, %(bucket)s, %(key)s, %(version)s,
                           %(options)s, %(etag)s, %(size)s, %(requested_by)s, %(status)s, %(code)s, %(detail)s,
                           CASE WHEN %(refused)s THEN now() END, CASE WHEN %(refused)s THEN now() END)
                   ON CONFLICT ON CONSTRAINT ingest_jobs_object_key DO NOTHING
                   RETURNING *""",
                {
                    "mode": mode,
                    "origin": origin,
                    "keep_tmdb": keep_tmdb,
                    "file_name": file_name,
                    "bucket": bucket,
                    "key": object_key,
                    "version": object_version,
                    "options": read_options,
                    "etag": etag,
                    "size": size_bytes,
                    "requested_by": requested_by,
                    "status": "failed" if refused else "queued",
                    "code": refused_code if refused else None,
                    "detail": _refusal(grant, refused_detail) if grant is not None else None,
                    "refused": refused,
                },
            )
            if row is None:  # a concurrent delivery created it first
                existing = fetch_required(
                    conn,
                    """SELECT * FROM ingest_jobs
                       WHERE bucket = %s AND object_key = %s AND object_version = %s AND read_options = %s""",
                    (bucket, object_key, object_version, read_options),
                )
                return Claim(_job(existing), run=False)
            job = _job(row)
            return Claim(job, run=not refused and _lease(conn, job.id, leased))
        job = _job(row)
        if job.status == "queued" and job.attempts == 0:
            return Claim(job, run=_lease(conn, job.id, leased))
        return _again(conn, job, leased)


def _again(conn: Connection, job: IngestJob, leased: list[int]) -> Claim:
    """A job's object delivered again: run only a failure that may pass now, or a run that died before the end
    (in progress, its lease free); never a job another delivery is running (its lease taken)."""
    if (job.status == "failed" and job.error_code in RETRYABLE_FAILURES) or job.status in IN_PROGRESS:
        return Claim(job, run=_lease(conn, job.id, leased))
    return Claim(job, run=False)


def _lease_key(job_id: int) -> tuple[int, int]:
    return JOB_LEASE, job_id & 0x7FFFFFFF  # the objid is an int4


def _lease(conn: Connection, job_id: int, leased: list[int]) -> bool:
    """Take job `job_id`'s lease in this session if no session holds it (noted in `leased`); False otherwise."""
    taken = bool(fetch_required(conn, "SELECT pg_try_advisory_lock(%s, %s) AS taken", _lease_key(job_id))["taken"])
    if taken:
        leased.append(job_id)
    return taken


def take_lease(conn: Connection, *, job_id: int) -> bool:
    """Hold job `job_id`'s lease in this session until release_lease (or the session's end): a job being run holds it.
    False when another session holds it."""
    with translate_errors():
        return _lease(conn, job_id, [])


def release_lease(conn: Connection, *, job_id: int) -> None:
    """Give back a lease this session holds (no-op on a connection that is gone: its leases went with it)."""
    if conn.closed or conn.broken:
        return
    with translate_errors():
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", _lease_key(job_id))


def _refusal(grant: IngestJob, detail: Callable[[IngestJob], str] | None) -> str:
    if detail is not None:
        return detail(grant)
    return f"The upload form of job {grant.id} was already used for another file; this one was not read."


def start_job(conn: Connection, *, job_id: int) -> None:
    """validating: the file is being read; its earlier attempt's errors (if any) are forgotten."""
    with translate_errors():
        conn.execute("DELETE FROM ingest_job_errors WHERE job_id = %s", (job_id,))
        conn.execute(
            """UPDATE ingest_jobs SET status = 'validating', started_at = now(), loading_at = NULL,
                      finished_at = NULL, attempts = attempts + 1, error_code = NULL, error_detail = NULL,
                      error_count = 0, rows = 0, valid = 0, invalid = 0, duplicates = 0, inserted = 0,
                      updated = 0, unchanged = 0, deleted = 0, bytes_read = 0, updated_at = now()
               WHERE id = %s""",
            (job_id,),
        )


def record_format(
    conn: Connection,
    *,
    job_id: int,
    encoding: str,
    delimiter: str,
    columns: dict[str, list[str]],
    unknown_columns: list[str],
) -> None:
    with translate_errors():
        conn.execute(
            """UPDATE ingest_jobs SET encoding = %s, delimiter = %s, columns = %s, unknown_columns = %s,
                      updated_at = now()
               WHERE id = %s""",
            (encoding, delimiter, Jsonb(columns), unknown_columns, job_id),
        )


def record_progress(conn: Connection, *, job_id: int, counts: Counts, bytes_read: int) -> None:
    """Rows read so far (also the heartbeat that tells a running job from an abandoned one)."""
    with translate_errors():
        conn.execute(
            """UPDATE ingest_jobs SET rows = %s, valid = %s, invalid = %s, bytes_read = %s, updated_at = now()
               WHERE id = %s""",
            (counts.rows, counts.valid, counts.invalid, bytes_read, job_id),
        )


def mark_loading(conn: Connection, *, job_id: int, counts: Counts, bytes_read: int) -> None:
    with translate_errors():
        conn.execute(
            """UPDATE ingest_jobs SET status = 'loading', loading_at = now(), rows = %s, valid = %s, invalid = %s,
                      bytes_read = %s, updated_at = now()
               WHERE id = %s""",
            (counts.rows, counts.valid, counts.invalid, bytes_read, job_id),
        )


def finish_job(
    conn: Connection,
    *,
    job_id: int,
    counts: Counts,
    error_count: int,
    warnings: list[str],
    error_code: str | None = None,
    error_detail: str | None = None,
) -> None:
    """done (no error_code) or failed (with the problem code and detail that say why)."""
    with translate_errors():
        conn.execute(
            """UPDATE ingest_jobs SET status = %(status)s, finished_at = now(), updated_at = now(),
                      rows = %(rows)s, valid = %(valid)s, invalid = %(invalid)s, duplicates = %(duplicates)s,
                      inserted = %(inserted)s, updated = %(updated)s, unchanged = %(unchanged)s,
                      deleted = %(deleted)s, error_count = %(error_count)s, warnings = %(warnings)s,
                      error_code = %(error_code)s, error_detail = %(error_detail)s
               WHERE id = %(id)s""",
            {
                "status": "failed" if error_code else "done",
                "rows": counts.rows,
                "valid": counts.valid,
                "invalid": counts.invalid,
                "duplicates": counts.duplicates,
                "inserted": counts.inserted,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "deleted": counts.deleted,
                "error_count": error_count,
                "warnings": warnings,
                "error_code": error_code,
                "error_detail": error_detail,
                "id": job_id,
            },
        )


def set_report_key(conn: Connection, *, job_id: int, report_key: str) -> None:
    with translate_errors():
        conn.execute("UPDATE ingest_jobs SET report_key = %s WHERE id = %s", (report_key, job_id))


def add_errors(conn: Connection, *, job_id: int, errors: Iterable[RowError], first_seq: int = 1) -> int:
    """COPY reported rows into ingest_job_errors (values cut to MAX_VALUE_CHARS; a NUL, which PostgreSQL text
    cannot hold, written as `\\x00`); returns how many."""
    n = 0
    with (
        translate_errors(),
        conn.cursor().copy(
            "COPY ingest_job_errors (job_id, seq, line, column_name, value, reason, code) FROM STDIN"
        ) as copy,
    ):
        for n, error in enumerate(errors, 1):
            value = None if error.value is None else _without_nul(error.value)[:MAX_VALUE_CHARS]
            column = None if error.column is None else _without_nul(error.column)
            copy.write_row((job_id, first_seq + n - 1, error.line, column, value, error.reason, error.code))
    return n


def _without_nul(text: str) -> str:
    return text.replace("\x00", "\\x00") if "\x00" in text else text


def get_job(conn: Connection, *, job_id: int, errors_limit: int = 0) -> IngestJob | None:
    """One job, with its first `errors_limit` reported rows (in line order)."""
    row = fetch_one(conn, "SELECT * FROM ingest_jobs WHERE id = %s", (job_id,))
    if row is None:
        return None
    job = _job(row)
    if errors_limit > 0:
        job.errors.extend(job_errors(conn, job_id=job_id, limit=errors_limit, offset=0))
    return job


def close_abandoned_uploads(conn: Connection, *, older_than_s: int, code: str, detail: str) -> int:
    """Mark failed (with `code` and `detail`) the presigned uploads' jobs still queued without a file
    `older_than_s` seconds after they were made; returns how many. A file that arrives later anyway gets a job of
    its own (claim_object_job), so nothing is lost."""
    with translate_errors():
        cursor = conn.execute(
            """UPDATE ingest_jobs SET status = 'failed', error_code = %(code)s, error_detail = %(detail)s,
                      finished_at = now(), updated_at = now()
               WHERE status = 'queued' AND origin = 'upload' AND object_version IS NULL
                 AND created_at < now() - make_interval(secs => %(age)s)""",
            {"code": code, "detail": detail, "age": older_than_s},
        )
        return cursor.rowcount


def close_interrupted(conn: Connection, *, code: str, reading_detail: str, loading_detail: str) -> int:
    """Mark failed (with `code`, and the detail for the stage it stopped in) the jobs in progress whose lease no
    session holds: their run died (JOB_LEASE). Returns how many."""
    with translate_errors():
        cursor = conn.execute(
            """UPDATE ingest_jobs SET status = 'failed', error_code = %(code)s,
                      error_detail = CASE WHEN status = 'loading' THEN %(loading)s ELSE %(reading)s END,
                      finished_at = now(), updated_at = now()
               WHERE status IN ('validating', 'loading')
                 AND id IN (SELECT r.id FROM (SELECT id FROM ingest_jobs WHERE status IN ('validating', 'loading')
                                              OFFSET 0) AS r
                            WHERE pg_try_advisory_xact_lock(%(lease)s, (r.id & 2147483647)::int))""",
            {"code": code, "reading": reading_detail, "loading": loading_detail, "lease": JOB_LEASE},
        )
        return cursor.rowcount


def list_jobs(
    conn: Connection, *, limit: int, offset: int = 0, status: str | None = None
) -> tuple[list[IngestJob], int]:
    """Jobs newest first (only those in `status`, one of STATUSES, when given), and how many match in all.
    ValueError for a status that is not one of STATUSES."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"not an ingest job status: {status!r}")
    where = sql.SQL("WHERE status = %(status)s") if status is not None else sql.SQL("")
    params = {"status": status, "limit": limit, "offset": offset}
    rows = fetch_all(
        conn,
        sql.SQL(
            "SELECT *, count(*) OVER () AS total FROM ingest_jobs {} "
            "ORDER BY created_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s"
        ).format(where),
        params,
    )
    if rows:
        return [_job(row) for row in rows], int(rows[0]["total"])
    total = fetch_required(conn, sql.SQL("SELECT count(*) AS n FROM ingest_jobs {}").format(where), params)["n"]
    return [], int(total)


def job_errors(conn: Connection, *, job_id: int, limit: int, offset: int = 0) -> list[RowError]:
    rows = fetch_all(
        conn,
        """SELECT line, column_name, value, reason, code FROM ingest_job_errors
           WHERE job_id = %s ORDER BY seq LIMIT %s OFFSET %s""",
        (job_id, limit, offset),
    )
    return [RowError(r["line"], r["column_name"], r["value"], r["reason"], r["code"]) for r in rows]


def iter_job_errors(conn: Connection, *, job_id: int, batch_size: int = 5000) -> Iterator[RowError]:
    """Every reported row of a job in order, fetched batch_size at a time (for the error report)."""
    last = 0
    while True:
        rows = fetch_all(
            conn,
            """SELECT seq, line, column_name, value, reason, code FROM ingest_job_errors
               WHERE job_id = %s AND seq > %s ORDER BY seq LIMIT %s""",
            (job_id, last, batch_size),
        )
        for r in rows:
            yield RowError(r["line"], r["column_name"], r["value"], r["reason"], r["code"])
        if len(rows) < batch_size:
            return
        last = rows[-1]["seq"]
