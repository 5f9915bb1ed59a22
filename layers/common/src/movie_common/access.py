"""API-key access, the one home for key policy: reading the key from a request, hashing it, checking it (the
authorizer), admitting requests (counting and logging), the limit windows clients see, and minting new keys."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from movie_common.database import Connection
from movie_common.db import api_keys
from movie_common.db.api_keys import KeyStanding
from movie_common.errors import (
    ConflictingApiKeysError,
    DailyQuotaExceededError,
    InvalidApiKeyError,
    KeyExpiredError,
    KeyRevokedError,
    KeySuspendedError,
    MalformedApiKeyError,
    MarqueeError,
    MissingApiKeyError,
    RateLimitedError,
    RepeatedApiKeyHeaderError,
)
from movie_common.timestamps import rfc3339

API_KEY_HEADER = "X-API-KEY"
REFUSALS_LOGGED_PER_MINUTE = api_keys.REFUSALS_LOGGED_PER_MINUTE
# GET /usage does not count against the quota, but one key may read it at most this often (a 429 past it, which
# writes nothing): an exhausted key must not be able to hammer it.
USAGE_READS_PER_MINUTE = 60

# Why a key is refused (marquee_key_refusal in SQL) -> what the client is told.
_REFUSALS: dict[str, tuple[type[MarqueeError], str]] = {
    "key_suspended": (KeySuspendedError, "This API key is suspended; contact support to reactivate it."),
    "key_revoked": (KeyRevokedError, "This API key was revoked; request a new one from the developer portal."),
    "key_expired": (KeyExpiredError, "This API key has expired; request a new one from the developer portal."),
    "account_suspended": (KeySuspendedError, "The account that owns this API key is suspended; contact support."),
}


def refusal_error(refusal: str) -> MarqueeError:
    """The error for a refusal reason; a new instance each time (a shared one would pile up tracebacks)."""
    error_class, detail = _REFUSALS[refusal]
    return error_class(detail)


# The one spelling of a key: a UUID in its 8-4-4-4-12 hyphenated hex form (any case). uuid.UUID() alone would also
# take braces, a urn:uuid: prefix or no hyphens: more spellings of one key, each counted apart by the edge's flood
# rule (AWS WAF counts per header value), so they are refused as malformed.
_KEY_FORM = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# How many times one header may repeat the same key (separate headers or folded by a proxy): a client repeating it
# more could make each repetition count apart at the edge. Two is what a misconfigured client or proxy sends.
MAX_REPEATS = 2
# The whitespace HTTP allows around a header value and its comma-separated parts (RFC 9110 OWS: space and tab). Not
# str.strip()'s: that also drops U+00A0 and U+0085, which a client can send as a header byte, so the authorizer (which
# reads the event's text) accepted a key the function (which reads the same bytes as Starlette decodes them) refused
# as malformed; and a key sent ahead was counted for a request answered 403.
_OWS = " \t"


def _canonical(raw: str) -> str:
    return raw.lower() if _KEY_FORM.fullmatch(raw) else raw


def _distinct(values: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(_canonical(value), value)
    return list(seen.values())


def read_key(headers: Mapping[str, Iterable[str]]) -> str:
    """The raw key of a request, from every value of its headers (names matched case-insensitively).

    `headers` maps each header name to ALL its values (API Gateway's multiValueHeaders, Starlette's getlist), so
    the authorizer and the API apply one rule: a key may come in `X-API-KEY` or as `Authorization: Bearer <key>`;
    the same key repeated (or sent in both places) is one key, up to MAX_REPEATS times per header; different keys
    are refused, never picked from.
    Raises MissingApiKeyError (401), MalformedApiKeyError (an Authorization scheme other than Bearer, when no
    X-API-KEY is sent), RepeatedApiKeyHeaderError or ConflictingApiKeysError (403, like every key refusal).
    """
    by_name: dict[str, list[str]] = {}
    for name, values in headers.items():
        by_name.setdefault(name.lower(), []).extend(values)
    # A proxy may fold repeated headers into one comma-separated value; keys never contain commas.
    header_keys = _distinct(
        part.strip(_OWS) for value in by_name.get("x-api-key", []) for part in value.split(",") if part.strip(_OWS)
    )
    header_values = [part for value in by_name.get("x-api-key", []) for part in value.split(",") if part.strip(_OWS)]
    if len(header_keys) > 1:
        raise RepeatedApiKeyHeaderError(
            f"The {API_KEY_HEADER} header was sent more than once with different keys; send one key."
        )
    if len(header_values) > MAX_REPEATS:
        raise RepeatedApiKeyHeaderError(
            f"The {API_KEY_HEADER} header was sent {len(header_values)} times; send it once."
        )
    bearer_keys: list[str] = []
    other_schemes: list[str] = []
    # Folded repeats too ("Bearer a, Bearer b", as Mangum and proxies join them): a key never contains a comma, and
    # another scheme's comma-separated parameters only ever add more non-Bearer parts.
    for part in (part.strip(_OWS) for value in by_name.get("authorization", []) for part in value.split(",")):
        scheme, _, credentials = part.partition(" ")
        if scheme.lower() == "bearer":
            if credentials.strip(_OWS):
                bearer_keys.append(credentials.strip(_OWS))
        elif part:
            other_schemes.append(scheme)
    bearer_count = len(bearer_keys)
    bearer_keys = _distinct(bearer_keys)
    if len(bearer_keys) > 1:
        raise RepeatedApiKeyHeaderError("The Authorization header was sent more than once with different keys.")
    if bearer_count > MAX_REPEATS:
        raise RepeatedApiKeyHeaderError(f"The Authorization header was sent {bearer_count} times; send it once.")
    if header_keys and bearer_keys and _canonical(header_keys[0]) != _canonical(bearer_keys[0]):
        raise ConflictingApiKeysError(
            f"{API_KEY_HEADER} and Authorization: Bearer carry different keys; send one key, in either header."
        )
    if header_keys:
        return header_keys[0]
    if bearer_keys:
        return bearer_keys[0]
    if other_schemes:
        raise MalformedApiKeyError("The Authorization header must use the Bearer scheme: Bearer <key>.")
    raise MissingApiKeyError(f"Send your key in the {API_KEY_HEADER} header or as Authorization: Bearer <key>.")


def hash_key(raw_key: str) -> bytes:
    """SHA-256 of the canonical key text (lowercase hyphenated UUID); MalformedApiKeyError unless `raw_key` is a UUID
    in its 8-4-4-4-12 hyphenated form (any case; no braces, no urn:uuid: prefix, no missing hyphens)."""
    if not _KEY_FORM.fullmatch(raw_key):
        raise MalformedApiKeyError("API keys are UUIDs like 123e4567-e89b-42d3-a456-426614174000.")
    return hashlib.sha256(raw_key.lower().encode()).digest()


def new_key() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Window:
    """One limit window as clients see it: its name, size, use, what is left and when it resets."""

    name: str  # minute | day
    limit: int
    used: int
    remaining: int
    seconds: int
    reset_at: datetime


@dataclass(frozen=True)
class LimitWindows:
    """The windows a key's limits count in: always a minute, and a UTC day unless the plan has no daily cap."""

    minute: Window
    day: Window | None

    def all(self) -> list[Window]:
        return [self.minute] if self.day is None else [self.minute, self.day]

    def tightest(self) -> Window:
        """The window that will refuse first: fewest remaining, the longer one on a tie."""
        return min(self.all(), key=lambda w: (w.remaining, -w.seconds))


