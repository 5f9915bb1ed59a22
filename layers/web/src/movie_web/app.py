"""The app factory every HTTP function uses: problem handlers, request-context middleware (request id, CORS,
HEAD, trailing slash), OpenAPI security declarations, and the Lambda handler that wraps it all."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response, params
from fastapi.openapi.utils import get_openapi
from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from movie_common.problems import PROBLEM_MEDIA_TYPE
from movie_web.key_auth import admitting_ahead
from movie_web.middleware import DEFAULT_MAX_BODY_BYTES, RequestContextMiddleware
from movie_web.paths import base_path, without_base_path
from movie_web.problems import AppLogger, install_problem_handlers
from movie_web.schemas import problem_schemas

# OpenAPI security schemes: an API key in either header (the public API), or a session bearer token (portals).
API_KEY_SCHEMES: dict[str, dict[str, Any]] = {
    "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-KEY"},
    "BearerKey": {"type": "http", "scheme": "bearer", "description": "The same key as a bearer token."},
}
SESSION_SCHEMES: dict[str, dict[str, Any]] = {
    "SessionToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The `access_token` a login answers with.",
    },
}


def create_app(
    *,
    title: str,
    description: str,
    routers: Iterable[APIRouter],
    cors_allow_origin: str,
    logger: AppLogger,
    security_schemes: dict[str, dict[str, Any]],
    public_paths: Iterable[str] = (),
    version: str = "1.0.0",
    openapi_url: str = "/openapi.json",
    dependencies: Sequence[params.Depends] = (),
    cache_control: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """A FastAPI app with Marquee's HTTP conventions. Every operation outside `public_paths` is declared in the
    OpenAPI document as needing one of `security_schemes` (enforcing it is the routes' dependencies' job).
    `dependencies` run before every route (e.g. movie_web.query.single_valued_parameters). `cache_control`, when
    given, is the `Cache-Control` of every answer that sets none itself (the portals' `no-store`: their answers
    carry keys, session tokens and account data, which no browser or proxy cache may keep). A request body over
    `max_body_bytes` is a 413 `payload_too_large` problem, refused before it is parsed."""
    app = FastAPI(
        dependencies=list(dependencies),
        title=title,
        version=version,
        description=description,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served below, with the server URL the client reached it at
        redirect_slashes=False,  # the middleware treats `/x/` as `/x`; a redirect would lose the stage prefix
    )
    app.state.logger = logger
    install_problem_handlers(app)
    for router in routers:
        app.include_router(router)
    app.add_middleware(
        RequestContextMiddleware,
        allow_origin=cors_allow_origin,
        logger=logger,
        cache_control=cache_control,
        max_body_bytes=max_body_bytes,
    )
    public = set(public_paths)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = schema.setdefault("components", {})
            components["securitySchemes"] = security_schemes
            # The problem answers refer to Problem (movie_web.schemas.problem_response); written once, here.
            components["schemas"] = dict(sorted({**components.get("schemas", {}), **problem_schemas()}.items()))
            _problems_in_their_media_type(schema)
            _documented_headers(schema, cache_control)
            for path, operations in schema["paths"].items():
                if path not in public:
                    for operation in operations.values():
                        operation["security"] = [{name: []} for name in security_schemes]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    if openapi_url:
        # A plain route, as FastAPI adds its own (no app dependencies), answering what FastAPI's did plus `servers`.
        async def openapi_document(request: Request) -> Response:
            return Response(
                json.dumps(with_server(app.openapi(), request), separators=(",", ":")), media_type="application/json"
            )

        app.add_route(openapi_url, openapi_document, include_in_schema=False)

    return app


def server_url(request: Request) -> str:
    """The URL the routes of this request's API are under, as the client reached it: scheme and host, and the stage
    prefix or custom domain's base path (`https://abc.execute-api.us-east-1.amazonaws.com/prod`,
    `https://api.example.com/v1`, `http://127.0.0.1:8000`), as the `Link` headers build theirs."""
    return str(request.url.replace(path=base_path(request), query="", fragment="")).rstrip("/")


def with_server(schema: dict[str, Any], request: Request) -> dict[str, Any]:
    """The OpenAPI document with `servers` naming where this request reached the API (server_url). Without it a
    document means the root of the host that served it, so behind a stage or a base path every operation that
    Swagger UI's "Try it out" or a generated client sent went to `https://host/movies` (API Gateway's 403
    `Missing Authentication Token`) instead of `https://host/prod/movies`."""
    document = {name: value for name, value in schema.items() if name not in ("paths", "components")}
    document["servers"] = [{"url": server_url(request)}]
    return {**document, **{name: schema[name] for name in ("paths", "components") if name in schema}}


def _problems_in_their_media_type(schema: dict[str, Any]) -> None:
    """Declare each problem answer's schema under `application/problem+json`, the type it is sent with.

    FastAPI puts a `responses` entry's model under the route's own media type (`application/json`) and keeps the
    `content` it was given beside it, so a generated client would read an error's schema from a type the API never
    sends and find none under the one it does (movie_web.schemas.problem_response)."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for response in (operation.get("responses") or {}).values():
                content = response.get("content") or {}
                if PROBLEM_MEDIA_TYPE in content and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = {**content.pop("application/json"), **content[PROBLEM_MEDIA_TYPE]}


