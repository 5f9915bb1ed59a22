"""The REQUEST authorizer through its real entry point, with functions/auth/events/request.json."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from marquee_local import events
from marquee_local.lambda_context import LocalLambdaContext
from marquee_local.stack import LOCAL_USAGE_KEYS
from movie_auth.authorizer import handler
from movie_common import access

EVENT = Path(__file__).resolve().parents[2] / "events" / "request.json"


def _authorize(headers: dict[str, str]) -> dict[str, Any]:
    event = events.adjust(json.loads(EVENT.read_text()), key=None, headers=headers)
    result: dict[str, Any] = handler(event, LocalLambdaContext(function_name="KeyAuthorizerFunction"))
    return result


def _effect(answer: dict[str, Any]) -> str:
    return str(answer["policyDocument"]["Statement"][0]["Effect"])


@pytest.mark.parametrize("plan", ["free", "pro", "unlimited"])
def test_good_key_is_allowed_with_its_tier_usage_key(conn: Any, make_key: Callable[..., str], plan: str) -> None:
    raw = make_key(plan)
    answer = _authorize({"X-API-KEY": raw})
    assert _effect(answer) == "Allow"
    assert answer["usageIdentifierKey"] == LOCAL_USAGE_KEYS[plan]
    assert answer["context"]["plan"] == plan and answer["principalId"].startswith("key:")
    resource = answer["policyDocument"]["Statement"][0]["Resource"][0]
    assert resource.startswith("arn:aws:execute-api:us-east-1:123456789012:1234567890/prod/")


def test_bearer_key_is_allowed(conn: Any, make_key: Callable[..., str]) -> None:
    assert _effect(_authorize({"Authorization": f"Bearer {make_key()}"})) == "Allow"


def test_authorizing_does_not_count_the_request(conn: Any, make_key: Callable[..., str]) -> None:
    raw = make_key()
    _authorize({"x-api-key": raw})
    row = conn.execute("SELECT usage_count, total_count FROM api_keys WHERE key = %s", (access.hash_key(raw),))
    assert row.fetchone() == {"usage_count": 0, "total_count": 0}


def test_missing_key_raises_unauthorized_for_a_401(conn: Any) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        _authorize({})


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ({"key": "not-a-key"}, "malformed_api_key"),
        ({"key": "3f2b8a9e-5c1d-4e7f-9a0b-1c2d3e4f5a6b"}, "invalid_api_key"),
        ({"status": "suspended"}, "key_suspended"),
        ({"status": "revoked"}, "key_revoked"),
        ({"expired": True}, "key_expired"),
    ],
)
def test_refused_keys_are_denied_with_the_problem_in_the_context(
    conn: Any, make_key: Callable[..., str], setup: dict[str, Any], code: str
) -> None:
    raw = setup.get("key") or make_key(
        status=setup.get("status", "active"),
        expires_at=datetime.now(UTC) - timedelta(hours=1) if setup.get("expired") else None,
    )
    answer = _authorize({"X-API-KEY": raw})
    assert _effect(answer) == "Deny"
    assert answer["context"]["code"] == code
    assert answer["context"]["title"] and answer["context"]["detail"]
    assert '"' not in answer["context"]["detail"]  # it is pasted into the gateway's JSON template
    assert "usageIdentifierKey" not in answer


def _authorize_multi(headers: dict[str, list[str]]) -> dict[str, Any]:
    """The authorizer with every value of repeated headers, as API Gateway sends them (multiValueHeaders; the
    single-value `headers` map keeps the last)."""
    event = json.loads(EVENT.read_text())
    single = {k: v for k, v in event["headers"].items() if k != "X-API-KEY"}
    event["headers"] = single | {name: values[-1] for name, values in headers.items()}
    event["multiValueHeaders"] = {k: [v] for k, v in single.items()} | headers
    result: dict[str, Any] = handler(event, LocalLambdaContext(function_name="KeyAuthorizerFunction"))
    return result


def test_the_same_key_sent_twice_is_allowed(conn: Any, make_key: Callable[..., str]) -> None:
    # curl -H "X-API-KEY: $KEY" -H "X-API-KEY: $KEY"
    raw = make_key()
    assert _effect(_authorize_multi({"X-API-KEY": [raw, raw]})) == "Allow"
    assert _effect(_authorize_multi({"X-API-KEY": [raw], "Authorization": [f"Bearer {raw}"]})) == "Allow"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        # A bad and a good key: the last value must not win (it used to, while the API read both joined).
        ({"X-API-KEY": ["{bad}", "{good}"]}, "repeated_api_key_header"),
        ({"X-API-KEY": ["{good}", "{bad}"]}, "repeated_api_key_header"),
        ({"X-API-KEY": ["{good}", "{other}"]}, "repeated_api_key_header"),
        ({"Authorization": ["Bearer {good}", "Bearer {other}"]}, "repeated_api_key_header"),
        ({"X-API-KEY": ["{good}"], "Authorization": ["Bearer {other}"]}, "conflicting_api_keys"),
    ],
)
def test_different_keys_are_denied_as_repeated_or_conflicting(
    conn: Any, make_key: Callable[..., str], headers: dict[str, list[str]], code: str
) -> None:
    keys = {"good": make_key(), "other": make_key(owner="other@gmail.com"), "bad": "not-a-key"}
    answer = _authorize_multi({name: [v.format(**keys) for v in values] for name, values in headers.items()})
    assert _effect(answer) == "Deny"
    assert answer["context"]["code"] == code and "usageIdentifierKey" not in answer


@pytest.fixture
def allow_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], None]]:
    """Set AUTHORIZER_CACHE_SECONDS as a cold start would read it; every test starts with no kept Allows."""
    from movie_auth import services
    from movie_auth.settings import authorizer_settings

    def configure(seconds: int) -> None:
        monkeypatch.setenv("AUTHORIZER_CACHE_SECONDS", str(seconds))
        authorizer_settings.cache_clear()
        services._allowed_keys.cache_clear()

    configure(60)
    yield configure
    monkeypatch.delenv("AUTHORIZER_CACHE_SECONDS")
    authorizer_settings.cache_clear()
    services._allowed_keys.cache_clear()


def test_an_allow_is_kept_without_asking_the_database_again(
    conn: Any, make_key: Callable[..., str], allow_cache: Callable[[int], None]
) -> None:
    raw = make_key("pro")
    first = _authorize({"X-API-KEY": raw})
    # Revoked behind the authorizer's back: a kept Allow answers without the database (the API function's admission
    # refuses the key; tests/test_local_stack.py proves it end to end).
    conn.execute("UPDATE api_keys SET status = 'revoked' WHERE key = %s", (access.hash_key(raw),))
    again = _authorize({"Authorization": f"Bearer {raw.upper()}"})  # the same key, however it is sent
    assert _effect(again) == "Allow" and again["usageIdentifierKey"] == first["usageIdentifierKey"]
    assert again["context"] == first["context"]


def test_refusals_are_never_kept(conn: Any, make_key: Callable[..., str], allow_cache: Callable[[int], None]) -> None:
    raw = make_key(status="suspended")
    assert _authorize({"X-API-KEY": raw})["context"]["code"] == "key_suspended"
    conn.execute("UPDATE api_keys SET status = 'active' WHERE key = %s", (access.hash_key(raw),))
    assert _effect(_authorize({"X-API-KEY": raw})) == "Allow"  # reinstated: allowed at once


@pytest.mark.slow  # waits for the TTL to pass
def test_a_kept_allow_expires(conn: Any, make_key: Callable[..., str], allow_cache: Callable[[int], None]) -> None:
    allow_cache(1)
    raw = make_key()
    assert _effect(_authorize({"X-API-KEY": raw})) == "Allow"
    conn.execute("UPDATE api_keys SET status = 'revoked' WHERE key = %s", (access.hash_key(raw),))
    time.sleep(1.1)
    assert _authorize({"X-API-KEY": raw})["context"]["code"] == "key_revoked"


def test_no_allow_is_kept_when_the_cache_is_off(
    conn: Any, make_key: Callable[..., str], allow_cache: Callable[[int], None]
) -> None:
    allow_cache(0)
    raw = make_key()
    assert _effect(_authorize({"X-API-KEY": raw})) == "Allow"
    conn.execute("UPDATE api_keys SET status = 'revoked' WHERE key = %s", (access.hash_key(raw),))
    assert _authorize({"X-API-KEY": raw})["context"]["code"] == "key_revoked"


@pytest.mark.parametrize("value", ["-1", "3601", "soon"])
def test_a_bad_cache_setting_fails_the_cold_start_naming_it(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    from movie_auth.settings import load_authorizer_settings
    from movie_common.errors import ConfigurationError

    monkeypatch.setenv("AUTHORIZER_CACHE_SECONDS", value)
    with pytest.raises(ConfigurationError, match="AUTHORIZER_CACHE_SECONDS"):
        load_authorizer_settings()
