"""Admin routes for CSV uploads: sign an upload for a mode, list jobs, one job with its reported rows, and the
error report's download."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from movie_admin import aws
from movie_admin.routes.deps import (
    ADMIN_DEPENDENCIES,
    ADMIN_RESPONSES,
    ActingAdmin,
    PageNumber,
    PerPage,
    is_head,
)
from movie_admin.schemas import IngestJobDetailOut, IngestJobOut, PageOut, ReportLinkOut, UploadBody, UploadTicketOut
from movie_admin.services import ingest
from movie_common.database import get_connection
from movie_web.params import PLAIN_INTEGER

router = APIRouter(
    prefix="/admin/ingest", tags=["csv uploads"], dependencies=ADMIN_DEPENDENCIES, responses=ADMIN_RESPONSES
)
JobId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The ingest job's id."), PLAIN_INTEGER]


@router.post("/uploads", response_model=UploadTicketOut, status_code=201, summary="Start a CSV upload")
async def request_upload(body: UploadBody, actor: ActingAdmin) -> UploadTicketOut:
    """Queue an ingest job for a file and sign its upload into the uploads bucket: send `upload.fields` and then
    the file as `multipart/form-data` to `upload.url` (S3's presigned POST; at most 2 GiB; valid
    `upload.expires_in` seconds). The job runs as soon as the file lands; follow it at `GET
    /admin/ingest/jobs/{job.id}`. Bad `mode` or `file_name`: 422 naming it."""
    ticket = ingest.request_upload(
        get_connection(),
        actor,
        aws.uploads_bucket(),
        mode=body.mode,
        file_name=body.file_name,
        keep_tmdb=body.keep_tmdb,
    )
    return UploadTicketOut.model_validate(ticket.as_dict())


@router.get("/jobs", response_model=PageOut[IngestJobOut], summary="List ingest jobs")
async def list_jobs(
    status: Annotated[
        Literal["queued", "validating", "loading", "done", "failed"] | None,
        Query(description="Only jobs in this status."),
    ] = None,
    page: PageNumber = 1,
    per_page: PerPage = 20,
) -> PageOut[IngestJobOut]:
    """Every ingest job, newest first: uploads from this portal, files dropped into the bucket, `marquee ingest`
    runs and the bundled catalogue; only those in `status` when given (another value: 422 naming it). Running jobs
    show their progress (`rows`, `bytes_read` of `size_bytes`)."""
    found = ingest.list_jobs(get_connection(), page=page, per_page=per_page, status=status)
    return PageOut[IngestJobOut].model_validate(found.as_dict())


@router.get("/jobs/{job_id}", response_model=IngestJobDetailOut, summary="One ingest job")
async def get_job(
    job_id: JobId,
    errors_page: Annotated[int, Query(ge=1, le=1_000_000, description="Page of the reported rows."), PLAIN_INTEGER] = 1,
    errors_per_page: Annotated[int, Query(ge=1, le=500, description="Reported rows per page."), PLAIN_INTEGER] = 100,
) -> IngestJobDetailOut:
    """The job with its counts, timings, column mapping, failure (if any) and one page of its reported rows (line,
    column, value, reason). Poll it while `status` is queued, validating or loading."""
    data = ingest.get_job(get_connection(), job_id=job_id, errors_page=errors_page, errors_per_page=errors_per_page)
    return IngestJobDetailOut.model_validate(data)


@router.get(
    "/jobs/{job_id}/report",
    response_model=ReportLinkOut,
    summary="Download a job's error report",
    responses={303: {"description": "See Other: the report's short-lived download URL (Location)."}},
)
async def download_report(request: Request, job_id: JobId, actor: ActingAdmin) -> Response:
    """The error report IngestFunction wrote beside the upload (CSV: line, column, value, reason, code), through a
    short-lived signed URL: 303 to it, or its description as JSON when the client asks for JSON. 404 when the job
    reported no rows."""
    if is_head(request):
        return Response(status_code=200, media_type="text/csv")
    link = ingest.report_link(get_connection(), actor, aws.uploads_bucket(), job_id=job_id)
    if "application/json" in request.headers.get("accept", ""):
        out = ReportLinkOut(
            download_url=link.url, file=link.file_name, error_count=link.error_count, expires_at=link.expires_at
        )
        return JSONResponse(out.model_dump(mode="json"))
    return RedirectResponse(link.url, status_code=303)
