"""The public API's FastAPI application: routers, problem handlers, middleware and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from movie_api.middleware import RequestContextMiddleware
from movie_api.problems import install_problem_handlers
from movie_api.routes import meta, movies, search
from movie_common.settings import get_settings

DESCRIPTION = """Movie and TV data with self-serve keys.

Send your key as `X-API-KEY: <key>` or `Authorization: Bearer <key>`. Lists use TMDB's envelope
(`page`, `per_page`, `results`, `total_results`, `total_pages`). Errors are RFC 9457 problem documents with a
stable `code`. Every keyed response says how much of your quota is left (`X-RateLimit-*`, `RateLimit`)."""

PUBLIC_PATHS = {"/health", "/openapi.json", "/docs"}


def create_app() -> FastAPI:
    settings = get_settings()  # fails at cold start if configuration is missing, not on the first request
    app = FastAPI(
        title="Marquee API",
        version="1.0.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    install_problem_handlers(app)
    app.include_router(movies.router)
    app.include_router(search.router)
    app.include_router(meta.router)
    app.add_middleware(RequestContextMiddleware, allow_origin=settings.cors_allow_origin)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {})["securitySchemes"] = {
                "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-KEY"},
                "BearerKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The same key as a bearer token.",
                },
            }
            for path, operations in schema["paths"].items():
                if path not in PUBLIC_PATHS:
                    for operation in operations.values():
                        operation["security"] = [{"ApiKeyHeader": []}, {"BearerKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
