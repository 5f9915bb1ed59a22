"""Admin routes for the audit log: filtered pages and the CSV export."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from movie_admin.routes.deps import (
    ADMIN_DEPENDENCIES,
    ADMIN_RESPONSES,
    ActingAdmin,
    PageNumber,
    PerPage,
    Search,
    export_answer,
    export_store,
    is_head,
)
from movie_admin.schemas import AuditEntryOut, ExportOut, PageOut
from movie_admin.services import audit_log
from movie_admin.settings import admin_settings
from movie_common.database import get_connection
from movie_common.db.admin_audit_log import AuditFilters
from movie_web.params import PLAIN_INTEGER

router = APIRouter(prefix="/admin", tags=["audit"], dependencies=ADMIN_DEPENDENCIES, responses=ADMIN_RESPONSES)
Sort = Literal["occurred_at.desc", "occurred_at.asc"]


def audit_filters(
    admin_id: Annotated[int | None, Query(ge=1, le=2**63 - 1), PLAIN_INTEGER] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. api_key.suspend")] = None,
    target_type: Annotated[str | None, Query(max_length=32, description="e.g. api_key, developer, movie")] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    developer_id: Annotated[int | None, Query(ge=1, le=2**63 - 1), PLAIN_INTEGER] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    q: Search = None,
) -> AuditFilters:
    return AuditFilters(
        admin_id=admin_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        developer_id=developer_id,
        since=since,
        until=until,
        search=q,
    )


Filters = Annotated[AuditFilters, Depends(audit_filters)]


@router.get("/audit", response_model=PageOut[AuditEntryOut], summary="Audit log")
async def list_audit(
    filters: Filters, sort: Sort = "occurred_at.desc", page: PageNumber = 1, per_page: PerPage = 50
) -> PageOut[AuditEntryOut]:
    """Every admin action (API and CLI): who, what, on what, before and after, when, and the request id."""
    found = audit_log.list_entries(get_connection(), filters=filters, sort=sort, page=page, per_page=per_page)
    return PageOut[AuditEntryOut](
        page=found.page,
        per_page=found.per_page,
        results=[AuditEntryOut.model_validate(e) for e in found.results],
        total_results=found.total_results,
        total_pages=found.total_pages,
    )


@router.get(
    "/audit.csv",
    response_model=ExportOut,
    summary="Export the audit log as CSV",
    responses={303: {"description": "See Other: the CSV file's short-lived download URL (Location)."}},
)
async def export_audit(
    request: Request, filters: Filters, actor: ActingAdmin, sort: Sort = "occurred_at.desc"
) -> Response:
    """The matching entries as CSV, like the request-log export (303 to the file, or JSON on request)."""
    if is_head(request):
        return Response(status_code=200, media_type="text/csv")
    stored = audit_log.export_entries(
        get_connection(),
        actor,
        export_store(request),
        filters=filters,
        sort=sort,
        statement_timeout_ms=admin_settings().export_statement_timeout_ms,
    )
    return export_answer(request, stored)
