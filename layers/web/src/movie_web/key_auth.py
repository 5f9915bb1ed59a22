"""The admitted API key as a FastAPI dependency: the key is read (one rule, movie_common.access.read_key),
checked, counted and logged in one database round trip before the route runs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.routing import Route

from movie_common import access
from movie_common.access import Grant
from movie_common.database import get_connection
from movie_web.problems import AppLogger
from movie_web.schemas import COMMON_RESPONSES, problem_response


def request_key(request: Request) -> str:
    """The raw key of this request from every value of its key headers (repeats included)."""
    headers = request.headers
    return access.read_key({name: headers.getlist(name) for name in ("x-api-key", "authorization")})


async def admitted_key(request: Request) -> Grant:
    """Admit, count and log this request against the caller's key (one database round trip)."""
    route = request.scope.get("route")
    endpoint = route.path if isinstance(route, Route) else request.url.path
    method = str(request.scope.get("state", {}).get("method", request.method))  # HEAD as sent, not as routed
    grant = access.admit(get_connection(), request_key(request), endpoint=endpoint, method=method)
    request.state.grant = grant
    logger: AppLogger = request.app.state.logger
    logger.append_keys(key_id=grant.key_id)
    return grant


AdmittedKey = Annotated[Grant, Depends(admitted_key)]

KEYED_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: problem_response("No API key was sent (`missing_api_key`)."),
    403: problem_response(
        "The key is malformed, unknown, suspended, revoked or expired, or two different keys were sent (see `code`)."
    ),
    429: problem_response("A per-key limit was hit (`rate_limited`, `daily_quota_exceeded`); see `Retry-After`."),
    **COMMON_RESPONSES,
}
