"""The authorizer's decision: verify the key (read-only) and pick the usage plan's gateway key for its tier."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from movie_common import access
from movie_common.database import get_connection
from movie_common.errors import MarqueeError
from movie_common.settings import get_settings


@dataclass(frozen=True)
class Decision:
    allowed: bool
    principal_id: str
    context: dict[str, str | int | bool] = field(default_factory=dict)
    usage_identifier_key: str | None = None


def usage_plan_keys() -> dict[str, str]:
    """Tier -> the value of that tier's API Gateway key (USAGE_PLAN_KEYS, set by template.yaml)."""
    raw = os.environ.get("USAGE_PLAN_KEYS", "").strip()
    return dict(json.loads(raw)) if raw else {}


def authorize(headers: dict[str, str]) -> Decision:
    """Allow or deny; raises MissingApiKeyError when no key was sent (a 401, not a policy)."""
    get_settings()
    raw_key = access.read_key(headers)
    try:
        record = access.check_key(get_connection(), raw_key)
    except MarqueeError as refusal:
        if refusal.status >= 500:
            raise  # an unreachable database is the gateway's 500, not the client's fault
        return Decision(
            allowed=False,
            principal_id="anonymous",
            context={"code": refusal.code, "title": refusal.title, "detail": refusal.detail},
        )
    return Decision(
        allowed=True,
        principal_id=f"key:{record.id}",
        context={"keyId": record.id, "ownerId": record.owner_id, "plan": record.plan},
        usage_identifier_key=usage_plan_keys().get(record.gateway_tier),
    )
