"""The caller's address, for the per-address limits of the portals' sign-in, sign-up and reset routes."""

from __future__ import annotations

from typing import Any

from fastapi import Request


def client_ip(request: Request) -> str:
    """The caller's address as API Gateway saw it (requestContext.identity.sourceIp): X-Forwarded-For is the
    client's to write, so limits never trust it. Without an event (tests on the ASGI app alone), the peer address."""
    event: dict[str, Any] | None = request.scope.get("aws.event")
    identity = ((event or {}).get("requestContext") or {}).get("identity") or {}
    source = identity.get("sourceIp")
    if source:
        return str(source)
    return request.client.host if request.client else "unknown"
