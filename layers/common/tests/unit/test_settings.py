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
