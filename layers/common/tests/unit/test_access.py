"""Unit tests of key parsing, hashing and limit windows (no database)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from movie_common import access
from movie_common.errors import MalformedApiKeyError, MissingApiKeyError

KEY = "3f2b8a9e-5c1d-4e7f-9a0b-1c2d3e4f5a6b"


def test_key_is_read_from_x_api_key_in_any_case() -> None:
    assert access.read_key({"x-api-key": KEY}) == KEY
    assert access.read_key({"X-API-KEY": f"  {KEY} "}) == KEY


def test_key_is_read_from_bearer_authorization() -> None:
    assert access.read_key({"Authorization": f"Bearer {KEY}"}) == KEY
    assert access.read_key({"authorization": f"bearer   {KEY}"}) == KEY


def test_x_api_key_wins_over_authorization() -> None:
    assert access.read_key({"X-API-KEY": KEY, "Authorization": "Bearer other"}) == KEY


def test_no_key_is_missing() -> None:
    with pytest.raises(MissingApiKeyError):
        access.read_key({"Accept": "application/json"})
    with pytest.raises(MissingApiKeyError):
        access.read_key({"X-API-KEY": "   ", "Authorization": "Bearer "})


def test_other_authorization_scheme_is_malformed() -> None:
    with pytest.raises(MalformedApiKeyError):
        access.read_key({"Authorization": f"Basic {KEY}"})


def test_hash_is_sha256_of_the_canonical_uuid() -> None:
    assert access.hash_key(KEY.upper()) == hashlib.sha256(KEY.encode()).digest()


@pytest.mark.parametrize("raw", ["not-a-key", "1234", KEY + "0", "'; DROP TABLE api_keys; --"])
def test_non_uuid_key_is_malformed(raw: str) -> None:
    with pytest.raises(MalformedApiKeyError):
        access.hash_key(raw)


def test_new_keys_are_uuid4() -> None:
    key = access.new_key()
    assert key[14] == "4" and len(key) == 36


def test_windows_and_headers_name_the_limit_that_bites_first() -> None:
    now = datetime(2026, 11, 23, 23, 59, 30, tzinfo=UTC)
    windows = access.limit_windows(daily_quota=100, per_minute=30, day_used=99, minute_used=5, now=now)
    headers = access.limit_headers(windows, now)
    assert headers["X-RateLimit-Limit"] == "100"
    assert headers["X-RateLimit-Remaining"] == "1"
    assert headers["X-RateLimit-Reset"] == str(int(datetime(2026, 11, 24, tzinfo=UTC).timestamp()))
    assert headers["RateLimit-Policy"] == '"minute";q=30;w=60, "day";q=100;w=86400'
    assert headers["RateLimit"] == '"minute";r=25;t=30, "day";r=1;t=30'


def test_unlimited_plan_has_only_a_minute_window() -> None:
    now = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
    windows = access.limit_windows(daily_quota=None, per_minute=3000, day_used=10**6, minute_used=0, now=now)
    assert [w.name for w in windows] == ["minute"]
