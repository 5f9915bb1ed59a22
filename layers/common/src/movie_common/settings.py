"""Configuration of every Marquee function: one frozen object read from the environment once per process."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from movie_common.errors import ConfigurationError

LOCAL_ENV = "local"


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str | None
    database_secret_arn: str | None
    db_connect_timeout: int
    db_statement_timeout_ms: int
    db_prepare_threshold: int | None
    cors_allow_origin: str


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None


def load_settings() -> Settings:
    """Read the environment; a missing required setting fails here, at cold start, naming the variable."""
    env = os.environ.get("MARQUEE_ENV", LOCAL_ENV).strip() or LOCAL_ENV
    database_url = os.environ.get("DATABASE_URL", "").strip() or None
    secret_arn = os.environ.get("DATABASE_SECRET_ARN", "").strip() or None
    if database_url is None and secret_arn is None:
        raise ConfigurationError("DATABASE_URL or DATABASE_SECRET_ARN must be set")
    prepare = os.environ.get("DB_PREPARE_THRESHOLD", "5").strip().lower()
    return Settings(
        env=env,
        database_url=database_url,
        database_secret_arn=secret_arn,
        db_connect_timeout=_int("DB_CONNECT_TIMEOUT", 3),
        db_statement_timeout_ms=_int("DB_STATEMENT_TIMEOUT_MS", 5000),
        # RDS Proxy / PgBouncer in transaction mode cannot keep prepared statements: "none" turns them off.
        db_prepare_threshold=None if prepare in {"none", "off", ""} else _int("DB_PREPARE_THRESHOLD", 5),
        cors_allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "http://127.0.0.1:8080").strip(),
    )


@functools.cache
def get_settings() -> Settings:
    return load_settings()
