"""The developer portal's FastAPI application (AuthFunction): its routers on the shared web layer (movie_web)."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from movie_auth.routes import accounts, dashboard
from movie_auth.settings import auth_settings
from movie_web.app import SESSION_SCHEMES
from movie_web.app import create_app as create_web_app
from movie_web.problems import AppLogger
from movie_web.query import single_valued_parameters

DESCRIPTION = """Developer accounts for the Marquee API: sign up, confirm your email to get your key, sign in,
watch your usage and request log, and ask for a replacement key.

Routes that need a session take `Authorization: Bearer <access_token>` from `POST /auth/login` (or
`POST /auth/verify`). Errors are RFC 9457 problem documents with a stable `code`."""

PUBLIC_PATHS = (
    "/auth/signup",
    "/auth/verify",
    "/auth/verify/resend",
    "/auth/login",
    "/auth/password/forgot",
    "/auth/password/reset",
    "/auth/plans",
    "/auth/openapi.json",
)


def create_app(logger: AppLogger) -> FastAPI:
    """The app; reads its settings now, so missing configuration fails at cold start, not on a request."""
    settings = auth_settings()
    return create_web_app(
        title="Marquee developer accounts",
        description=DESCRIPTION,
        routers=[accounts.router, dashboard.router],
        cors_allow_origin=settings.cors_allow_origin,
        logger=logger,
        security_schemes=SESSION_SCHEMES,
        public_paths=PUBLIC_PATHS,
        openapi_url="/auth/openapi.json",
        dependencies=[Depends(single_valued_parameters)],  # a repeated parameter is a 422 naming it
        cache_control="no-store",  # keys, session tokens, account data: never kept by a cache
    )
