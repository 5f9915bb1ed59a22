"""Admin routes for the request log and the analytics: filtered cursor pages, the CSV export of the whole filtered
set, the endpoints seen, and the overview the charts draw."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from movie_admin.routes.deps import (
    ADMIN_DEPENDENCIES,
    ADMIN_RESPONSES,
    ActingAdmin,
    PerPage,
    export_answer,
    export_store,
    is_head,
)
from movie_admin.schemas import CursorPageOut, EndpointListOut, ExportOut, LoggedRequestOut, OverviewOut
from movie_admin.services import analytics, requests
from movie_admin.services.requests import RequestQuery
from movie_admin.settings import admin_settings
from movie_common.database import get_connection
from movie_web.params import PLAIN_INTEGER

router = APIRouter(prefix="/admin", dependencies=ADMIN_DEPENDENCIES, responses=ADMIN_RESPONSES)
Sort = Literal["timestamp.desc", "timestamp.asc"]


def request_query(
    key_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Only this key's requests."), PLAIN_INTEGER
    ] = None,
    owner_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Only this developer's."), PLAIN_INTEGER
    ] = None,
    endpoint: Annotated[str | None, Query(max_length=200, description="A route template, e.g. /movies/{id}.")] = None,
    status_class: Annotated[Literal["2xx", "3xx", "4xx", "5xx"] | None, Query()] = None,
    status: Annotated[int | None, Query(ge=100, le=599), PLAIN_INTEGER] = None,
    since: Annotated[datetime | None, Query(description="From this time on (ISO 8601 with a zone).")] = None,
    until: Annotated[datetime | None, Query(description="Before this time (ISO 8601 with a zone).")] = None,
) -> RequestQuery:
    return RequestQuery(
        key_id=key_id,
        owner_id=owner_id,
        endpoint=endpoint,
        status_class=status_class,
        status=status,
        since=since,
        until=until,
    )


Filters = Annotated[RequestQuery, Depends(request_query)]


@router.get("/requests", response_model=CursorPageOut[LoggedRequestOut], tags=["request log"], summary="Requests")
async def list_requests(
    filters: Filters,
    sort: Sort = "timestamp.desc",
    per_page: PerPage = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")] = None,
) -> CursorPageOut[LoggedRequestOut]:
    """Keyed requests, newest first by default, in pages that continue from `cursor` (the log is too long to
    count). Refused requests past the first few per key and minute are counted in the analytics, not logged."""
    found = requests.list_requests(get_connection(), query=filters, sort=sort, per_page=per_page, cursor=cursor)
    return CursorPageOut[LoggedRequestOut](
        per_page=found.per_page,
        results=[LoggedRequestOut.model_validate(r) for r in found.results],
        next_cursor=found.next_cursor,
    )


@router.get(
    "/requests.csv",
    tags=["request log"],
    summary="Export requests as CSV",
    response_model=ExportOut,
    status_code=200,
    responses={303: {"description": "See Other: the CSV file's short-lived download URL (Location)."}},
)
async def export_requests(
    request: Request, filters: Filters, actor: ActingAdmin, sort: Sort = "timestamp.desc"
) -> Response:
    """Every request the filters match, as CSV (no row cap): streamed from the database into a file (S3 in AWS)
    in flat memory, then a `303 See Other` to its short-lived download URL, or that URL as JSON when the client
    accepts `application/json`. HEAD runs no export."""
    if is_head(request):
        return Response(status_code=200, media_type="text/csv")
    stored = requests.export_requests(
        get_connection(),
        actor,
        export_store(request),
        query=filters,
        sort=sort,
        statement_timeout_ms=admin_settings().export_statement_timeout_ms,
    )
    return export_answer(request, stored)


@router.get("/endpoints", response_model=EndpointListOut, tags=["request log"], summary="Endpoints seen")
async def endpoints() -> EndpointListOut:
    """Route templates with traffic in the last 90 days, for the endpoint filter."""
    return EndpointListOut(results=requests.endpoints(get_connection()))


@router.get("/overview", response_model=OverviewOut, tags=["analytics"], summary="Analytics overview")
async def overview(
    days: Annotated[int, Query(ge=1, le=366, description="Window in UTC days: 7, 30 or 90."), PLAIN_INTEGER] = 30,
) -> OverviewOut:
    """Requests per day by outcome (2xx/3xx, 4xx, 429, 5xx), active developers and keys per day, signups per day
    (self-serve accounts from the sign-up form, not owners an admin or the CLI named; `verified_signups` of them
    confirmed their address), the busiest endpoints, and developers active in the window; from the daily rollups."""
    return OverviewOut.model_validate(analytics.overview(get_connection(), days=days))
