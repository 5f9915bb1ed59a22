"""Domain errors of the common layer: each class maps to one stable problem `code` and HTTP status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


class MarqueeError(Exception):
    """Base of every error a user can cause or see; the API renders it as an RFC 9457 problem."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Request failed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ConfigurationError(RuntimeError):
    """A required setting is missing or unsafe; raised at cold start, never per request."""


class NotFoundError(MarqueeError):
    code = "not_found"
    status = 404
    title = "Not found"


@dataclass(frozen=True)
class InvalidParameter:
    """One bad input: where it was (`query`, `path`, `header`, `body`), its name, and why it was refused."""

    name: str
    location: str
    reason: str


class RequestValidationError(MarqueeError):
    code = "validation_error"
    status = 422
    title = "Invalid request parameters"

    def __init__(self, detail: str, errors: list[InvalidParameter]) -> None:
        super().__init__(detail)
        self.errors = errors


class MissingApiKeyError(MarqueeError):
    code = "missing_api_key"
    status = 401
    title = "Missing API key"


class MalformedApiKeyError(MarqueeError):
    code = "malformed_api_key"
    status = 403
    title = "Malformed API key"


class InvalidApiKeyError(MarqueeError):
    code = "invalid_api_key"
    status = 403
    title = "Invalid API key"


class KeySuspendedError(MarqueeError):
    code = "key_suspended"
    status = 403
    title = "API key suspended"


class KeyRevokedError(MarqueeError):
    code = "key_revoked"
    status = 403
    title = "API key revoked"


class KeyExpiredError(MarqueeError):
    code = "key_expired"
    status = 403
    title = "API key expired"


class LimitExceededError(MarqueeError):
    """A per-key limit refused the request; says which limit and when it resets."""

    status = 429

    def __init__(
        self, detail: str, *, limit: int, reset_at: datetime, retry_after: int, headers: dict[str, str]
    ) -> None:
        super().__init__(detail)
        self.limit = limit
        self.reset_at = reset_at
        self.retry_after = retry_after
        self.headers = headers  # the rate-limit headers a refused request still carries


class RateLimitedError(LimitExceededError):
    code = "rate_limited"
    title = "Per-minute rate limit exceeded"


class DailyQuotaExceededError(LimitExceededError):
    code = "daily_quota_exceeded"
    title = "Daily quota exceeded"


class DatabaseUnavailableError(MarqueeError):
    code = "database_unavailable"
    status = 503
    title = "Database unavailable"
