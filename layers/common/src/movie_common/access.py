"""API-key access: reading the key from a request, hashing it, admitting requests, and minting new keys."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from movie_common.database import Connection
from movie_common.db import api_keys
from movie_common.db.api_keys import Admission, KeyRecord
from movie_common.errors import (
    DailyQuotaExceededError,
    InvalidApiKeyError,
    KeyExpiredError,
    KeyRevokedError,
    KeySuspendedError,
    MalformedApiKeyError,
    MarqueeError,
    MissingApiKeyError,
    RateLimitedError,
)

_KEY_STATUS_DETAILS: dict[str, tuple[type[MarqueeError], str]] = {
    "key_suspended": (KeySuspendedError, "This API key is suspended; contact support to reactivate it."),
    "key_revoked": (KeyRevokedError, "This API key was revoked; request a new one from the developer portal."),
    "key_expired": (KeyExpiredError, "This API key has expired; request a new one from the developer portal."),
}


def _key_status_error(outcome: str) -> MarqueeError:
    """A new error each time: a shared instance would pile up tracebacks across requests and threads."""
    error_class, detail = _KEY_STATUS_DETAILS[outcome]
    return error_class(detail)


def read_key(headers: Mapping[str, str]) -> str:
    """The raw key from `X-API-KEY` or `Authorization: Bearer`; header names are matched case-insensitively."""
    lowered = {name.lower(): value for name, value in headers.items()}
    key = lowered.get("x-api-key", "").strip()
    if not key:
        scheme, _, credentials = lowered.get("authorization", "").strip().partition(" ")
        if scheme.lower() == "bearer":
            key = credentials.strip()
        elif scheme:
            raise MalformedApiKeyError("The Authorization header must use the Bearer scheme: Bearer <key>.")
    if not key:
        raise MissingApiKeyError("Send your key in the X-API-KEY header or as Authorization: Bearer <key>.")
    return key


def hash_key(raw_key: str) -> bytes:
    """SHA-256 of the canonical key text; MalformedApiKeyError if it is not a UUID."""
    try:
        canonical = str(uuid.UUID(raw_key))
    except ValueError:
        raise MalformedApiKeyError("API keys are UUIDs like 123e4567-e89b-42d3-a456-426614174000.") from None
    return hashlib.sha256(canonical.encode()).digest()


def new_key() -> str:
    return str(uuid.uuid4())


def check_key(conn: Connection, raw_key: str) -> KeyRecord:
    """Verify a key without counting it (the authorizer's check); raises the error a client should see."""
    record = api_keys.find_key(conn, key_hash=hash_key(raw_key))
    if record is None:
        raise InvalidApiKeyError("This API key is not recognised.")
    if record.status != "active":
        raise _key_status_error(f"key_{record.status}")
    if record.expires_at is not None and record.expires_at <= datetime.now(record.expires_at.tzinfo):
        raise _key_status_error("key_expired")
    return record


@dataclass(frozen=True)
class Window:
    """One limit window as clients see it in headers: its name, size, how much is left and when it resets."""

    name: str
    limit: int
    remaining: int
    seconds: int
    reset_at: datetime


def limit_windows(
    *, daily_quota: int | None, per_minute: int, day_used: int, minute_used: int, now: datetime
) -> list[Window]:
    minute_reset = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    windows = [Window("minute", per_minute, max(per_minute - minute_used, 0), 60, minute_reset)]
    if daily_quota is not None:
        day_reset = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        windows.append(Window("day", daily_quota, max(daily_quota - day_used, 0), 86400, day_reset))
    return windows


def tightest(windows: list[Window]) -> Window:
    """The window that will refuse first: fewest remaining, the longer one on a tie."""
    return min(windows, key=lambda w: (w.remaining, -w.seconds))


def limit_headers(windows: list[Window], now: datetime) -> dict[str, str]:
    """GitHub-style X-RateLimit-* for the limit that bites first, and the IETF draft fields for every limit."""
    first = tightest(windows)
    return {
        "X-RateLimit-Limit": str(first.limit),
        "X-RateLimit-Remaining": str(first.remaining),
        "X-RateLimit-Reset": str(int(first.reset_at.timestamp())),
        "RateLimit-Policy": ", ".join(f'"{w.name}";q={w.limit};w={w.seconds}' for w in windows),
        "RateLimit": ", ".join(f'"{w.name}";r={w.remaining};t={_seconds_until(w.reset_at, now)}' for w in windows),
    }


@dataclass(frozen=True)
class Grant:
    """An admitted request: the key, its windows after counting, and the usage-log row to correct later."""

    key_id: int
    plan: str
    windows: list[Window]
    log_id: int | None
    logged_at: datetime


def admit(conn: Connection, raw_key: str, *, endpoint: str) -> Grant:
    """Admit, count and log one request in one round trip; raises the error the client should see."""
    result: Admission = api_keys.admit_request(conn, key_hash=hash_key(raw_key), endpoint=endpoint)
    if result.key_id is None:
        raise InvalidApiKeyError("This API key is not recognised.")
    if result.outcome in _KEY_STATUS_DETAILS:
        raise _key_status_error(result.outcome)
    windows = limit_windows(
        daily_quota=result.daily_quota,
        per_minute=result.per_minute,
        day_used=result.day_used,
        minute_used=result.minute_used,
        now=result.now,
    )
    if result.outcome == "daily_quota_exceeded":
        day = next(w for w in windows if w.name == "day")
        raise DailyQuotaExceededError(
            f"The daily quota of {day.limit} requests is used up; it resets at {day.reset_at.isoformat()}.",
            limit=day.limit,
            reset_at=day.reset_at,
            retry_after=_seconds_until(day.reset_at, result.now),
            headers=limit_headers(windows, result.now),
        )
    if result.outcome == "rate_limited":
        minute = windows[0]
        raise RateLimitedError(
            f"The limit of {minute.limit} requests per minute is reached; it resets at {minute.reset_at.isoformat()}.",
            limit=minute.limit,
            reset_at=minute.reset_at,
            retry_after=_seconds_until(minute.reset_at, result.now),
            headers=limit_headers(windows, result.now),
        )
    return Grant(result.key_id, result.plan or "", windows, result.log_id, result.now)


def record_status(conn: Connection, grant: Grant, status: int) -> None:
    """The admission logged the request as 200; correct it when the response was something else."""
    if grant.log_id is not None and status != 200:
        api_keys.set_logged_status(conn, log_id=grant.log_id, logged_at=grant.logged_at, status=status)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds() + 0.999))


@dataclass(frozen=True)
class IssuedKey:
    key_id: int
    raw_key: str
    plan: str


def issue_key(conn: Connection, *, owner_id: int, plan: str, expires_at: datetime | None = None) -> IssuedKey:
    """Mint a UUIDv4 key; only its SHA-256 is stored, so the raw value exists only in the return value."""
    raw = new_key()
    key_id = api_keys.insert_key(
        conn, owner_id=owner_id, key_hash=hash_key(raw), last4=raw[-4:], plan=plan, expires_at=expires_at
    )
    return IssuedKey(key_id, raw, plan)
