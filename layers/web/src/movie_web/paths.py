"""URLs as the client sees them: behind API Gateway every path is prefixed by the stage (`/prod`) or a custom
domain's base path. The Lambda event's `path` omits the stage but keeps a base path (`/v1/movies/1` for the resource
`/movies/{id}` behind a custom domain mapped at `v1`), so `without_base_path` takes it off before routing."""

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


def without_base_path(event: dict[str, Any]) -> dict[str, Any]:
    """The REST proxy event with a custom domain's base path taken off its `path`, so it routes as the resource
    API Gateway matched: behind `https://api.example.com/v1/` the event for `/movies/{id}` says `path` is
    `/v1/movies/1` (its `requestContext.path` too). The segments before the ones that fit `resource` are the base
    path; `base_path` then finds it again as what `requestContext.path` has before `path`, so links keep it. An
    event whose path already fits its resource, or fits it nowhere, is returned as it is."""
    path, resource = event.get("path"), event.get("resource")
    if not isinstance(path, str) or not isinstance(resource, str) or not path.startswith("/"):
        return event
    segments = path.split("/")[1:]
    trailing = len(segments) > 1 and segments[-1] == ""
    if trailing:
        segments.pop()
    template = [s for s in resource.split("/") if s]
    greedy = next((i for i, s in enumerate(template) if s.startswith("{") and s.endswith("+}")), None)
    proxy = (event.get("pathParameters") or {}).get(template[greedy][1:-2]) if greedy is not None else None

    def fits(rest: list[str]) -> bool:
        fixed = template if greedy is None else template[:greedy]
        if len(rest) < len(template) or (greedy is None and len(rest) != len(template)):
            return False
        if any(t != s for t, s in zip(fixed, rest, strict=False) if not t.startswith("{")):
            return False
        return greedy is None or unquote("/".join(rest[greedy:])).rstrip("/") == str(proxy or "").rstrip("/")

    if fits(segments):
        return event
    for skip in range(1, len(segments)):
        if fits(segments[skip:]):
            return {**event, "path": "/" + "/".join(segments[skip:]) + ("/" if trailing else "")}
    return event


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
