"""AuthFunction's settings, read once at cold start. The function has two entry points: the key authorizer
(USAGE_PLAN_KEYS: the gateway key of each tier's usage plan) and the developer portal's app (CORS origin, portal
URL for emailed links, default plan, mail backend)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from movie_common.errors import ConfigurationError
from movie_common.settings import Settings, env_int, env_json_object, env_str, get_settings

if TYPE_CHECKING:  # the authorizer imports this module too: it must not pay for smtplib, ssl and email
    from movie_common.mail import MailSettings

TIERS = ("free", "pro", "unlimited")


# How long a warm authorizer keeps a key's Allow (AUTHORIZER_CACHE_SECONDS; 0: never). API Gateway's own authorizer
# cache defaults to 300 s and allows up to 3600 s; it cannot serve here, having no identity source (see services).
DEFAULT_ALLOW_CACHE_SECONDS = 60


@dataclass(frozen=True)
class AuthorizerSettings:
    common: Settings
    usage_plan_keys: dict[str, str]  # tier -> the value of that tier's API Gateway key
    allow_cache_seconds: int = DEFAULT_ALLOW_CACHE_SECONDS


def load_authorizer_settings() -> AuthorizerSettings:
    """Fails naming the variable when USAGE_PLAN_KEYS is not a JSON object of tier -> key, or lacks a tier, or
    when AUTHORIZER_CACHE_SECONDS is not a whole number of seconds from 0 to 3600."""
    common = get_settings()
    keys = env_json_object("USAGE_PLAN_KEYS")
    missing = [tier for tier in TIERS if not isinstance(keys.get(tier), str) or not keys[tier]]
    if missing:
        raise ConfigurationError(f"USAGE_PLAN_KEYS must map every tier to its gateway key; missing {missing}")
    return AuthorizerSettings(
        common=common,
        usage_plan_keys={tier: str(keys[tier]) for tier in TIERS},
        allow_cache_seconds=env_int("AUTHORIZER_CACHE_SECONDS", DEFAULT_ALLOW_CACHE_SECONDS, minimum=0, maximum=3600),
    )


@functools.cache
def authorizer_settings() -> AuthorizerSettings:
    return load_authorizer_settings()


@dataclass(frozen=True)
class AuthSettings:
    """The portal app's settings. CORS_ALLOW_ORIGIN: the portal site's origin (movie_web.settings); PORTAL_URL:
    where emailed links point (default: that origin, https required outside local mode); DEFAULT_PLAN: the plan
    of keys issued on verification (default free); mail: MAIL_BACKEND and the rest (movie_common.mail)."""

    portal_url: str
    default_plan: str
    mail: MailSettings
    cors_allow_origin: str = "http://127.0.0.1:8080"


def load_auth_settings() -> AuthSettings:
    """Fails naming the variable when one is missing or malformed (ConfigurationError)."""
    from movie_common.mail import load_mail_settings
    from movie_web.settings import cors_allow_origin  # the portal app has the web layer; the authorizer does not

    common = get_settings()
    origin = cors_allow_origin(common)
    portal_url = (env_str("PORTAL_URL") or origin).rstrip("/")
    if not portal_url.startswith(("https://", "http://")):
        raise ConfigurationError(f"PORTAL_URL must be the portal's http(s) origin, got {portal_url!r}")
    if not common.is_local and not portal_url.startswith("https://"):
        raise ConfigurationError("PORTAL_URL must use https outside local mode (links carry one-time tokens)")
    return AuthSettings(
        portal_url=portal_url,
        default_plan=env_str("DEFAULT_PLAN", "free") or "free",
        mail=load_mail_settings(local=common.is_local),
        cors_allow_origin=origin,
    )


@functools.cache
def auth_settings() -> AuthSettings:
    return load_auth_settings()
