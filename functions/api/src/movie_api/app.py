"""The public API's FastAPI application: its routers on the shared web layer (movie_web)."""

from __future__ import annotations

from fastapi import FastAPI

from movie_api.routes import meta, movies, search
from movie_api.settings import api_settings
from movie_web.app import API_KEY_SCHEMES
from movie_web.app import create_app as create_web_app
from movie_web.docs import docs_router
from movie_web.problems import AppLogger

DESCRIPTION = """Movie and TV data with self-serve keys.

Send your key as `X-API-KEY: <key>` or `Authorization: Bearer <key>`. Lists use TMDB's envelope
(`page`, `per_page`, `results`, `total_results`, `total_pages`). Errors are RFC 9457 problem documents with a
stable `code`. Every keyed response says how much of your quota is left (`X-RateLimit-*`, `RateLimit`)."""

PUBLIC_PATHS = ("/health", "/openapi.json", "/docs")


def create_app(logger: AppLogger) -> FastAPI:
    """The app; reads its settings now, so missing configuration fails at cold start, not on a request."""
    settings = api_settings()
    return create_web_app(
        title="Marquee API",
        description=DESCRIPTION,
        routers=[movies.router, search.router, meta.router, docs_router(title="Marquee API")],
        cors_allow_origin=settings.cors_allow_origin,
        logger=logger,
        security_schemes=API_KEY_SCHEMES,
        public_paths=PUBLIC_PATHS,
    )
