"""Admin use cases for CSV uploads (issue 10's ingest, driven from the portal): sign an upload for a queued job,
list jobs, read one with its reported rows, and sign a download of its error report. Changes are audited in the
transaction that makes them; IngestFunction runs the job when the upload lands in the bucket."""

from __future__ import annotations

from typing import Any

from movie_admin.audit import Actor, record
from movie_common import ingest_uploads
from movie_common.database import Connection
from movie_common.ingest_uploads import DownloadSigner, JobPage, ReportLink, UploadPresigner, UploadTicket


def request_upload(
    conn: Connection, actor: Actor, presigner: UploadPresigner, *, mode: str, file_name: str, keep_tmdb: bool
) -> UploadTicket:
    """Queue a job for a file the admin is about to upload and sign its upload (S3 presigned POST under
    `incoming/<mode folder>/`), audited as `ingest_job.upload`. RequestValidationError names a bad mode or file
    name; UploadsUnavailableError when the bucket cannot be signed for (nothing is queued then)."""
    with conn.transaction():
        ticket = ingest_uploads.create_upload(
            conn, presigner, mode=mode, file_name=file_name, requested_by=actor.name, keep_tmdb=keep_tmdb
        )
        record(
            conn,
            actor,
            action="ingest_job.upload",
            target_type="ingest_job",
            target_id=ticket.job.id,
            after={
                "mode": ticket.job.mode,
                "keep_tmdb": ticket.job.keep_tmdb,
                "file_name": ticket.job.file_name,
                "bucket": ticket.job.bucket,
                "object_key": ticket.key,
            },
        )
    return ticket


def list_jobs(conn: Connection, *, page: int, per_page: int, status: str | None = None) -> JobPage:
    """Every ingest job (uploads, drops, CLI, the bundled catalogue), newest first; only those in `status` (one of
    movie_common.db.ingest_jobs.STATUSES) when given."""
    return ingest_uploads.list_jobs(conn, page=page, per_page=per_page, status=status)


def get_job(conn: Connection, *, job_id: int, errors_page: int, errors_per_page: int) -> dict[str, Any]:
    """One job with one page of its reported rows; NotFoundError when there is no such job."""
    return ingest_uploads.job_with_errors(conn, job_id=job_id, errors_page=errors_page, errors_per_page=errors_per_page)


def report_link(conn: Connection, actor: Actor, signer: DownloadSigner, *, job_id: int) -> ReportLink:
    """A short-lived download of the job's error report, audited as `ingest_job.download_report` (the report holds
    the file's rejected values). NotFoundError when there is no such job or it has no report."""
    link = ingest_uploads.report_link(conn, signer, job_id=job_id)
    with conn.transaction():
        record(
            conn,
            actor,
            action="ingest_job.download_report",
            target_type="ingest_job",
            target_id=job_id,
            after={"file": link.file_name, "error_count": link.error_count},
        )
    return link
