"""The authorizer's decision: verify the key (read-only) and pick the usage plan's gateway key for its tier."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from movie_auth.settings import authorizer_settings
from movie_common import access
from movie_common.database import get_connection
from movie_common.errors import MarqueeError, MissingApiKeyError


@dataclass(frozen=True)
class Decision:
    allowed: bool
    principal_id: str
    context: dict[str, str | int | bool] = field(default_factory=dict)
    usage_identifier_key: str | None = None


def authorize(headers: Mapping[str, Iterable[str]]) -> Decision:
    """Allow or deny a request from all its header values (name -> every value).

    Raises MissingApiKeyError when no key was sent (API Gateway's 401), and DatabaseUnavailableError or
    QueryTimeoutError when the key cannot be checked (the gateway's AUTHORIZER_FAILURE, a 503). Every other
    refusal is the client's doing and becomes a Deny carrying its problem (a 4xx), never a 5xx.
    """
    usage_plan_keys = authorizer_settings().usage_plan_keys
    try:
        standing = access.check_key(get_connection(), access.read_key(headers))
    except MissingApiKeyError:
        raise
    except MarqueeError as refusal:
        if refusal.status >= 500:
            raise
        return Decision(
            allowed=False,
            principal_id="anonymous",
            context={"code": refusal.code, "title": refusal.title, "detail": refusal.detail},
        )
    return Decision(
        allowed=True,
        principal_id=f"key:{standing.key_id}",
        context={"keyId": standing.key_id, "ownerId": standing.owner_id, "plan": standing.plan},
        usage_identifier_key=usage_plan_keys[standing.gateway_tier],
    )