def limit_windows(standing: KeyStanding) -> LimitWindows:
    """The key's windows from its standing (counters and resets come from SQL: the arithmetic exists once)."""
    minute = Window(
        "minute",
        standing.per_minute,
        standing.minute_used,
        max(standing.per_minute - standing.minute_used, 0),
        60,
        standing.minute_reset,
    )
    day = None
    if standing.daily_quota is not None:
        day = Window(
            "day",
            standing.daily_quota,
            standing.day_used,
            max(standing.daily_quota - standing.day_used, 0),
            86400,
            standing.day_reset,
        )
    return LimitWindows(minute, day)


def seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds from `now` to `moment`, at least 1 (what Retry-After and RateLimit's `t` say)."""
    return max(1, int((moment - now).total_seconds() + 0.999))


def limit_headers(windows: LimitWindows, now: datetime) -> dict[str, str]:
    """GitHub-style X-RateLimit-* for the limit that bites first, and the IETF draft fields for every limit."""
    first = windows.tightest()
    return {
        "X-RateLimit-Limit": str(first.limit),
        "X-RateLimit-Remaining": str(first.remaining),
        "X-RateLimit-Reset": str(int(first.reset_at.timestamp())),
        "RateLimit-Policy": ", ".join(f'"{w.name}";q={w.limit};w={w.seconds}' for w in windows.all()),
        "RateLimit": ", ".join(f'"{w.name}";r={w.remaining};t={seconds_until(w.reset_at, now)}' for w in windows.all()),
    }


def _known(standing: KeyStanding | None) -> KeyStanding:
    if standing is None:
        raise InvalidApiKeyError("This API key is not recognised.")
    return standing


def check_key(conn: Connection, raw_key: str) -> KeyStanding:
    """Verify a key without counting it (the authorizer's check); raises the error a client should see."""
    return check_key_hash(conn, hash_key(raw_key))


def check_key_hash(conn: Connection, key_hash: bytes) -> KeyStanding:
    """check_key for a key already read and hashed (hash_key)."""
    standing = _known(api_keys.key_standing(conn, key_hash=key_hash))
    if standing.refusal is not None:
        raise refusal_error(standing.refusal)
    return standing


def key_usage(conn: Connection, raw_key: str) -> tuple[KeyStanding, LimitWindows]:
    """The key's standing and windows: known keys only, whatever their status; not counted, not limited."""
    standing = _known(api_keys.key_standing(conn, key_hash=hash_key(raw_key)))
    return standing, limit_windows(standing)


def read_usage(conn: Connection, raw_key: str) -> tuple[KeyStanding, LimitWindows]:
    """The key's standing and windows for GET /usage: known keys the rules do not refuse (the error of the refusal
    otherwise, as every keyed route gives: the authorizer may have kept an earlier Allow); an exhausted key still
    reads it. Never counted against the quota, but limited to USAGE_READS_PER_MINUTE per key (RateLimitedError past
    it, which names that limit and says when it resets). One round trip."""
    read = api_keys.read_usage(conn, key_hash=hash_key(raw_key), per_minute=USAGE_READS_PER_MINUTE)
    standing = _known(read.standing)
    if standing.refusal is not None:
        raise refusal_error(standing.refusal)
    windows = limit_windows(standing)
    if not read.allowed:
        # The headers describe the window that refused: /usage's own, not the plan's (which has room left).
        reads = Window("usage", USAGE_READS_PER_MINUTE, USAGE_READS_PER_MINUTE, 0, 60, read.reads_reset)
        raise RateLimitedError(
            f"GET /usage answers {USAGE_READS_PER_MINUTE} requests per minute per key; it resets at "
            f"{rfc3339(read.reads_reset)}. It never counts against your quota.",
            limit=USAGE_READS_PER_MINUTE,
            reset_at=read.reads_reset,
            retry_after=seconds_until(read.reads_reset, standing.now),
            headers=limit_headers(LimitWindows(reads, None), standing.now),
        )
    return standing, windows


@dataclass(frozen=True)
class Grant:
    """An admitted request: the key, its windows after counting, and the usage-log row to correct later."""

    key_id: int
    owner_id: int
    plan: str
    windows: LimitWindows
    log_id: int | None
    logged_at: datetime


def admit(conn: Connection, raw_key: str, *, endpoint: str, method: str = "GET") -> Grant:
    """Admit, count and log one request in one round trip; raises the error the client should see. `method` is
    logged as the client sent it (the developer's request log shows it)."""
    result = api_keys.admit_request(conn, key_hash=hash_key(raw_key), endpoint=endpoint, method=method)
    standing = _known(result.standing)
    if standing.refusal is not None:
        raise refusal_error(standing.refusal)
    windows = limit_windows(standing)
    if result.outcome == "daily_quota_exceeded" and windows.day is not None:
        day = windows.day
        raise DailyQuotaExceededError(
            f"The daily quota of {day.limit} requests is used up; it resets at {rfc3339(day.reset_at)}.",
            limit=day.limit,
            reset_at=day.reset_at,
            retry_after=seconds_until(day.reset_at, standing.now),
            headers=limit_headers(windows, standing.now),
        )
    if result.outcome == "rate_limited":
        minute = windows.minute
        raise RateLimitedError(
            f"The limit of {minute.limit} requests per minute is reached; it resets at {rfc3339(minute.reset_at)}.",
            limit=minute.limit,
            reset_at=minute.reset_at,
            retry_after=seconds_until(minute.reset_at, standing.now),
            headers=limit_headers(windows, standing.now),
        )
    return Grant(standing.key_id, standing.owner_id, standing.plan, windows, result.log_id, standing.now)


def start_admission(conn: Connection, raw_key: str, *, endpoint: str, method: str) -> bool:
    """Send this request's admission ahead (api_keys.send_admission) so that PostgreSQL decides, counts and logs it
    while the framework routes the request; `admit` with the same key then reads the answer instead of asking.
    `raw_key` is what read_key returned for the request. True if it was sent."""
    return api_keys.send_admission(conn, key_hash=hash_key(raw_key), endpoint=endpoint, method=method)


def finish_admission(conn: Connection, status: int) -> None:
    """At the end of a request: an admission sent ahead that no `admit` took (the request was answered before its
    key dependency ran) counted the request and logged it as 200; log it with the status it was answered with."""
    admission = api_keys.admission_not_taken()
    if admission is not None and admission.standing is not None and admission.log_id is not None and status != 200:
        api_keys.set_logged_status(conn, log_id=admission.log_id, logged_at=admission.standing.now, status=status)


def record_status(conn: Connection, grant: Grant, status: int) -> None:
    """The admission logged the request as 200; correct it when the response was something else (a 304 is
    recorded by refund_not_modified)."""
    if grant.log_id is not None and status not in (200, 304):
        api_keys.set_logged_status(conn, log_id=grant.log_id, logged_at=grant.logged_at, status=status)


def refund_not_modified(conn: Connection, grant: Grant, *, endpoint: str) -> Grant:
    """A 304 Not Modified is free (as on GitHub): take the admitted request off the key's minute, day and total
    counts and the day's rollup (`not_modified` instead of `requests`), and log it as 304. Returns the grant with
    its windows after the refund, for the response's rate-limit headers. At most the plan's per-minute limit of
    304s per key and minute are refunded; past that a 304 counts like any other request (still logged as 304)."""
    refund = api_keys.refund_request(
        conn, key_id=grant.key_id, log_id=grant.log_id, logged_at=grant.logged_at, endpoint=endpoint
    )
    if not refund.refunded:
        return grant
    minute = grant.windows.minute
    minute = replace(minute, used=refund.minute_used, remaining=max(minute.limit - refund.minute_used, 0))
    day = grant.windows.day
    if day is not None:
        day = replace(day, used=refund.day_used, remaining=max(day.limit - refund.day_used, 0))
    return replace(grant, windows=LimitWindows(minute, day))


@dataclass(frozen=True)
class IssuedKey:
    key_id: int
    raw_key: str
    plan: str


def issue_key(conn: Connection, *, owner_id: int, plan: str, expires_at: datetime | None = None) -> IssuedKey:
    """Mint a UUIDv4 key; only its SHA-256 and last four characters are stored, so the raw value exists only in
    the return value (show it once)."""
    raw = new_key()
    key_id = api_keys.insert_key(
        conn, owner_id=owner_id, key_hash=hash_key(raw), last4=raw[-4:], plan=plan, expires_at=expires_at
    )
    return IssuedKey(key_id, raw, plan)
