"""The admitted API key as a FastAPI dependency: the key is read (one rule, movie_common.access.read_key),
checked, counted and logged in one database round trip before the route runs; for a warm environment that round
trip starts as the Lambda event arrives (admitting_ahead), so that PostgreSQL works while the framework routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from starlette.routing import Route

from movie_common import access
from movie_common.access import Grant
from movie_common.database import get_connection, open_connection
from movie_common.errors import MarqueeError
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
    if isinstance(route, Route):
        _admitting_paths(request.app).add(endpoint)
    request.state.grant = grant
    logger: AppLogger = request.app.state.logger
    logger.append_keys(key_id=grant.key_id)
    return grant


AdmittedKey = Annotated[Grant, Depends(admitted_key)]

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _admitting_paths(app: FastAPI) -> set[str]:
    """The path templates of `app`'s routes whose key dependency has run in this environment (API Gateway's
    `resource` for their requests): learned, not declared, so that only a route that really admits a key (never
    GET /usage, which reads without counting) has its admission sent ahead."""
    paths: set[str] | None = getattr(app.state, "admitting_paths", None)
    if paths is None:
        paths = app.state.admitting_paths = set()
    return paths


_KEY_HEADERS = ("x-api-key", "authorization")


def _key_headers(event: dict[str, Any]) -> dict[str, list[str]]:
    """The request's key headers as Mangum gives them to the app (mangum.handlers.api_gateway): one value per
    lower-cased name, multiValueHeaders' values joined with ", " over headers'; so the key read here is the key the
    dependency reads."""
    found: dict[str, str] = {}
    for name, value in (event.get("headers") or {}).items():
        lower = str(name).lower()
        if lower in _KEY_HEADERS:
            found[lower] = value
    for name, values in (event.get("multiValueHeaders") or {}).items():
        lower = str(name).lower()
        if lower in _KEY_HEADERS:
            found[lower] = ", ".join(values) if isinstance(values, list) else ""
    return {name: [value] for name, value in found.items()}


def admitting_ahead(app: FastAPI, handler: LambdaHandler, logger: AppLogger) -> LambdaHandler:
    """`handler` with each keyed request's admission sent to PostgreSQL as the event arrives (access.start_admission),
    before Mangum and FastAPI run: the database decides, counts and logs while the framework builds the request,
    routes it and solves its parameters, and admitted_key then reads the answer (about 0.1 ms of the hot path's
    0.35 ms for the key here, bench/README.md; deployed, a network round trip). Only for a REST proxy event whose
    `resource` is a route whose key dependency has run before in this environment (GET or HEAD), carrying a key
    read_key accepts, on an open connection (nothing is opened early). Anything else, or a send that fails, takes
    the usual path.

    An admission sent ahead that the request never took (answered before its key dependency ran) is read at the
    end of the request, and its log row gets the response's status."""
    keyed = _admitting_paths(app)

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event.get("resource") not in keyed or event.get("httpMethod") not in ("GET", "HEAD"):
            return handler(event, context)
        conn = open_connection()
        if conn is None:
            return handler(event, context)
        try:
            raw_key = access.read_key(_key_headers(event))
            sent = access.start_admission(
                conn, raw_key, endpoint=str(event["resource"]), method=str(event["httpMethod"])
            )
        except MarqueeError:
            sent = False  # a key the rules refuse: the dependency refuses it with the same error
        except Exception:  # an event the usual path must judge (e.g. a header that is not text): never worse than it
            sent = False
        if not sent:
            return handler(event, context)
        status = 500
        try:
            response = handler(event, context)
            status = int(response.get("statusCode", 500))
            return response
        finally:
            try:
                access.finish_admission(conn, status)
            except Exception:  # the response stands; a log row may keep status 200
                logger.exception("the admission sent ahead could not be finished")

    return handle


KEYED_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: problem_response("No API key was sent (`missing_api_key`)."),
    403: problem_response(
        "The key is malformed, unknown, suspended, revoked or expired, or two different keys were sent (see `code`)."
    ),
    429: problem_response("A per-key limit was hit (`rate_limited`, `daily_quota_exceeded`); see `Retry-After`."),
    **COMMON_RESPONSES,
}
