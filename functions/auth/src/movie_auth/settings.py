"""KeyAuthorizerFunction's settings, read once at cold start: the shared database settings and the gateway key of
each tier's usage plan (USAGE_PLAN_KEYS, set by template.yaml)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from movie_common.errors import ConfigurationError
from movie_common.settings import Settings, env_json_object, get_settings

TIERS = ("free", "pro", "unlimited")


@dataclass(frozen=True)
class AuthorizerSettings:
    common: Settings
    usage_plan_keys: dict[str, str]  # tier -> the value of that tier's API Gateway key


def load_authorizer_settings() -> AuthorizerSettings:
    """Fails naming the variable when USAGE_PLAN_KEYS is not a JSON object of tier -> key, or lacks a tier."""
    common = get_settings()
    keys = env_json_object("USAGE_PLAN_KEYS")
    missing = [tier for tier in TIERS if not isinstance(keys.get(tier), str) or not keys[tier]]
    if missing:
        raise ConfigurationError(f"USAGE_PLAN_KEYS must map every tier to its gateway key; missing {missing}")
    return AuthorizerSettings(common=common, usage_plan_keys={tier: str(keys[tier]) for tier in TIERS})


@functools.cache
def authorizer_settings() -> AuthorizerSettings:
    return load_authorizer_settings()
