"""Unit tests of configuration and of reading the database secret."""

from __future__ import annotations

import json

import pytest

from movie_common.errors import ConfigurationError
from movie_common.secrets import database_url_from_secret_string
from movie_common.settings import load_settings


def test_missing_database_setting_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_SECRET_ARN", raising=False)
    with pytest.raises(ConfigurationError, match="DATABASE_URL or DATABASE_SECRET_ARN"):
        load_settings()


def test_bad_integer_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "soon")
    with pytest.raises(ConfigurationError, match="DB_CONNECT_TIMEOUT"):
        load_settings()


def test_prepared_statements_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PREPARE_THRESHOLD", "none")
    assert load_settings().db_prepare_threshold is None


@pytest.mark.parametrize(
    ("secret", "url"),
    [
        ("postgresql://u:p@db:5432/movies", "postgresql://u:p@db:5432/movies"),
        (json.dumps({"url": "postgres://a@b/c"}), "postgres://a@b/c"),
        (
            json.dumps({"username": "app", "password": "p@ss/word", "host": "db.example", "port": 6543, "dbname": "m"}),
            "postgresql://app:p%40ss%2Fword@db.example:6543/m",
        ),
    ],
)
def test_secret_formats_give_a_database_url(secret: str, url: str) -> None:
    assert database_url_from_secret_string(secret) == url


def test_secret_without_host_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="'host'"):
        database_url_from_secret_string(json.dumps({"username": "a", "password": "b"}))


def test_a_database_url_that_is_not_one_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "nonsense")
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        load_settings()


def test_a_database_url_libpq_cannot_read_is_refused_without_quoting_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # libpq quotes what it could not read; for a % not written %25 that is the password itself.
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:Sum%mer-secret-42@db.example/movies")
    with pytest.raises(ConfigurationError) as refused:
        load_settings()
    assert str(refused.value) == (
        'DATABASE_URL is not a PostgreSQL connection string: invalid percent-encoded token: "…" '
        "(write a % in the password as %25)"
    )


def test_a_secret_url_libpq_cannot_read_is_refused_without_quoting_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from movie_common import database

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db")
    secret = json.dumps({"url": "postgresql://app:Sum%mer-secret-42@db.example/movies"})
    monkeypatch.setattr(database, "fetch_secret_string", lambda arn: secret)
    monkeypatch.setattr(database, "_resolved_url", None)
    with pytest.raises(ConfigurationError, match="the database secret's URL is not a PostgreSQL") as refused:
        database.database_url(load_settings())
    assert "secret-42" not in str(refused.value) and "Sum%mer" not in str(refused.value)


def test_a_negative_statement_timeout_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "-5")
    with pytest.raises(ConfigurationError, match="DB_STATEMENT_TIMEOUT_MS must be at least 0"):
        load_settings()


def test_the_development_session_secret_is_refused_outside_local_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    from movie_common import sessions
    from movie_common.settings import get_settings

    monkeypatch.setenv("MARQUEE_ENV", "prod")
    monkeypatch.delenv("SESSION_SECRET", raising=False)
    monkeypatch.delenv("SESSION_SECRET_ARN", raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="SESSION_SECRET or SESSION_SECRET_ARN must be set"):
            sessions.load_session_settings()
        monkeypatch.setenv("SESSION_SECRET", sessions.LOCAL_DEFAULT_SECRET)
        with pytest.raises(ConfigurationError, match="development default"):
            sessions.load_session_settings()
        monkeypatch.setenv("SESSION_SECRET", "short")
        with pytest.raises(ConfigurationError, match="at least 32 bytes"):
            sessions.load_session_settings()
        monkeypatch.setenv("SESSION_SECRET", "a-real-secret-of-forty-characters-123456")
        assert sessions.load_session_settings().secret.startswith("a-real-secret")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_local_mode_may_use_the_development_session_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from movie_common import sessions
    from movie_common.settings import get_settings

    monkeypatch.setenv("MARQUEE_ENV", "local")
    monkeypatch.delenv("SESSION_SECRET", raising=False)
    get_settings.cache_clear()
    try:
        assert sessions.load_session_settings().secret == sessions.LOCAL_DEFAULT_SECRET
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_synchronous_commit_is_on_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DB_SYNCHRONOUS_COMMIT", raising=False)
    assert load_settings().db_synchronous_commit is True
    monkeypatch.setenv("DB_SYNCHRONOUS_COMMIT", "off")
    assert load_settings().db_synchronous_commit is False
    monkeypatch.setenv("DB_SYNCHRONOUS_COMMIT", "sometimes")
    with pytest.raises(ConfigurationError, match="DB_SYNCHRONOUS_COMMIT"):
        load_settings()
