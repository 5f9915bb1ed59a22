"""The admin API's FastAPI application: its routers on the shared web layer, every route under /admin/ and every
one but login behind an admin session."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from movie_admin.routes import audit, developers, exports, ingest, keys, movies, plans, requests, session, sync
from movie_admin.settings import admin_settings
from movie_web.app import SESSION_SCHEMES
from movie_web.app import create_app as create_web_app
from movie_web.problems import AppLogger
from movie_web.query import single_valued_parameters

DESCRIPTION = """Run Marquee: keys, developers, reissue requests, plans, the request log, analytics, the catalogue,
CSV uploads, TMDB sync runs and the audit log. Sign in with `POST /admin/login` and send the token as
`Authorization: Bearer <token>`; every other route refuses anonymous calls and developer sessions. Errors are
RFC 9457 problem documents with a stable `code`. Every change is written to the audit log with the change itself."""

# Login, the document itself, and (one-machine stack only) export downloads, whose random name is the credential.
PUBLIC_PATHS = ("/admin/login", "/admin/openapi.json", "/admin/exports/{name}")


ADMIN_MAX_BODY_BYTES = 256 * 1024


def create_app(logger: AppLogger) -> FastAPI:
    """The app; reads its settings now, so missing configuration fails at cold start, not on a request."""
    settings = admin_settings()
    return create_web_app(
        title="Marquee admin API",
        description=DESCRIPTION,
        routers=[
            session.public,
            exports.public,
            session.router,
            requests.router,
            keys.router,
            developers.router,
            plans.router,
            movies.router,
            ingest.router,
            sync.router,
            audit.router,
        ],
        cors_allow_origin=settings.cors_allow_origin,
        logger=logger,
        security_schemes=SESSION_SCHEMES,
        public_paths=PUBLIC_PATHS,
        openapi_url="/admin/openapi.json",
        dependencies=[Depends(single_valued_parameters)],  # ?page=1&page=2 is a 422 naming it, as in the public API
        cache_control="no-store",  # keys, session tokens, account data: never kept by a cache
        # A movie edit may carry a 20,000-character plot, escaped in JSON as up to 6 bytes a character.
        max_body_bytes=ADMIN_MAX_BODY_BYTES,
    )
