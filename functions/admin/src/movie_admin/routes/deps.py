"""What every admin route shares: the acting admin (a verified admin session), paging parameters, the export
store, and the answer an export gets (a redirect to its download, or the download's description as JSON)."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from movie_admin import aws
from movie_admin.audit import Actor
from movie_admin.exports import ExportStore, FolderExportStore, S3ExportStore, StoredExport
from movie_admin.services import admins
from movie_admin.settings import admin_settings
from movie_common.database import get_connection
from movie_common.errors import InvalidParameter, RequestValidationError
from movie_common.timestamps import rfc3339
from movie_web.params import PLAIN_INTEGER
from movie_web.paths import base_path
from movie_web.schemas import problem_response
from movie_web.session_auth import SESSION_RESPONSES, CurrentAdmin

MAX_PER_PAGE = 100

PageNumber = Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number."), PLAIN_INTEGER]
PerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description=f"Rows per page, 1-{MAX_PER_PAGE}."), PLAIN_INTEGER]
Search = Annotated[str | None, Query(max_length=200, description="Text to search for (substring).")]

ADMIN_RESPONSES: dict[int | str, dict[str, Any]] = {
    **SESSION_RESPONSES,
    404: problem_response("No such thing (`not_found`)."),
    409: problem_response("Its current state does not allow this (see `code`)."),
}


async def acting_admin(request: Request, session: CurrentAdmin) -> Actor:
    """The signed-in admin as the Actor of this request's audit entries (401 without an admin session, 403 with
    a developer's)."""
    request_id = str(request.scope.get("state", {}).get("request_id", "")) or None
    return admins.acting_admin(get_connection(), admin_id=session.subject_id, request_id=request_id)


ActingAdmin = Annotated[Actor, Depends(acting_admin)]
IfMatch = Annotated[
    str | None,
    Header(
        max_length=2048,
        description="The `ETag` as read (from GET, or the answer of the last write): the write happens only if the "
        "target is still that version, else 412 `precondition_failed` (someone changed it meanwhile).",
    ),
]
STALE: dict[int | str, dict[str, Any]] = {
    412: problem_response("The target changed since the `If-Match` version was read (`precondition_failed`).")
}


def _query_names(dependant: Dependant) -> set[str]:
    """Every query parameter a route reads, its dependencies' included (by the name the client sends)."""
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


_known_queries: dict[int, frozenset[str]] = {}  # by id of the route's Dependant (routes live as long as the app)


async def declared_query_only(request: Request) -> None:
    """Refuse a query parameter a read (GET, HEAD) does not take (422 `validation_error` naming it, with the ones
    it does): FastAPI would ignore it, and a filter the route does not have (`GET /admin/ingest/jobs?status=failed`
    before it had one) answered with the whole unfiltered list as if it were the filtered one. Writes read their
    body, not the query string, and are left alone. Runs after acting_admin, so an anonymous call is still a 401."""
    route = request.scope.get("route")
    method = str(request.scope.get("state", {}).get("method", request.method)).upper()
    if not isinstance(route, APIRoute) or method not in ("GET", "HEAD"):
        return
    known = _known_queries.get(id(route.dependant))
    if known is None:
        known = _known_queries[id(route.dependant)] = frozenset(_query_names(route.dependant))
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in known]
    if not unknown:
        return
    accepted = ", ".join(sorted(known)) or "none"
    raise RequestValidationError(
        f"Unknown query parameter: {', '.join(unknown)}.",
        [
            InvalidParameter(
                name=name, location="query", reason=f"not a parameter of this route (it takes: {accepted})"
            )
            for name in unknown
        ],
    )


# What every admin router but sign-in depends on: an admin session, then only the query parameters its routes read.
ADMIN_DEPENDENCIES = [Depends(acting_admin), Depends(declared_query_only)]


@functools.cache
def _s3_store(bucket: str) -> ExportStore:
    """One S3 client per execution environment (movie_admin.aws), used only when exports go to S3."""
    return S3ExportStore(aws.s3_client(), bucket)


def export_store(request: Request) -> ExportStore:
    """S3 (EXPORT_BUCKET) in AWS; otherwise the local folder, whose files this function serves at
    /admin/exports/<name> (or EXPORT_BASE_URL, when set)."""
    settings = admin_settings()
    if settings.export_bucket:
        return _s3_store(settings.export_bucket)
    if settings.export_base_url:
        return FolderExportStore(settings.export_folder, settings.export_base_url)
    # This function's own URL as the client sees it: scheme and host of the request, the stage prefix of the event.
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return FolderExportStore(settings.export_folder, f"{origin}{base_path(request)}/admin/exports")


def export_answer(request: Request, stored: StoredExport) -> Response:
    """303 See Other to the download (what `curl -L` and a browser link want); the description as JSON when the
    client asks for JSON (the admin pages, which then navigate to it)."""
    body = {
        "download_url": stored.url,
        "file": stored.name,
        "bytes": stored.bytes,
        "expires_at": rfc3339(stored.expires_at),
    }
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(body)
    return RedirectResponse(stored.url, status_code=303)


def is_head(request: Request) -> bool:
    """Whether the client sent HEAD (the web layer serves HEAD through the GET route): an export is not run for it."""
    return str(request.scope.get("state", {}).get("method", request.method)).upper() == "HEAD"
