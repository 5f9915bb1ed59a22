"""Response helpers shared by the routes: documented error responses and the list envelope with its Link header."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from movie_api.problems import PROBLEM_MEDIA_TYPE
from movie_api.schemas import Problem
from movie_api.services import ListBody


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}}


KEYED_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem("No API key was sent (`missing_api_key`)."),
    403: _problem("The key is malformed, unknown, suspended, revoked or expired (see `code`)."),
    422: _problem("A parameter is invalid (`validation_error`); `errors` names each one."),
    429: _problem("A per-key limit was hit (`rate_limited`, `daily_quota_exceeded`); see `Retry-After`."),
    503: _problem("The database is unavailable (`database_unavailable`); retry shortly."),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _problem("No such movie (`not_found`).")}


def base_path(request: Request) -> str:
    """The prefix the client sees before our routes: the stage (`/prod`) or a custom domain's base path.

    API Gateway sends the route path in `path` and the full one in `requestContext.path`."""
    event: dict[str, Any] = request.scope.get("aws.event") or {}
    outer = str((event.get("requestContext") or {}).get("path") or "")
    inner = str(event.get("path") or "")
    return outer[: -len(inner)] if inner and outer.endswith(inner) else ""


def json_list(request: Request, body: ListBody) -> Response:
    return Response(body.body, media_type="application/json", headers=_link_header(request, body))


def _link_header(request: Request, body: ListBody) -> dict[str, str]:
    """RFC 8288 links to the first, previous, next and last pages."""
    if body.total_pages == 0:
        return {}
    links = {"first": 1, "last": body.total_pages}
    if body.page > 1:
        links["prev"] = min(body.page - 1, body.total_pages)
    if body.page < body.total_pages:
        links["next"] = body.page + 1
    url = request.url.replace(path=base_path(request) + request.url.path)
    parts = [f'<{url.include_query_params(page=number)}>; rel="{rel}"' for rel, number in links.items()]
    return {"Link": ", ".join(parts)}
