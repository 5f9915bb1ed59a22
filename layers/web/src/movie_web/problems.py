"""The one place where errors become HTTP in every FastAPI function: RFC 9457 problem responses with stable codes,
`Allow` on 405, never a stack trace. Bodies, codes and Retry-After rules come from movie_common.problems."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Protocol, cast

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError as FastAPIValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from movie_common.errors import InvalidParameter, MarqueeError, RequestValidationError
from movie_common.problems import (
    HTTP_PROBLEMS,
    PROBLEM_MEDIA_TYPE,
    error_extras,
    error_headers,
    problem_body,
)
from movie_web.paths import base_path


class AppLogger(Protocol):
    """What the web layer needs of a function's logger (Powertools' Logger fits)."""

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None: ...

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None: ...

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None: ...

    def append_keys(self, **additional_keys: Any) -> None: ...


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
    """A problem response for this request (instance = its path as the client reached it, the stage prefix or a
    custom domain's base path kept, as in `Link` URLs: a relative `/movies/1` behind `/prod` would name
    `https://host/movies/1`, another URL; request_id = the X-Request-Id it answers with)."""
    body = problem_body(
        status=status,
        code=code,
        title=title,
        detail=detail,
        instance=base_path(request) + request.url.path,
        request_id=str(request.scope.get("state", {}).get("request_id", "")),
        **extra,
    )
    return Response(json.dumps(body, default=str), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _http_problem(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type"}.get(
        status, "bad_request" if status < 500 else "internal_error"
    )
    return problem(request, status=status, code=code, title=HTTP_PROBLEMS[code][1], detail=detail, headers=headers)


# A 422 names at most this many inputs, each name cut to MAX_REPORTED_NAME_CHARS: a body of 300,000 unknown fields
# (4 MB, anyone's to send to sign-up) was answered with every one of them twice, 26 MB built in 4.6 s, past
# Lambda's 6 MB response limit; one field named with a megabyte of text was echoed twice as well.
MAX_REPORTED_ERRORS = 20
MAX_REPORTED_NAME_CHARS = 100


def _shown_name(name: str) -> str:
    return name if len(name) <= MAX_REPORTED_NAME_CHARS else name[: MAX_REPORTED_NAME_CHARS - 1] + "\u2026"


def reported_errors(errors: list[InvalidParameter]) -> tuple[list[InvalidParameter], int]:
    """The errors a problem lists (the first MAX_REPORTED_ERRORS, long names cut) and how many more there were."""
    shown = [dataclasses.replace(e, name=_shown_name(e.name)) for e in errors[:MAX_REPORTED_ERRORS]]
    return shown, len(errors) - len(shown)


def _names(names: list[str], more: int) -> str:
    """`a, b, c` for a detail, with `(and 1,234 more)` when some inputs were not listed."""
    return ", ".join(names) + (f" (and {more:,} more)" if more else "")


def invalid_params_problem(request: Request, errors: list[InvalidParameter], detail: str) -> Response:
    """The 422 `validation_error` problem: `errors` lists at most MAX_REPORTED_ERRORS of them (reported_errors)."""
    errors, _ = reported_errors(errors)
    return problem(
        request,
        status=RequestValidationError.status,
        code=RequestValidationError.code,
        title=RequestValidationError.title,
        detail=detail,
        errors=[{"name": e.name, "in": e.location, "reason": e.reason} for e in errors],
    )


def _logger(request: Request) -> AppLogger:
    return cast(AppLogger, request.app.state.logger)


async def _marquee_error(request: Request, error: Exception) -> Response:
    error = cast(MarqueeError, error)  # registered for MarqueeError only
    if isinstance(error, RequestValidationError):
        return invalid_params_problem(request, error.errors, error.detail)
    if error.status >= 500:
        # A database error names its SQLSTATE in the log (never in the answer's detail alone): a 500 for a statement
        # the database refused is logged with its traceback, an outage or a timeout as a warning.
        sqlstate = getattr(error, "sqlstate", None) or getattr(error.__cause__, "sqlstate", None)
        log = _logger(request).exception if error.status == 500 else _logger(request).warning
        log(
            "%s%s on %s %s: %s",
            error.code,
            f" (SQLSTATE {sqlstate})" if sqlstate else "",
            request.method,
            request.url.path,
            error.__cause__ or error,
        )
    return problem(
        request,
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        headers=error_headers(error),
        **error_extras(error),
    )


def _location(loc: tuple[Any, ...]) -> tuple[str, str]:
    where = str(loc[0]) if loc else "request"
    name = ".".join(str(part) for part in loc[1:]) or where
    return name, where


async def _validation_error(request: Request, error: Exception) -> Response:
    error = cast(FastAPIValidationError, error)
    errors = []
    items = error.errors()
    for item in items[:MAX_REPORTED_ERRORS]:  # the rest are only counted
        if item.get("type") == "json_invalid":  # loc is ("body", <character offset>): name the body, say where
            loc = tuple(item.get("loc", ()))
            why = str(item.get("ctx", {}).get("error", "malformed"))
            at = f" at character {loc[1]}" if len(loc) > 1 and isinstance(loc[1], int) else ""
            errors.append(InvalidParameter(name="body", location="body", reason=f"not valid JSON: {why}{at}"))
            continue
        name, where = _location(tuple(item.get("loc", ())))
        errors.append(
            InvalidParameter(
                name=name, location=where, reason=str(item.get("msg", "invalid")).removeprefix("Value error, ")
            )
        )
    shown, _ = reported_errors(errors)
    more = len(items) - len(shown)
    return invalid_params_problem(
        request, shown, f"Invalid value for: {_names(sorted({e.name for e in shown}), more)}."
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of this app answers on the request's path (HEAD wherever GET is), sorted."""
    methods: set[str] = set()
    scope = {**request.scope, "method": "GET"}
    for route in _flat_routes(request.app.routes):
        match, _ = route.matches(scope)
        if match != Match.NONE and route.methods:
            methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _flat_routes(routes: list[Any]) -> list[Route]:
    """FastAPI 0.16x keeps included routers whole (`original_router`): walk into them."""
    flat: list[Route] = []
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            flat.extend(_flat_routes(nested.routes))
        elif isinstance(route, Route):
            flat.append(route)
    return flat


