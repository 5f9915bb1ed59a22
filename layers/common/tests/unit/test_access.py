"""Unit tests of key reading (one rule for the authorizer and the API), hashing and limit windows (no database)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from movie_common import access
from movie_common.db.api_keys import KeyStanding
from movie_common.errors import (
    ConflictingApiKeysError,
    MalformedApiKeyError,
    MissingApiKeyError,
    RepeatedApiKeyHeaderError,
)

KEY = "3f2b8a9e-5c1d-4e7f-9a0b-1c2d3e4f5a6b"
OTHER = "9d1c7a2e-0b3f-4c5d-8e6f-7a8b9c0d1e2f"


def _read(**headers: str | list[str]) -> str:
    return access.read_key({name.replace("_", "-"): [v] if isinstance(v, str) else v for name, v in headers.items()})


def test_key_is_read_from_x_api_key_in_any_case() -> None:
    assert _read(x_api_key=KEY) == KEY
    assert access.read_key({"X-API-KEY": [f"  {KEY} "]}) == KEY


@pytest.mark.parametrize("space", ["\xa0", "\x85", "\u2003", "\u3000"])
def test_only_http_whitespace_is_dropped_around_a_key(space: str) -> None:
    """RFC 9110's OWS is space and tab; str.strip() also drops U+00A0 and U+0085, which a client can send as one
    header byte, and which the API function sees as 'Â\xa0' (Mangum's UTF-8 read back as Latin-1 by Starlette): the
    authorizer and the function must read the same value (found by the sixth tester)."""
    assert access.read_key({"X-API-KEY": [f"\t{KEY} "]}) == KEY
    for headers in (
        {"X-API-KEY": [space + KEY]},
        {"X-API-KEY": [KEY + space]},
        {"Authorization": [f"Bearer {KEY}{space}"]},
    ):
        with pytest.raises(MalformedApiKeyError):
            access.hash_key(access.read_key(headers))


def test_key_is_read_from_bearer_authorization() -> None:
    assert _read(Authorization=f"Bearer {KEY}") == KEY
    assert _read(authorization=f"bearer   {KEY}") == KEY


def test_the_same_key_repeated_is_one_key() -> None:
    assert _read(x_api_key=[KEY, KEY]) == KEY
    assert _read(x_api_key=f"{KEY}, {KEY}") == KEY  # folded by a proxy into one value
    assert _read(x_api_key=[KEY, KEY.upper()]) == KEY  # the same UUID, other case
    assert _read(x_api_key=KEY, Authorization=f"Bearer {KEY}") == KEY
    assert _read(Authorization=f"Bearer {KEY}, Bearer {KEY}") == KEY


@pytest.mark.parametrize(
    "headers",
    [
        {"x_api_key": [KEY, OTHER]},
        {"x_api_key": [KEY, "not-a-key"]},
        {"x_api_key": f"{KEY},{OTHER}"},
        {"Authorization": [f"Bearer {KEY}", f"Bearer {OTHER}"]},
        {"Authorization": f"Bearer {KEY}, Bearer {OTHER}"},  # folded into one value by a proxy
    ],
)
def test_different_values_of_a_repeated_header_are_refused(headers: dict[str, str | list[str]]) -> None:
    with pytest.raises(RepeatedApiKeyHeaderError, match="more than once"):
        _read(**headers)


def test_different_keys_in_the_two_headers_are_refused() -> None:
    with pytest.raises(ConflictingApiKeysError, match="different keys"):
        _read(x_api_key=KEY, Authorization=f"Bearer {OTHER}")


def test_no_key_is_missing() -> None:
    with pytest.raises(MissingApiKeyError):
        _read(Accept="application/json")
    with pytest.raises(MissingApiKeyError):
        _read(x_api_key="   ", Authorization="Bearer ")


@pytest.mark.parametrize("value", [f"Basic {KEY}", f"Token {KEY}", KEY, "Digest x"])
def test_another_authorization_scheme_alone_is_malformed(value: str) -> None:
    with pytest.raises(MalformedApiKeyError, match="Bearer"):
        _read(Authorization=value)


def test_another_authorization_scheme_beside_x_api_key_is_not_a_key() -> None:
    assert _read(x_api_key=KEY, Authorization="Basic dXNlcjpwYXNz") == KEY


def test_hash_is_sha256_of_the_canonical_uuid() -> None:
    assert access.hash_key(KEY.upper()) == hashlib.sha256(KEY.encode()).digest()


@pytest.mark.parametrize("raw", ["not-a-key", "1234", KEY + "0", "'; DROP TABLE api_keys; --"])
def test_non_uuid_key_is_malformed(raw: str) -> None:
    with pytest.raises(MalformedApiKeyError):
        access.hash_key(raw)


def test_new_keys_are_uuid4() -> None:
    key = access.new_key()
    assert key[14] == "4" and len(key) == 36


def _standing(
    *, daily_quota: int | None, per_minute: int, day_used: int, minute_used: int, now: datetime
) -> KeyStanding:
    return KeyStanding(
        key_id=1,
        owner_id=1,
        plan="free",
        gateway_tier="free",
        status="active",
        refusal=None,
        expires_at=None,
        daily_quota=daily_quota,
        per_minute=per_minute,
        day_used=day_used,
        day_reset=now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1),
        minute_used=minute_used,
        minute_reset=now.replace(second=0, microsecond=0) + timedelta(minutes=1),
        total_count=0,
        now=now,
    )


def test_windows_and_headers_name_the_limit_that_bites_first() -> None:
    now = datetime(2026, 11, 23, 23, 59, 30, tzinfo=UTC)
    windows = access.limit_windows(_standing(daily_quota=100, per_minute=30, day_used=99, minute_used=5, now=now))
    assert windows.day is not None and windows.day.remaining == 1 and windows.minute.remaining == 25
    assert windows.tightest() is windows.day
    headers = access.limit_headers(windows, now)
    assert headers["X-RateLimit-Limit"] == "100"
    assert headers["X-RateLimit-Remaining"] == "1"
    assert headers["X-RateLimit-Reset"] == str(int(datetime(2026, 11, 24, tzinfo=UTC).timestamp()))
    assert headers["RateLimit-Policy"] == '"minute";q=30;w=60, "day";q=100;w=86400'
    assert headers["RateLimit"] == '"minute";r=25;t=30, "day";r=1;t=30'


def test_unlimited_plan_has_only_a_minute_window() -> None:
    now = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
    windows = access.limit_windows(_standing(daily_quota=None, per_minute=3000, day_used=10**6, minute_used=0, now=now))
    assert windows.day is None and [w.name for w in windows.all()] == ["minute"]


@pytest.mark.parametrize(
    "headers",
    [
        {"x_api_key": [KEY, KEY, KEY]},
        {"x_api_key": f"{KEY},{KEY},{KEY}"},
        {"Authorization": f"Bearer {KEY}, Bearer {KEY}, Bearer {KEY}"},
    ],
)
def test_a_key_repeated_more_than_twice_is_refused(headers: dict[str, str | list[str]]) -> None:
    """Each repetition would be another value for the edge's flood rule to count apart."""
    with pytest.raises(RepeatedApiKeyHeaderError, match="3 times"):
        _read(**headers)


@pytest.mark.parametrize(
    "spelling",
    [
        "{" + KEY + "}",
        "urn:uuid:" + KEY,
        KEY.replace("-", ""),
        KEY[:8] + KEY[9:],  # one hyphen missing
        KEY + "0",
    ],
)
def test_only_the_hyphenated_form_of_a_key_is_a_key(spelling: str) -> None:
    """uuid.UUID() reads all of these as the same key; each would be counted apart by the edge's flood rule."""
    assert access.read_key({"X-API-KEY": [spelling]}) == spelling  # read as sent...
    with pytest.raises(MalformedApiKeyError):
        access.hash_key(spelling)  # ...and refused as malformed
    assert access.hash_key(KEY.upper()) == access.hash_key(KEY)  # case is not a spelling: WAF lowercases
