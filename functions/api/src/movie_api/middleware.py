"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware on the hot path): request id, CORS, rate-limit headers,
and the correction of the usage-log status once the response status is known."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from movie_common import access
from movie_common.access import Grant, limit_headers
from movie_common.database import get_connection
from movie_common.errors import MarqueeError

EXPOSED = (
    "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, RateLimit, RateLimit-Policy, "
    "Retry-After, ETag, Link"
)


def _request_id(scope: Scope) -> str:
    event: dict[str, Any] | None = scope.get("aws.event")
    if event:
        request_id = (event.get("requestContext") or {}).get("requestId")
        if request_id:
            return str(request_id)
    return str(uuid.uuid4())


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, allow_origin: str) -> None:
        self.app = app
        self.allow_origin = allow_origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        request_id = state["request_id"] = _request_id(scope)
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = request_id
                headers["Access-Control-Allow-Origin"] = self.allow_origin
                headers["Access-Control-Expose-Headers"] = EXPOSED
                headers["Vary"] = "Origin"
                grant: Grant | None = state.get("grant")
                if grant is not None:
                    for name, value in limit_headers(grant.windows, grant.logged_at).items():
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
        grant = state.get("grant")
        if grant is not None and status != 200:
            # The response is already sent; a lost status correction must not turn it into an error.
            with contextlib.suppress(MarqueeError):
                access.record_status(get_connection(), grant, status)
