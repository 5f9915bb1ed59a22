"""Pure ASGI middleware of every HTTP function (cheaper than BaseHTTPMiddleware on the hot path): request id,
CORS headers, HEAD served by the GET route without a body, one trailing slash treated as the same route (an encoded
slash kept inside its segment), the rate-limit headers of an admitted key, the refund of a 304 (free), and the
correction of its usage-log status once the response is known."""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from movie_common import access
from movie_common.access import Grant
from movie_common.database import get_connection
from movie_common.errors import MarqueeError
from movie_web.paths import routing_path
from movie_web.problems import AppLogger

EXPOSED_HEADERS = (
    "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, RateLimit, RateLimit-Policy, "
    "Retry-After, ETag, Link, Allow"
)


# The largest request body a function reads (JSON of a few fields; the admin's movie edit with a 20,000-character
# plot is the largest, under 150 KB even with every character escaped). Files never come through a function: they go
# to S3 on a presigned URL.
DEFAULT_MAX_BODY_BYTES = 64 * 1024


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def request_id_of(scope: Scope) -> str:
    """API Gateway's request id (what its own error responses carry too), or a fresh one outside API Gateway."""
    event: dict[str, Any] | None = scope.get("aws.event")
    if event:
        request_id = (event.get("requestContext") or {}).get("requestId")
        if request_id:
            return str(request_id)
    return str(uuid.uuid4())


class RequestContextMiddleware:
    """Wraps the whole app, so problem responses of the exception handlers get the same headers."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        allow_origin: str,
        logger: AppLogger,
        cache_control: str | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.allow_origin = allow_origin
        self.logger = logger
        self.cache_control = cache_control  # for answers that set none (movie_web.app.create_app)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        request_id = state["request_id"] = request_id_of(scope)
        self.logger.append_keys(request_id=request_id)
        state["method"] = scope["method"]
        head = scope["method"] == "HEAD"
        if head:
            # HEAD is GET without the body (RFC 9110): the GET route answers it, and its headers stay.
            scope["method"] = "GET"
        # `/movies/` is `/movies` (one trailing slash; API Gateway routes both to the function; no redirect, which
        # would lose the stage prefix behind it), and `%2F` never separates segments (movie_web.paths).
        scope["path"] = routing_path(scope)
        raw: bytes | None = scope.get("raw_path")
        if raw and len(raw) > 1 and raw.endswith(b"/"):
            scope["raw_path"] = raw[:-1]
        status = 500
        limit = self.max_body_bytes
        received = 0

        async def bounded_receive() -> Message:
            # A body past the function's bound is refused before FastAPI parses it: a 4 MB body of unknown fields
            # took about 4 s of JSON and pydantic work, anyone's to send to sign-up (API Gateway allows 10 MB).
            nonlocal received
            declared = _content_length(scope)
            if declared is not None and declared > limit:
                raise HTTPException(413, f"The request body is {declared:,} bytes; this API takes at most {limit:,}.")
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"The request body is over {limit:,} bytes, at most what this API takes.")
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = request_id
                headers["Access-Control-Allow-Origin"] = self.allow_origin
                headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
                headers["Vary"] = "Origin"
                if self.cache_control and "cache-control" not in headers:
                    headers["Cache-Control"] = self.cache_control
                grant: Grant | None = state.get("grant")
                if grant is not None and status == 304:
                    # A 304 is free: refunded before its headers go out, so they show the quota it did not use.
                    route = scope.get("route")
                    endpoint = route.path if isinstance(route, Route) else scope["path"]
                    with contextlib.suppress(MarqueeError):
                        grant = state["grant"] = access.refund_not_modified(get_connection(), grant, endpoint=endpoint)
                if grant is not None:
                    # A refusal's own limit headers stay (ASGI header names are lower-case bytes).
                    present = {name for name, _ in headers.raw}
                    for name, value in access.limit_headers(grant.windows, grant.logged_at).items():
                        if name.lower().encode("latin-1") not in present:
                            headers.append(name, value)
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, bounded_receive, send_with_headers)
        grant = state.get("grant")
        if grant is not None and status not in (200, 304):
            # The response is already sent; a lost status correction must not turn it into an error.
            with contextlib.suppress(MarqueeError):
                access.record_status(get_connection(), grant, status)
        # One access line per request: the route template, never the raw path or query (they may hold anything).
        route = scope.get("route")
        self.logger.info(
            "request",
            extra={
                "method": state["method"],
                "route": route.path if isinstance(route, Route) else None,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
