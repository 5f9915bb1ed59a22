"""Sessions of both portals against a real PostgreSQL: signed tokens whose session rows can be revoked at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from movie_common import sessions
from movie_common.errors import ForbiddenRoleError, InvalidSessionError, SessionExpiredError, SessionRevokedError


@pytest.mark.slow
def test_a_started_session_verifies_with_its_role(conn: Any) -> None:
    token = sessions.start_session(conn, role="developer", subject_id=41)
    assert token.token_type == "bearer" and token.expires_in == 3600
    session = sessions.verify_session(conn, token.access_token, role="developer")
    assert (session.role, session.subject_id, session.id) == ("developer", 41, token.session_id)
    claims = jwt.decode(token.access_token, options={"verify_signature": False})
    assert claims["sub"] == "developer:41" and claims["exp"] - claims["iat"] == 3600


def test_a_developer_session_is_refused_on_an_admin_route(conn: Any) -> None:
    token = sessions.start_session(conn, role="developer", subject_id=1)
    with pytest.raises(ForbiddenRoleError, match=r"^This route needs an admin session\.$"):
        sessions.verify_session(conn, token.access_token, role="admin")
    admin = sessions.start_session(conn, role="admin", subject_id=1)
    with pytest.raises(ForbiddenRoleError, match=r"^This route needs a developer session\.$"):
        sessions.verify_session(conn, admin.access_token, role="developer")


def test_logout_ends_the_session_at_once(conn: Any) -> None:
    token = sessions.start_session(conn, role="admin", subject_id=7)
    assert sessions.end_session(conn, session_id=token.session_id)
    with pytest.raises(SessionRevokedError):
        sessions.verify_session(conn, token.access_token, role="admin")
    assert not sessions.end_session(conn, session_id=token.session_id)  # already ended


def test_ending_all_sessions_of_one_subject_leaves_the_others(conn: Any) -> None:
    first = sessions.start_session(conn, role="developer", subject_id=5)
    second = sessions.start_session(conn, role="developer", subject_id=5)
    other = sessions.start_session(conn, role="developer", subject_id=6)
    assert sessions.end_all_sessions(conn, role="developer", subject_id=5, reason="password_changed") == 2
    for token in (first, second):
        with pytest.raises(SessionRevokedError):
            sessions.verify_session(conn, token.access_token, role="developer")
    assert sessions.verify_session(conn, other.access_token, role="developer").subject_id == 6


def test_an_expired_session_is_refused(conn: Any) -> None:
    token = sessions.start_session(conn, role="developer", subject_id=3)
    conn.execute("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = %s", (token.session_id,))
    with pytest.raises(SessionExpiredError):
        sessions.verify_session(conn, token.access_token, role="developer")


def _forge(claims: dict[str, Any], secret: str | None = None) -> str:
    return jwt.encode(claims, secret or sessions.session_settings().secret, algorithm="HS256")


def test_tokens_that_are_not_ours_are_invalid(conn: Any) -> None:
    real = sessions.start_session(conn, role="developer", subject_id=9)
    now = datetime.now(UTC)
    base = {"iss": "marquee", "role": "developer", "iat": int(now.timestamp())}
    exp = int((now + timedelta(hours=1)).timestamp())
    forged = [
        "not.a.jwt",
        _forge({**base, "sub": "developer:9", "sid": str(real.session_id), "exp": exp}, secret="x" * 40),
        _forge({**base, "sub": "developer:10", "sid": str(real.session_id), "exp": exp}),  # someone else's session
        _forge({**base, "sub": "developer:9", "sid": str(uuid.uuid4()), "exp": exp}),  # no such session
        _forge({**base, "sub": "developer:9", "sid": "nope", "exp": exp}),
        _forge({**base, "sub": "developer:9", "exp": exp}),  # no session id
        jwt.encode({**base, "sub": "developer:9", "sid": str(real.session_id), "exp": exp}, key="", algorithm="none"),
    ]
    for token in forged:
        with pytest.raises(InvalidSessionError):
            sessions.verify_session(conn, token, role="developer")


def test_an_expired_token_is_expired_even_if_its_row_is_not(conn: Any) -> None:
    real = sessions.start_session(conn, role="developer", subject_id=9)
    past = int((datetime.now(UTC) - timedelta(minutes=5)).timestamp())
    token = _forge(
        {"iss": "marquee", "role": "developer", "sub": "developer:9", "sid": str(real.session_id), "iat": past - 60,
         "exp": past}
    )  # fmt: skip
    with pytest.raises(SessionExpiredError):
        sessions.verify_session(conn, token, role="developer")
