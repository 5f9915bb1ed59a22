"""SyncFunction's settings: one frozen object read from the environment once per process (cold start)."""

from __future__ import annotations

import dataclasses
import json
import threading
import urllib.parse
from dataclasses import dataclass

from movie_common.errors import ConfigurationError
from movie_common.settings import env_bool, env_int, env_str

DEFAULT_API_BASE = "https://api.themoviedb.org/3"
# TMDB rate-limits at "somewhere in the 40 requests per second range"; the sync never asks for more.
MAX_REQUESTS_PER_SECOND = 40.0
# TMDB serves pages 1 to 500 of a list ("Invalid page: Pages start at 1 and max at 500"); the template's TmdbListPages
# has the same bound.
MAX_LIST_PAGES = 500


def _float(name: str, default: float, *, minimum: float, maximum: float | None = None) -> float:
    raw = env_str(name)
    if raw is None:
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
    return SyncSettings(
        api_base=_api_base(),
        api_token=env_str("TMDB_API_TOKEN"),
        token_secret_arn=env_str("TMDB_API_TOKEN_SECRET_ARN"),
        language=env_str("TMDB_LANGUAGE") or "en-US",
        list_pages=env_int("TMDB_LIST_PAGES", 5, minimum=1, maximum=MAX_LIST_PAGES),
        refresh_after_days=env_int("TMDB_REFRESH_AFTER_DAYS", 90, minimum=1),
        configuration_max_age_days=env_int("TMDB_CONFIGURATION_MAX_AGE_DAYS", 3, minimum=1),
        include_adult=env_bool("TMDB_INCLUDE_ADULT", False),
        max_cast=env_int("TMDB_MAX_CAST", 10, minimum=1),
        requests_per_second=_float("TMDB_REQUESTS_PER_SECOND", 30.0, minimum=0.1, maximum=MAX_REQUESTS_PER_SECOND),
        concurrency=env_int("TMDB_CONCURRENCY", 8, minimum=1),
        stop_margin_seconds=_float("SYNC_STOP_MARGIN_SECONDS", 30.0, minimum=0.0),
    )


def _api_base() -> str:
    """TMDB_API_BASE (default TMDB's own, DEFAULT_API_BASE): an http(s) URL with a host and without a query or
    fragment, as the paths (`/movie/603`) are appended to it. ConfigurationError naming the variable otherwise."""
    value = env_str("TMDB_API_BASE")
    if value is None:
        return DEFAULT_API_BASE
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigurationError(
            f"TMDB_API_BASE must be an http(s) URL such as {DEFAULT_API_BASE}, without a query, got {value!r}"
        )
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise ConfigurationError(f"TMDB_API_BASE has a port that is not a number from 0 to 65535: {value!r}") from None
    return value.rstrip("/")


def token_from_secret_string(secret: str) -> str | None:
    """The token in a secret: the plain token, or JSON with "token" (also "TMDB_API_TOKEN" or
    "api_read_access_token"); None when the secret holds an empty token (the sync is then not configured)."""
    text = secret.strip()
    if not text.startswith("{"):
        return text or None
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigurationError("the TMDB token secret is neither a token nor JSON") from None
    for key in ("token", "TMDB_API_TOKEN", "api_read_access_token"):
        value = data.get(key)
        if isinstance(value, str):
            return value.strip() or None
    raise ConfigurationError('the TMDB token secret has no "token" field')


_lock = threading.Lock()
_settings: SyncSettings | None = None


def get_settings() -> SyncSettings:
    """This environment's settings, with the token fetched from Secrets Manager when only its ARN is set (through
    the AWS Parameters and Secrets Lambda Extension, like the database URL). Kept for the environment's life once
    a token was found; while the secret holds none, it is read again on the next call, so an operator's
    put-secret-value takes effect without a redeploy."""
    global _settings
    with _lock:
        if _settings is not None:
            return _settings
        settings = load_settings()
        if settings.api_token is None and settings.token_secret_arn is not None:
            from movie_common.secrets import fetch_secret_string

            token = token_from_secret_string(fetch_secret_string(settings.token_secret_arn))
            settings = dataclasses.replace(settings, api_token=token)
        if settings.api_token is not None or settings.token_secret_arn is None:
            _settings = settings
        return settings


def clear_settings() -> None:
    """Forget the settings (tests change the environment)."""
    global _settings
    with _lock:
        _settings = None