def _header(description: str, kind: str = "string") -> dict[str, Any]:
    return {"description": description, "schema": {"type": kind}}


_REQUEST_ID = _header("This request's id; problem bodies repeat it as `request_id`. Quote it to support.")
# The rate headers every answer to a keyed request carries (movie_web.rate_headers): the IETF RateLimit fields and
# the older X-RateLimit-* trio, on the key's tightest window.
_RATE_HEADERS = {
    "RateLimit": _header(
        'The key\'s windows, e.g. `"minute";r=29;t=35, "day";r=99;t=43200`: requests remaining (`r`) and seconds'
        " until the window resets (`t`)."
    ),
    "RateLimit-Policy": _header('The key\'s limits, e.g. `"minute";q=30;w=60, "day";q=100;w=86400`.'),
    "X-RateLimit-Limit": _header("The limit of the key's tightest window.", "integer"),
    "X-RateLimit-Remaining": _header("Requests left in that window.", "integer"),
    # GitHub's convention (the README's examples show it): a moment, not a duration; RateLimit's `t` is the duration.
    "X-RateLimit-Reset": _header(
        "When that window resets, in Unix time (seconds since 1970-01-01 UTC), e.g. `1796256000`; not a number of"
        " seconds to wait (that is `RateLimit`'s `t`, and `Retry-After` on a 429).",
        "integer",
    ),
}
_RETRY_AFTER = {"Retry-After": _header("Seconds to wait before trying again.", "integer")}
_LINK = {
    "Link": _header(
        "RFC 8288 links to the `first`, `prev` and `last` pages by number and to the `next` page by cursor, e.g. "
        '`<https://…/search?title=alien&per_page=20&cursor=…>; rel="next"`; absent on an empty list.'
    )
}
_CACHING = {
    "ETag": _header("The movie's version: send it back in `If-None-Match` for a free 304."),
    "Cache-Control": _header("How long a client or cache may reuse the answer."),
}


def _documented_headers(schema: dict[str, Any], cache_control: str | None = None) -> None:
    """Declare the response headers the functions send, which FastAPI's document leaves out: `X-Request-Id` on every
    answer; the rate headers on every answer to a keyed operation (one that declares the per-key 429), with
    `Retry-After` on its 429 and on every 503; `Link` on the list envelopes (a `next_cursor` in the 200's schema);
    `ETag` and `Cache-Control` on an operation that answers 304 (its 200 and its 304); `ETag` on a 412."""
    components = schema.get("components", {}).get("schemas", {})
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses: dict[str, Any] = operation.get("responses") or {}
            keyed = "per-key" in str((responses.get("429") or {}).get("description", ""))
            ok_schema = (((responses.get("200") or {}).get("content") or {}).get("application/json") or {}).get(
                "schema", {}
            )
            ref = str(ok_schema.get("$ref", "")).rsplit("/", 1)[-1]
            listed = "next_cursor" in (components.get(ref, {}).get("properties") or {})
            for status, response in responses.items():
                headers = response.setdefault("headers", {})
                headers.setdefault("X-Request-Id", _REQUEST_ID)
                if keyed and status in ("200", "304", "429"):
                    for name, header in _RATE_HEADERS.items():
                        headers.setdefault(name, header)
                if status in ("429", "503"):
                    headers.update({k: v for k, v in _RETRY_AFTER.items() if k not in headers})
                if listed and status == "200":
                    headers.update({k: v for k, v in _LINK.items() if k not in headers})
                if "304" in responses and status in ("200", "304"):
                    headers.update({k: v for k, v in _CACHING.items() if k not in headers})
                if status == "412":
                    headers.setdefault("ETag", _header("The current version, which `If-Match` did not name."))
                if cache_control:
                    headers.setdefault("Cache-Control", _header(f"`{cache_control}`: no cache may keep this answer."))


def lambda_handler(app: FastAPI, logger: Any) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point for `app`: Mangum (lifespan off: no startup work) inside Powertools'
    `inject_lambda_context`, which puts the Lambda request id on every log line and clears per-request keys.

    Problem documents travel as text: API Gateway without binary media types would otherwise hand the client
    Mangum's base64 encoding of them. An app with keyed routes gets its admissions sent ahead
    (key_auth.admitting_ahead). A custom domain's base path is taken off the event's `path` first
    (paths.without_base_path), or every route behind `https://api.example.com/v1/` would be a 404."""
    adapter = Mangum(app, lifespan="off", text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, PROBLEM_MEDIA_TYPE])
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = logger.inject_lambda_context(adapter, clear_state=True)
    admitting = admitting_ahead(app, handler, logger)

    def entry(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return admitting(without_base_path(event), context)

    return entry