async def _http_error(request: Request, error: Exception) -> Response:
    error = cast(StarletteHTTPException, error)
    headers = dict(error.headers or {})
    if error.status_code == 405:
        allow = allowed_methods(request)
        headers["Allow"] = ", ".join(allow)
        method = request.scope.get("state", {}).get("method", request.method)
        detail = f"{method} is not allowed on {request.url.path}; use {', '.join(allow)}."
    elif error.status_code == 404 and error.detail == "Not Found":
        detail = f"No route matches {request.method} {request.url.path}."
    else:
        detail = str(error.detail)
    return _http_problem(request, error.status_code, detail, headers)


NUL_REASON = "must not contain NUL characters (U+0000)"


async def _data_error(request: Request, error: Exception) -> Response:
    """PostgreSQL cannot store NUL in text, and psycopg refuses such a value before sending it: a client's input,
    so a 422 naming the query or path parameters that hold one (else the body), never a 500. Other data errors
    are unexpected."""
    if "NUL" not in str(error):
        return await _unexpected_error(request, error)
    errors = [
        InvalidParameter(name=name, location="query", reason=NUL_REASON)
        for name, value in request.query_params.multi_items()
        if "\x00" in name or "\x00" in value
    ]
    errors += [
        InvalidParameter(name=name, location="path", reason=NUL_REASON)
        for name, value in request.path_params.items()
        if "\x00" in str(value)
    ]
    if not errors:
        errors = [InvalidParameter(name="body", location="body", reason=f"a text value {NUL_REASON}")]
    shown, more = reported_errors(errors)
    names = _names(list(dict.fromkeys(e.name for e in shown)), more)
    return invalid_params_problem(request, shown, f"Text must not contain NUL characters (U+0000): {names}.")


async def _unexpected_error(request: Request, error: Exception) -> Response:
    _logger(request).exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(
        request,
        status=500,
        code="internal_error",
        title=HTTP_PROBLEMS["internal_error"][1],
        detail="Something went wrong on our side; quote the request_id if you contact support.",
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MarqueeError, _marquee_error)
    app.add_exception_handler(FastAPIValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(psycopg.DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected_error)
