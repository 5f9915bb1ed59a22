"""What the portal's routes share: the use cases' context, the caller's IP, key display, documented answers."""

from __future__ import annotations

from typing import Any

from movie_auth.accounts import Portal
from movie_auth.mail_events import event_publisher
from movie_auth.mailer import get_mail_sender
from movie_auth.schemas import KeyInfo
from movie_auth.settings import auth_settings
from movie_common.db.developer_usage import OwnerKey
from movie_web.client_address import client_ip as client_ip  # re-exported for the portal's routes
from movie_web.schemas import COMMON_RESPONSES, problem_response

PORTAL_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: problem_response("The link's token is not valid (`invalid_token`)."),
    401: problem_response(
        "Wrong email or password (`invalid_credentials`); on `/auth/verify`, not the sign-up's password "
        "(`wrong_password`)."
    ),
    403: problem_response("`email_not_verified` or `account_suspended`."),
    409: problem_response("`email_taken`, `token_used`, `key_request_pending`, ..."),
    410: problem_response("The link has expired (`token_expired`)."),
    429: problem_response("Too many attempts (`too_many_attempts`, `account_locked`); see `Retry-After`."),
    **COMMON_RESPONSES,
}


def portal() -> Portal:
    return Portal(settings=auth_settings(), mail=get_mail_sender(), events=event_publisher())


def mask(last4: str) -> str:
    return "\u2022" * 8 + "-" + "\u2022" * 4 + "-" + "\u2022" * 4 + "-" + "\u2022" * 4 + "-" + "\u2022" * 8 + last4


def key_info(key: OwnerKey) -> KeyInfo:
    return KeyInfo(
        id=key.id,
        masked=mask(key.last4),
        last4=key.last4,
        plan=key.plan,
        status=key.status,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        expires_at=key.expires_at,
    )
