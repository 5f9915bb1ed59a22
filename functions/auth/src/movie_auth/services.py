"""The authorizer's decision: verify the key (read-only) and pick the usage plan's gateway key for its tier.

A key's Allow is kept for AUTHORIZER_CACHE_SECONDS (default 60) in the warm environment, as API Gateway's own
authorizer cache would keep it: that cache needs an identity source, and this authorizer has none (the key may come
in X-API-KEY or in Authorization). Keeping it is safe because the API function checks the key of every request
again in its admission (movie_common.access.admit) and refuses a key revoked, suspended or expired meanwhile with
the same problem (403 and its code) as the authorizer's Deny; what lags by up to the TTL is only which tier's
gateway throttle applies after a plan change. Refusals are never kept, so a key issued a moment ago works at once.
Kept by the key's SHA-256, never its value; at most ALLOW_CACHE_SIZE keys, the least recently used dropped first.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cachetools import TTLCache

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


ALLOW_CACHE_SIZE = 10_000


@functools.cache
def _allowed_keys() -> TTLCache[bytes, Decision] | None:
    """This environment's kept Allows (key SHA-256 -> decision); None when AUTHORIZER_CACHE_SECONDS is 0."""
    seconds = authorizer_settings().allow_cache_seconds
    return TTLCache(maxsize=ALLOW_CACHE_SIZE, ttl=seconds) if seconds > 0 else None


def authorize(headers: Mapping[str, Iterable[str]]) -> Decision:
    """Allow or deny a request from all its header values (name -> every value); an Allow may come from this
    environment's kept Allows (see the module's docstring), with no database round trip.

    Raises MissingApiKeyError when no key was sent (API Gateway's 401), and DatabaseUnavailableError or
    QueryTimeoutError when the key cannot be checked (the gateway's AUTHORIZER_FAILURE, a 503). Every other
    refusal is the client's doing and becomes a Deny carrying its problem (a 4xx), never a 5xx.
    """
    usage_plan_keys = authorizer_settings().usage_plan_keys
    allowed = _allowed_keys()
    try:
        key_hash = access.hash_key(access.read_key(headers))
        if allowed is not None and (kept := allowed.get(key_hash)) is not None:
            return kept
        standing = access.check_key_hash(get_connection(), key_hash)
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
    decision = Decision(
        allowed=True,
        principal_id=f"key:{standing.key_id}",
        context={"keyId": standing.key_id, "ownerId": standing.owner_id, "plan": standing.plan},
        usage_identifier_key=usage_plan_keys[standing.gateway_tier],
    )
    if allowed is not None:
        allowed[key_hash] = decision
    return decision
