"""The signed-in developer or admin as FastAPI dependencies: a bearer session token verified against the
`sessions` table (movie_common.sessions), with its role checked. Only the auth and admin functions import this."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from movie_common.database import get_connection
from movie_common.errors import NotAuthenticatedError
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

SESSION_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: problem_response("No session, or an expired, ended or invalid one (see `code`)."),
    403: problem_response("A session of the wrong kind (`forbidden`)."),
    **COMMON_RESPONSES,
}
