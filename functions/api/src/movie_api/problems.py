"""The one place where errors become HTTP: RFC 9457 problem bodies with stable codes, never a stack trace."""

from __future__ import annotations

import json
import logging
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError as FastAPIValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from movie_common.errors import InvalidParameter, LimitExceededError, MarqueeError, RequestValidationError

logger = logging.getLogger("movie_api")

PROBLEM_TYPE_BASE = "https://marquee.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

_HTTP_CODES = {404: ("not_found", "Not found"), 405: ("method_not_allowed", "Method not allowed")}


def problem(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
        "request_id": request.scope.get("state", {}).get("request_id", ""),
        **{name: value for name, value in extra.items() if value is not None},
    }
    return Response(json.dumps(body, default=str), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _location(loc: tuple[Any, ...]) -> tuple[str, str]:
    where = str(loc[0]) if loc else "request"
    name = ".".join(str(part) for part in loc[1:]) or where
    return name, where


def invalid_params_problem(request: Request, errors: list[InvalidParameter], detail: str) -> Response:
    return problem(
        request,
        status=RequestValidationError.status,
        code=RequestValidationError.code,
        title=RequestValidationError.title,
        detail=detail,
        errors=[{"name": e.name, "in": e.location, "reason": e.reason} for e in errors],
    )


async def _marquee_error(request: Request, error: Exception) -> Response:
    error = cast(MarqueeError, error)  # registered for MarqueeError only
    if isinstance(error, RequestValidationError):
        return invalid_params_problem(request, error.errors, error.detail)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(error, LimitExceededError):
        headers.update(error.headers)
        headers["Retry-After"] = str(error.retry_after)
        extra = {
            "limit": error.limit,
            "reset_at": error.reset_at.isoformat(),
            "retry_after": error.retry_after,
        }
    if error.status == 503:
        headers["Retry-After"] = "5"
        logger.warning("database unavailable: %s", error.__cause__ or error)
    return problem(
        request,
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        headers=headers,
        **extra,
    )


async def _validation_error(request: Request, error: Exception) -> Response:
    error = cast(FastAPIValidationError, error)
    errors = []
    for item in error.errors():
        name, where = _location(tuple(item.get("loc", ())))
        errors.append(InvalidParameter(name=name, location=where, reason=str(item.get("msg", "invalid"))))
    names = ", ".join(sorted({e.name for e in errors}))
    return invalid_params_problem(request, errors, f"Invalid value for: {names}.")


async def _http_error(request: Request, error: Exception) -> Response:
    error = cast(StarletteHTTPException, error)
    code, title = _HTTP_CODES.get(error.status_code, ("http_error", "Request failed"))
    detail = (
        f"No route matches {request.method} {request.url.path}."
        if error.status_code in (404, 405) and error.detail in ("Not Found", "Method Not Allowed")
        else str(error.detail)
    )
    return problem(
        request,
        status=error.status_code,
        code=code,
        title=title,
        detail=detail,
        headers=dict(error.headers or {}),
    )


async def _unexpected_error(request: Request, error: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(
        request,
        status=500,
        code="internal_error",
        title="Internal error",
        detail="Something went wrong on our side; quote the request_id if you contact support.",
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MarqueeError, _marquee_error)
    app.add_exception_handler(FastAPIValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
