"""Admin sign-in: login and logout (the admin routes that need no session: logout ends one if it is sent), and who
is signed in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from movie_admin.routes.deps import ADMIN_DEPENDENCIES, ADMIN_RESPONSES, ActingAdmin
from movie_admin.schemas import AdminOut, LoginBody, SessionOut
from movie_admin.services import admins
from movie_admin.settings import admin_settings
from movie_common import sessions
from movie_common.database import get_connection
from movie_web.client_address import client_ip
from movie_web.schemas import COMMON_RESPONSES, problem_response
from movie_web.session_auth import LOGOUT_RESPONSES, AdminSessionToEnd

public = APIRouter(prefix="/admin", tags=["session"])
router = APIRouter(prefix="/admin", tags=["session"], dependencies=ADMIN_DEPENDENCIES, responses=ADMIN_RESPONSES)


@public.post(
    "/login",
    response_model=SessionOut,
    summary="Sign in as an admin",
    responses={
        401: problem_response("Wrong email or password (`invalid_credentials`); which one is never said."),
        429: problem_response(
            "Too many failed logins from this address, or from everywhere for an address this admin has not signed "
            "in from (`account_locked`), or too many attempts from this address (`too_many_attempts`); retry after "
            "`Retry-After` seconds."
        ),
        **COMMON_RESPONSES,
    },
)
async def login(body: LoginBody, request: Request) -> dict[str, Any]:
    """Exchange an admin's email and password for a session token (send it as `Authorization: Bearer <token>`).
    Repeated wrong passwords from one address lock the account for that address for a while; the lock holds even for
    the right password. Many more from everywhere lock it for every address the admin has not signed in from."""
    conn = get_connection()
    admin = admins.authenticate(
        conn,
        email=body.email,
        password=body.password,
        client_ip=client_ip(request),
        policy=admin_settings().login_policy,
    )
    token = sessions.start_session(conn, role="admin", subject_id=admin.id)
    return {"access_token": token.access_token, "token_type": token.token_type, "expires_in": token.expires_in}


@public.post("/logout", status_code=204, summary="Sign out", responses=LOGOUT_RESPONSES)
async def logout(session: AdminSessionToEnd) -> Response:
    """End this session now: its token is refused from the next request on. Always 204: signing out again, or with
    an expired, ended, invalid or missing token (or a developer's), changes nothing and answers the same."""
    if session is not None:
        sessions.end_session(get_connection(), session_id=session.id)
    return Response(status_code=204)


@router.get("/me", response_model=AdminOut, summary="The signed-in admin")
async def me(request: Request, actor: ActingAdmin) -> AdminOut:
    """The admin this session belongs to."""
    return AdminOut.model_validate(admins.get_admin(get_connection(), admin_id=actor.admin_id or 0))
