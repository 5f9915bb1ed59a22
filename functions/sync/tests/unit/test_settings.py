"""SyncFunction's settings: environment parsing and the token secret's shapes."""

from __future__ import annotations

import pytest

from movie_common.errors import ConfigurationError
from movie_sync.settings import DEFAULT_API_BASE, load_settings, token_from_secret_string


def test_defaults_point_at_tmdb_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TMDB_API_BASE", "TMDB_API_TOKEN", "TMDB_API_TOKEN_SECRET_ARN", "TMDB_REQUESTS_PER_SECOND"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.api_base == DEFAULT_API_BASE == "https://api.themoviedb.org/3"
    assert settings.api_token is None
    assert settings.requests_per_second < 40
    assert (settings.refresh_after_days, settings.include_adult) == (90, False)


def test_the_token_never_shows_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMDB_API_TOKEN", "eyJhbGciOiJIUzI1NiJ9.secret")
    assert "secret" not in repr(load_settings())


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TMDB_REQUESTS_PER_SECOND", "80", "at most 40"),
        ("TMDB_REQUESTS_PER_SECOND", "fast", "must be a number"),
        ("TMDB_LIST_PAGES", "0", "at least 1"),
        # Past TMDB's last page every list failed on every run (page 501 is refused), its ranks never replaced.
        ("TMDB_LIST_PAGES", "501", "at most 500"),
        ("TMDB_INCLUDE_ADULT", "perhaps", "true or false"),
        # Unchecked, these failed every request of every run (or went to a host nobody meant) with no word at start.
        ("TMDB_API_BASE", "api.themoviedb.org/3", "http(s) URL"),
        ("TMDB_API_BASE", "ftp://api.themoviedb.org/3", "http(s) URL"),
        ("TMDB_API_BASE", "https:///3", "http(s) URL"),
        ("TMDB_API_BASE", "https://api.themoviedb.org/3?api_key=x", "without a query"),
        ("TMDB_API_BASE", "http://127.0.0.1:99999/3", "port"),
    ],
)
def test_bad_values_fail_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name) as error:
        load_settings()
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("secret", "token"),
    [
        ("eyJ.token", "eyJ.token"),
        ('{"token": "eyJ.token"}', "eyJ.token"),
        ('{"TMDB_API_TOKEN": " eyJ.token "}', "eyJ.token"),
        ('{"token": ""}', None),
        ("  ", None),
    ],
)
def test_token_secret_shapes(secret: str, token: str | None) -> None:
    assert token_from_secret_string(secret) == token


def test_a_secret_without_a_token_field_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        token_from_secret_string('{"password": "x"}')


def test_the_api_base_loses_a_trailing_slash_and_defaults_to_tmdb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMDB_API_BASE", "http://127.0.0.1:8123/3/")
    assert load_settings().api_base == "http://127.0.0.1:8123/3"
    monkeypatch.setenv("TMDB_API_BASE", "")
    assert load_settings().api_base == DEFAULT_API_BASE
