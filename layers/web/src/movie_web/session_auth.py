"""The signed-in developer or admin as FastAPI dependencies: a bearer session token verified against the
`sessions` table (movie_common.sessions), with its role checked. Only the auth and admin functions import this."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from movie_common.database import get_connection
from movie_common.errors import (
    ForbiddenRoleError,
    InvalidSessionError,
    NotAuthenticatedError,
    SessionExpiredError,
    SessionRevokedError,
)
from movie_common.sessions import Role, Session, verify_session
from movie_web.problems import AppLogger
from movie_web.schemas import COMMON_RESPONSES, problem_response


def bearer_token(request: Request) -> str:
    """The token of `Authorization: Bearer <token>`; NotAuthenticatedError (401) without one."""
    values = request.headers.getlist("authorization")
    tokens = {
        credentials.strip()
        for value in values
        for scheme, _, credentials in [value.strip().partition(" ")]
        if scheme.lower() == "bearer" and credentials.strip()
    }
    if len(tokens) != 1:
        raise NotAuthenticatedError("Sign in and send the session token as Authorization: Bearer <token>.")
    return tokens.pop()


def _current(request: Request, role: Role) -> Session:
    session = verify_session(get_connection(), bearer_token(request), role=role)
    request.state.session = session
    logger: AppLogger = request.app.state.logger
    logger.append_keys(session_role=role, subject_id=session.subject_id)
    return session


async def current_developer(request: Request) -> Session:
    """The signed-in developer's open session; 401 without one, 403 for an admin's."""
    return _current(request, "developer")


async def current_admin(request: Request) -> Session:
    """The signed-in admin's open session; 401 without one, 403 for a developer's."""
    return _current(request, "admin")


CurrentDeveloper = Annotated[Session, Depends(current_developer)]
CurrentAdmin = Annotated[Session, Depends(current_admin)]

# What a request may carry that names no open session of the portal it signs out of.
_NO_SESSION_TO_END = (
    NotAuthenticatedError,  # no bearer token, or two different ones
    InvalidSessionError,  # forged, malformed, or naming no session
    SessionExpiredError,
    SessionRevokedError,  # signed out already, password changed, account suspended
    ForbiddenRoleError,  # the other portal's session: not this portal's to end
)


def _session_to_end(request: Request, role: Role) -> Session | None:
    """Logout's reading of a request, one rule for both portals: the open `role` session its bearer token names,
    or None when it names none (no token, a forged or invalid one, a session already ended or expired, the other
    portal's session). Logout answers 204 either way, ending the session when there is one: signing out is
    idempotent, a client that retries or signs out twice never sees an error, and the answer tells nobody whether a
    token was good. Sessions are bearer tokens, not cookies, so there is no cookie to clear; the pages drop their
    stored token whatever the answer."""
    try:
        return _current(request, role)
    except _NO_SESSION_TO_END:
        return None


async def developer_session_to_end(request: Request) -> Session | None:
    return _session_to_end(request, "developer")


async def admin_session_to_end(request: Request) -> Session | None:
    return _session_to_end(request, "admin")


DeveloperSessionToEnd = Annotated[Session | None, Depends(developer_session_to_end)]
AdminSessionToEnd = Annotated[Session | None, Depends(admin_session_to_end)]

LOGOUT_RESPONSES: dict[int | str, dict[str, Any]] = {
    204: {"description": "Signed out: the session the token names is ended, or there was none to end (see below)."},
    **COMMON_RESPONSES,
}

SESSION_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: problem_response("No session, or an expired, ended or invalid one (see `code`)."),
    403: problem_response("A session of the wrong kind (`forbidden`)."),
    **COMMON_RESPONSES,
}
