"""HTTP routes for accounts: sign-up, email verification, sign-in/out and passwords (no API key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from movie_auth import accounts
from movie_auth.routes.common import PORTAL_RESPONSES, client_ip, key_info, portal
from movie_auth.schemas import (
    Accepted,
    EmailRequest,
    LoginRequest,
    ResetRequest,
    SessionGrant,
    SignupAccepted,
    SignupRequest,
    Verified,
    VerifyRequest,
)
from movie_common.database import get_connection
from movie_web.session_auth import LOGOUT_RESPONSES, DeveloperSessionToEnd

router = APIRouter(prefix="/auth", tags=["accounts"])


@router.post("/signup", status_code=status.HTTP_202_ACCEPTED, response_model=SignupAccepted, responses=PORTAL_RESPONSES)
async def signup(body: SignupRequest, request: Request) -> SignupAccepted:
    """Create a developer account and email a confirmation link (valid 24 hours). Only Gmail, Yahoo and
    Outlook/Hotmail/Live addresses; disposable domains and addresses that reach the same mailbox as an existing
    account are refused. Codes: `invalid_email`, `email_domain_not_allowed`, `disposable_email`, `email_taken`,
    `weak_password`, `password_like_email`, `password_too_long`, `validation_error`, `too_many_attempts`,
    `mail_unavailable`."""
    receipt = accounts.signup(
        get_connection(),
        portal(),
        name=body.name,
        email=body.email,
        password=body.password,
        client_ip=client_ip(request),
    )
    return SignupAccepted(
        status="verification_sent",
        email=receipt.email,
        detail="Check your inbox: the confirmation link works for 24 hours.",
    )


@router.post("/verify", response_model=Verified, responses=PORTAL_RESPONSES)
async def verify(body: VerifyRequest, request: Request) -> Verified:
    """Confirm the email address with the emailed token and the password chosen at that sign-up (only the latest
    sign-up's link works). Answers the new API key in `api_key`, once (only its hash is kept), and a session. A
    wrong password spends nothing and counts as a failed sign-in. Codes: `wrong_password`, `invalid_token`,
    `token_used`, `token_expired`, `account_suspended`, `too_many_attempts`, `account_locked`,
    `default_plan_missing` (503: the service's DEFAULT_PLAN names no plan)."""
    done = accounts.verify_email(
        get_connection(), portal(), token=body.token, password=body.password, client_ip=client_ip(request)
    )
    return Verified(
        api_key=done.api_key,
        key=key_info(done.key),
        access_token=done.session.access_token,
        token_type=done.session.token_type,
        expires_in=done.session.expires_in,
    )


@router.post(
    "/verify/resend", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted, responses=PORTAL_RESPONSES
)
async def resend(body: EmailRequest, request: Request) -> Accepted:
    """Email a new confirmation link. The answer is the same whether or not an unconfirmed account uses the
    address. Limited per address and per network (`too_many_attempts`, with `Retry-After`)."""
    detail = accounts.resend_verification(get_connection(), portal(), email=body.email, client_ip=client_ip(request))
    return Accepted(detail=detail)


@router.post("/login", response_model=SessionGrant, responses=PORTAL_RESPONSES)
async def login(body: LoginRequest, request: Request) -> SessionGrant:
    """Sign in: `{access_token, token_type: "bearer", expires_in}`. Repeated failures from one address lock the
    account for that address for a while; many more from everywhere lock it for every address the developer has not
    signed in from lately (`account_locked`, 429 with `Retry-After`). Codes: `invalid_credentials`,
    `email_not_verified`, `account_suspended`, `too_many_attempts`."""
    token = accounts.login(get_connection(), email=body.email, password=body.password, client_ip=client_ip(request))
    return SessionGrant(access_token=token.access_token, token_type=token.token_type, expires_in=token.expires_in)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=LOGOUT_RESPONSES)
async def logout(session: DeveloperSessionToEnd) -> Response:
    """End this session on the server: its token stops working at once. Always 204: signing out again, or with
    an expired, ended, invalid or missing token, changes nothing and answers the same (there is no session to
    end, and the answer does not say whether the token was good)."""
    if session is not None:
        accounts.logout(get_connection(), session_id=session.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/password/forgot", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted, responses=PORTAL_RESPONSES
)
async def forgot_password(body: EmailRequest, request: Request) -> Accepted:
    """Email a password-reset link (valid 1 hour, once). The answer is the same whether or not an account uses
    the address. Limited per address and per network."""
    detail = accounts.forgot_password(get_connection(), portal(), email=body.email, client_ip=client_ip(request))
    return Accepted(detail=detail)


@router.post("/password/reset", response_model=Accepted, responses=PORTAL_RESPONSES)
async def reset_password(body: ResetRequest, request: Request) -> Accepted:
    """Choose a new password with the emailed token; every session of the account ends. Codes: `invalid_token`,
    `token_used`, `token_expired`, `weak_password`, `password_like_email`, `password_too_long`, `account_suspended`."""
    accounts.reset_password(get_connection(), token=body.token, password=body.password, client_ip=client_ip(request))
    return Accepted(detail="Your password is changed and every session is signed out. Sign in with the new one.")
