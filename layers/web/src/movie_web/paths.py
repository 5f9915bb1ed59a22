"""URLs as the client sees them: behind API Gateway every path is prefixed by the stage (`/prod`) or a custom
domain's base path, which the Lambda event's `path` omits."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request


def base_path(request: Request) -> str:
    """The prefix the client sees before our routes (`/prod`, a custom domain's base path, or "").

    API Gateway sends the route path in `path` and the full one in `requestContext.path`."""
    event: dict[str, Any] = request.scope.get("aws.event") or {}
    outer = str((event.get("requestContext") or {}).get("path") or "")
    inner = str(event.get("path") or "")
    return outer[: -len(inner)] if inner and outer.endswith(inner) else ""
