"""Login sessions for both portals: a short-lived JWT (HS256, pyjwt) carrying a session id that the `sessions`
table can revoke, so logout, a password change or a suspension ends a session at once. The API function never
imports this module (the cold-start benchmark checks it)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import jwt

from movie_common.database import Connection
from movie_common.db import sessions as session_rows
from movie_common.errors import (
    ConfigurationError,
    ForbiddenRoleError,
    InvalidSessionError,
    SessionExpiredError,
    SessionRevokedError,
)
from movie_common.secrets import fetch_secret_string
from movie_common.settings import env_int, env_str, get_settings, refuse_default_secret

Role = Literal["developer", "admin"]
ISSUER = "marquee"
ALGORITHM = "HS256"
LOCAL_DEFAULT_SECRET = "marquee-local-development-session-secret-do-not-deploy"  # noqa: S105 - refused outside local
MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class SessionSettings:
    """SESSION_SECRET (or SESSION_SECRET_ARN, a Secrets Manager secret) signs tokens; SESSION_TTL_SECONDS bounds
    their life (default one hour)."""

    secret: str
    ttl_seconds: int


def load_session_settings() -> SessionSettings:
    """Read once per process; a missing, short or development secret outside local mode fails naming the variable."""
    env = get_settings().env
    secret = env_str("SESSION_SECRET")
    arn = env_str("SESSION_SECRET_ARN")
    if secret is None and arn is not None:
        secret = fetch_secret_string(arn).strip()
    if secret is None:
        if env != "local":
            raise ConfigurationError("SESSION_SECRET or SESSION_SECRET_ARN must be set outside local mode")
        secret = LOCAL_DEFAULT_SECRET
    refuse_default_secret("SESSION_SECRET", secret, LOCAL_DEFAULT_SECRET, env=env)
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigurationError(f"SESSION_SECRET must be at least {MIN_SECRET_BYTES} bytes")
    return SessionSettings(secret=secret, ttl_seconds=env_int("SESSION_TTL_SECONDS", 3600, minimum=60, maximum=86400))


@functools.cache
def session_settings() -> SessionSettings:
    return load_session_settings()


@dataclass(frozen=True)
class SessionToken:
    """What a login answers: `{access_token, token_type: "bearer", expires_in}` (seconds)."""

    access_token: str
    token_type: str
    expires_in: int
    session_id: uuid.UUID


@dataclass(frozen=True)
class Session:
    """A verified, open session: who it belongs to and until when."""

    id: uuid.UUID
    role: Role
    subject_id: int
    expires_at: datetime


def start_session(conn: Connection, *, role: Role, subject_id: int) -> SessionToken:
    """Open a session for a developer or an admin and sign its token."""
    settings = session_settings()
    row = session_rows.insert_session(conn, role=role, subject_id=subject_id, ttl_seconds=settings.ttl_seconds)
    claims = {
        "iss": ISSUER,
        "sub": f"{role}:{subject_id}",
        "role": role,
        "sid": str(row.id),
        "iat": int(row.created_at.timestamp()),
        "exp": int(row.expires_at.timestamp()),
    }
    token = jwt.encode(claims, settings.secret, algorithm=ALGORITHM)
    return SessionToken(token, "bearer", settings.ttl_seconds, row.id)


def verify_session(conn: Connection, token: str, *, role: Role) -> Session:
    """The open session a bearer token names, if it is one of `role`'s.

    Raises InvalidSessionError (not our token), SessionExpiredError, SessionRevokedError (logout, password change,
    suspension) or ForbiddenRoleError (a valid session of the other role).
    """
    try:
        claims = jwt.decode(
            token,
            session_settings().secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "sub", "sid", "role"]},
        )
    except jwt.ExpiredSignatureError:
        raise SessionExpiredError("Your session has expired; sign in again.") from None
    except jwt.InvalidTokenError:
        raise InvalidSessionError("The bearer token is not a valid Marquee session; sign in again.") from None
    try:
        session_id = uuid.UUID(str(claims["sid"]))
    except ValueError:
        raise InvalidSessionError("The bearer token is not a valid Marquee session; sign in again.") from None
    row = session_rows.get_session(conn, session_id=session_id)
    if row is None or f"{row.role}:{row.subject_id}" != claims["sub"]:
        raise InvalidSessionError("The bearer token is not a valid Marquee session; sign in again.")
    if row.revoked_at is not None:
        raise SessionRevokedError("This session was ended (signed out, password changed or account suspended).")
    if row.expires_at <= row.now:
        raise SessionExpiredError("Your session has expired; sign in again.")
    if row.role != role:
        raise ForbiddenRoleError(f"This route needs {'an' if role[:1] in 'aeiou' else 'a'} {role} session.")
    return Session(row.id, role, row.subject_id, row.expires_at)


def end_session(conn: Connection, *, session_id: uuid.UUID, reason: str = "logout") -> bool:
    """Revoke one session (logout); False when it had already ended."""
    return session_rows.revoke_session(conn, session_id=session_id, reason=reason)


def end_all_sessions(conn: Connection, *, role: Role, subject_id: int, reason: str) -> int:
    """Revoke every open session of one developer or admin (password change, reset, suspension)."""
    return session_rows.revoke_subject_sessions(conn, role=role, subject_id=subject_id, reason=reason)
