"""The framework-free half of RFC 9457 problem documents: the body, the code table and the Retry-After rules.

HTTP functions (movie_web) render these; the gateway response templates in template.yaml must agree with the
table (a test checks titles, types and codes)."""

from __future__ import annotations

from typing import Any

from movie_common import errors
from movie_common.errors import LimitExceededError, MarqueeError
from movie_common.timestamps import rfc3339

PROBLEM_TYPE_BASE = "https://marquee.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
DATABASE_RETRY_AFTER_SECONDS = 5

# Codes that are not MarqueeError classes: HTTP-level refusals and those only API Gateway answers.
HTTP_PROBLEMS: dict[str, tuple[int, str]] = {
    "not_found": (404, "Not found"),
    "method_not_allowed": (405, "Method not allowed"),
    "bad_request": (400, "Bad request"),
    "payload_too_large": (413, "Payload too large"),
    "unsupported_media_type": (415, "Unsupported media type"),
    "internal_error": (500, "Internal error"),
    "gateway_error": (502, "Gateway error"),
    "upstream_timeout": (504, "Upstream timeout"),
    "gateway_quota_exceeded": (429, "Gateway quota exceeded"),
}


def _error_classes() -> list[type[MarqueeError]]:
    found: list[type[MarqueeError]] = []
    pending: list[type[MarqueeError]] = [MarqueeError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "code" in cls.__dict__:
            found.append(cls)
    return found


def problem_table() -> dict[str, tuple[int, str]]:
    """Every problem `code` Marquee can answer -> (HTTP status, title), from the error classes and HTTP_PROBLEMS."""
    table = dict(HTTP_PROBLEMS)
    for cls in _error_classes():
        if cls is not MarqueeError and cls.__module__ == errors.__name__:
            table[cls.code] = (cls.status, cls.title)
    return table


def problem_type(code: str) -> str:
    return PROBLEM_TYPE_BASE + code


def problem_body(
    *, status: int, code: str, title: str, detail: str, instance: str, request_id: str, **extra: Any
) -> dict[str, Any]:
    """An RFC 9457 body: type/title/status/detail/instance plus Marquee's `code` and `request_id`; extra members
    (for example `errors`, `limit`, `reset_at`, `retry_after`) are added when not None."""
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        "request_id": request_id,
    }
    body.update({name: value for name, value in extra.items() if value is not None})
    return body


def error_extras(error: MarqueeError) -> dict[str, Any]:
    """Members a problem adds for this error: which limit refused it and when it resets."""
    if isinstance(error, LimitExceededError):
        return {"limit": error.limit, "reset_at": rfc3339(error.reset_at), "retry_after": error.retry_after}
    return {}


def error_headers(error: MarqueeError) -> dict[str, str]:
    """Headers a problem carries: the limit headers and `Retry-After` on 429; `Retry-After` on 503 (the database
    is away: retrying soon is right). A 504 query timeout carries none: the same query would time out again."""
    if isinstance(error, LimitExceededError):
        return {**error.headers, "Retry-After": str(error.retry_after)}
    if error.status == 503:
        return {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    return {}
