"""Admin routes for the TMDB sync: its status, its runs with their counts and errors, a run on demand, and the titles
it remembers it could not write (listed, and forgotten so that the next run tries them again)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from movie_admin import aws
from movie_admin.routes.deps import ADMIN_DEPENDENCIES, ADMIN_RESPONSES, ActingAdmin, PageNumber, PerPage
from movie_admin.schemas import PageOut, RefusedTitleOut, SyncRequestOut, SyncRunOut, SyncStatusOut
from movie_admin.services import sync
from movie_admin.settings import admin_settings
from movie_common.database import get_connection
from movie_common.db.sync_runs import SyncRun
from movie_web.params import PLAIN_INTEGER
from movie_web.schemas import problem_response

router = APIRouter(prefix="/admin/sync", tags=["tmdb sync"], dependencies=ADMIN_DEPENDENCIES, responses=ADMIN_RESPONSES)
RunId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The sync run's id."), PLAIN_INTEGER]


def _run(run: SyncRun) -> SyncRunOut:
    return SyncRunOut.model_validate(run.as_json())


@router.get("", response_model=SyncStatusOut, summary="TMDB sync status")
async def sync_status() -> SyncStatusOut:
    """Whether a sync can be requested (a TMDB token is configured), the run in progress and the last success."""
    found = sync.status(get_connection(), configured=admin_settings().tmdb_sync_enabled)
    return SyncStatusOut(
        configured=found.configured,
        running=None if found.running is None else _run(found.running),
        last_succeeded_at=found.last_succeeded_at,
    )


@router.get("/runs", response_model=PageOut[SyncRunOut], summary="List sync runs")
async def list_runs(
    status: Annotated[
        Literal["running", "succeeded", "partial", "failed"] | None, Query(description="Only runs in this status.")
    ] = None,
    page: PageNumber = 1,
    per_page: PerPage = 20,
) -> PageOut[SyncRunOut]:
    """Runs newest first (daily, at a local stack's start-up, requested here, or `marquee sync`: `triggered_by`),
    with their counts and errors; only those in `status` when given (another value: 422 naming it)."""
    found = sync.list_runs(get_connection(), page=page, per_page=per_page, status=status)
    return PageOut[SyncRunOut](
        page=found.page,
        per_page=found.per_page,
        results=[_run(r) for r in found.results],
        total_results=found.total_results,
        total_pages=found.total_pages,
    )


@router.get("/runs/{run_id}", response_model=SyncRunOut, summary="One sync run")
async def get_run(run_id: RunId) -> SyncRunOut:
    return _run(sync.get_run(get_connection(), run_id=run_id))


@router.post(
    "/runs",
    response_model=SyncRequestOut,
    status_code=202,
    summary="Run the sync now",
    responses={503: problem_response("EventBridge did not take the request (`sync_request_failed`).")},
)
async def request_run(actor: ActingAdmin) -> SyncRequestOut:
    """Ask for a TMDB sync now (202 Accepted): a "Sync Requested" event goes on the EventBridge bus and the
    template's rule runs SyncFunction with it; the run shows in `GET /admin/sync/runs` once it starts. 409
    `sync_not_configured` without a TMDB token, 409 `sync_running` while a run is in progress."""
    settings = admin_settings()
    asked = sync.request_sync(
        get_connection(),
        actor,
        aws.sync_publisher(),
        configured=settings.tmdb_sync_enabled,
        event_bus=settings.sync_event_bus,
    )
    return SyncRequestOut(
        event_id=asked.event_id,
        requested_at=asked.requested_at,
        requested_by=asked.requested_by,
        detail="The sync was requested; its run appears in the list when it starts.",
    )


@router.get("/refused", response_model=PageOut[RefusedTitleOut], summary="TMDB titles the sync could not write")
async def list_refused(page: PageNumber = 1, per_page: PerPage = 20) -> PageOut[RefusedTitleOut]:
    """Titles the sync remembers it could not write, the latest first: refused because another row holds their
    title + year (`title_year_taken`), whose details were `malformed` or `not_found` (404 while a list shows it), or
    `given_up` after failing TMDB_MAX_ATTEMPTS runs. A TMDB list showing one with the same title and year does not
    queue it again (for the last three, until TMDB_REFRESH_AFTER_DAYS pass); `times` counts the runs that could not
    write it."""
    found = sync.list_refused_titles(get_connection(), page=page, per_page=per_page)
    return PageOut[RefusedTitleOut](
        page=found.page,
        per_page=found.per_page,
        results=[RefusedTitleOut.model_validate(r) for r in found.results],
        total_results=found.total_results,
        total_pages=found.total_pages,
    )


@router.delete("/refused/{media_type}/{tmdb_id}", status_code=204, summary="Let the TMDB sync try a title again")
async def retry_refused(
    media_type: Annotated[Literal["movie", "tv"], Path(description="movie or tv")],
    tmdb_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="The title's TMDB id."), PLAIN_INTEGER],
    actor: ActingAdmin,
) -> Response:
    """Forget that the sync could not write the title (audited as `tmdb_title.retry`): the next run fetches it
    again if a TMDB list shows it, and reports it again if it still cannot be written. 404 `not_found` when the
    sync remembers no such title."""
    sync.retry_refused_title(get_connection(), actor, media_type=media_type, tmdb_id=tmdb_id)
    return Response(status_code=204)
