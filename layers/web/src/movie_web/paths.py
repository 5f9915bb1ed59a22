"""URLs as the client sees them: behind API Gateway every path is prefixed by the stage (`/prod`) or a custom
domain's base path, which the Lambda event's `path` omits."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.types import Scope


def base_path(request: Request) -> str:
    """The prefix the client sees before our routes (`/prod`, a custom domain's base path, or "").

    API Gateway sends the route path in `path` and the full one in `requestContext.path`."""
    event: dict[str, Any] = request.scope.get("aws.event") or {}
    outer = str((event.get("requestContext") or {}).get("path") or "")
    inner = str(event.get("path") or "")
    return outer[: -len(inner)] if inner and outer.endswith(inner) else ""


def raw_path_of(scope: Scope) -> str | None:
    """The path as the client sent it, still percent-encoded: the Lambda event's `path` (Mangum puts the decoded one
    in `scope["path"]`), or the server's `raw_path`; None when neither is known."""
    event: dict[str, Any] | None = scope.get("aws.event")
    if event and isinstance(event.get("path"), str):
        return str(event["path"])
    raw: bytes | None = scope.get("raw_path")
    return raw.decode("latin-1") if raw else None


def routing_path(scope: Scope) -> str:
    """The path the app routes on, by one rule that API Gateway (and the local gateway) follows too:

    - exactly one trailing slash names the same route: `/movies/` is `/movies`, `/movies/1//` is not `/movies/1`;
    - an encoded slash (`%2F`) is part of its segment and never separates segments: `/movies/1%2Fsimilar` is the
      one segment `1%2Fsimilar` under `/movies/{id}` (not a number: a 422), never `/movies/{id}/similar`, and
      `/movies/1%2F` is not `/movies/1/`. Such a segment keeps its slash encoded in the routing path, so no route's
      `{param}` (which matches within one segment) can see it as two.
    """
    path: str = scope["path"]
    raw = raw_path_of(scope)
    if raw is not None and "%2f" in raw.lower():
        if len(raw) > 1 and raw.endswith("/"):
            raw = raw[:-1]
        return "/".join(unquote(segment).replace("/", "%2F") for segment in raw.split("/"))
    if len(path) > 1 and path.endswith("/"):
        return path[:-1]
    return path
