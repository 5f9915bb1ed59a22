"""SyncFunction's settings: one frozen object read from the environment once per process (cold start)."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from dataclasses import dataclass

from movie_common.errors import ConfigurationError

DEFAULT_API_BASE = "https://api.themoviedb.org/3"
# TMDB rate-limits at "somewhere in the 40 requests per second range"; the sync never asks for more.
MAX_REQUESTS_PER_SECOND = 40.0


def _int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(name: str, default: float, *, minimum: float, maximum: float | None = None) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigurationError(f"{name} must be at most {maximum}, got {value}")
    return value


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class SyncSettings:
    """How the sync talks to TMDB and what it pulls.

    `api_token` is TMDB's v3 API read access token (a Bearer token): from TMDB_API_TOKEN, or fetched at cold start
    from the Secrets Manager secret named by TMDB_API_TOKEN_SECRET_ARN (`token_secret_arn`). None means the sync is
    not configured: a run then refuses with a clear message and changes nothing.
    """

    api_base: str = DEFAULT_API_BASE
    api_token: str | None = None
    token_secret_arn: str | None = None
    language: str = "en-US"
    list_pages: int = 5  # pages of each TMDB list per run (20 titles a page)
    refresh_after_days: int = 90  # TMDB rows older than this are fetched again (TMDB's terms cap caching)
    configuration_max_age_days: int = 3  # /configuration and the genre lists are cached this long
    include_adult: bool = False
    max_cast: int = 10  # top-billed cast members kept as actors
    requests_per_second: float = 30.0  # TMDB allows about 40 per second; the margin absorbs jitter
    concurrency: int = 8  # detail requests in flight at once
    connect_timeout: float = 5.0  # seconds
    read_timeout: float = 10.0  # seconds per socket read
    max_retries: int = 5  # per request, for 429, 5xx and timeouts
    backoff_factor: float = 0.5  # seconds; doubled each retry, plus up to backoff_jitter
    backoff_jitter: float = 0.5
    max_retry_after: float = 60.0  # a longer Retry-After is capped to this many seconds
    stop_margin_seconds: float = 30.0  # stop starting work this long before the Lambda's timeout
    max_attempts: int = 3  # runs in which a title may fail before it is dropped from the queue and reported

    def __repr__(self) -> str:  # the token never reaches a log line
        token = "set" if self.api_token else "unset"
        return f"SyncSettings(api_base={self.api_base!r}, api_token=<{token}>, list_pages={self.list_pages})"


def load_settings() -> SyncSettings:
    """Read the environment; a malformed value fails here, at cold start, naming the variable."""
    token = os.environ.get("TMDB_API_TOKEN", "").strip() or None
    return SyncSettings(
        api_base=(os.environ.get("TMDB_API_BASE", "").strip() or DEFAULT_API_BASE).rstrip("/"),
        api_token=token,
        token_secret_arn=os.environ.get("TMDB_API_TOKEN_SECRET_ARN", "").strip() or None,
        language=os.environ.get("TMDB_LANGUAGE", "").strip() or "en-US",
        list_pages=_int("TMDB_LIST_PAGES", 5, minimum=1),
        refresh_after_days=_int("TMDB_REFRESH_AFTER_DAYS", 90, minimum=1),
        configuration_max_age_days=_int("TMDB_CONFIGURATION_MAX_AGE_DAYS", 3, minimum=1),
        include_adult=_bool("TMDB_INCLUDE_ADULT", False),
        max_cast=_int("TMDB_MAX_CAST", 10, minimum=1),
        requests_per_second=_float("TMDB_REQUESTS_PER_SECOND", 30.0, minimum=0.1, maximum=MAX_REQUESTS_PER_SECOND),
        concurrency=_int("TMDB_CONCURRENCY", 8, minimum=1),
        stop_margin_seconds=_float("SYNC_STOP_MARGIN_SECONDS", 30.0, minimum=0.0),
    )


def token_from_secret_string(secret: str) -> str:
    """The token in a secret: the plain token, or JSON with "token", "TMDB_API_TOKEN" or "api_read_access_token"."""
    text = secret.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise ConfigurationError("the TMDB token secret is neither a token nor JSON") from None
        for key in ("token", "TMDB_API_TOKEN", "api_read_access_token"):
            if isinstance(data.get(key), str) and data[key].strip():
                return str(data[key]).strip()
        raise ConfigurationError('the TMDB token secret has no "token" field')
    if not text:
        raise ConfigurationError("the TMDB token secret is empty")
    return text


@functools.cache
def get_settings() -> SyncSettings:
    """The settings, with the token fetched once per environment from Secrets Manager when only its ARN is set
    (through the AWS Parameters and Secrets Lambda Extension, like the database URL)."""
    settings = load_settings()
    if settings.api_token is None and settings.token_secret_arn is not None:
        from movie_common.secrets import fetch_secret_string

        token = token_from_secret_string(fetch_secret_string(settings.token_secret_arn))
        settings = dataclasses.replace(settings, api_token=token)
    return settings
