"""Configuration: readers for environment settings and the settings every function shares (environment name and
database), read once per process; each function adds its own frozen settings object beside its handler."""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from typing import Any

from movie_common.errors import ConfigurationError

LOCAL_ENV = "local"


def env_str(name: str, default: str | None = None) -> str | None:
    """The variable's value, stripped; `default` when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_required(name: str) -> str:
    value = env_str(name)
    if value is None:
        raise ConfigurationError(f"{name} must be set")
    return value


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer setting; ConfigurationError naming the variable when it is not an integer or out of range."""
    raw = env_str(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigurationError(f"{name} must be at most {maximum}, got {value}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")


def env_json_object(name: str) -> dict[str, Any]:
    """A JSON object setting (empty when unset); ConfigurationError naming the variable when it is not one."""
    raw = env_str(name)
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a JSON object, got {raw[:60]!r}") from None
    if not isinstance(value, dict):
        raise ConfigurationError(f"{name} must be a JSON object, got {type(value).__name__}")
    return value


def refuse_default_secret(name: str, value: str, local_default: str, *, env: str) -> str:
    """Outside local mode a secret must be configured, never the development default checked into the code."""
    if env != LOCAL_ENV and value == local_default:
        raise ConfigurationError(f"{name} is the development default; set a real secret outside local mode")
    return value


def check_database_url(url: str, *, source: str = "DATABASE_URL") -> str:
    """`url` if libpq can read it; ConfigurationError naming `source` otherwise. libpq's reason quotes the part it
    could not read, which is often the password (`invalid percent-encoded token: "pa%ss"`, a % not written %25):
    the reason is kept, the quoted part is not, so the password never reaches a terminal or CloudWatch."""
    # Imported here: settings stay importable without psycopg for tooling that only reads variables.
    import psycopg

    try:
        psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        reason = re.sub(r'"[^"]*"', '"…"', str(error).strip())
        hint = " (write a % in the password as %25)" if "percent" in reason else ""
        raise ConfigurationError(f"{source} is not a PostgreSQL connection string: {reason}{hint}") from None
    return url


@dataclass(frozen=True)
class Settings:
    """What every function needs: the environment name and how to reach PostgreSQL."""

    env: str
    database_url: str | None
    database_secret_arn: str | None
    db_connect_timeout: int
    db_statement_timeout_ms: int
    db_prepare_threshold: int | None
    db_synchronous_commit: bool

    @property
    def is_local(self) -> bool:
        return self.env == LOCAL_ENV


def load_settings() -> Settings:
    """Read the environment; a missing or malformed setting fails here, at cold start, naming the variable."""
    env = env_str("MARQUEE_ENV", LOCAL_ENV) or LOCAL_ENV
    database_url = env_str("DATABASE_URL")
    secret_arn = env_str("DATABASE_SECRET_ARN")
    if database_url is None and secret_arn is None:
        raise ConfigurationError("DATABASE_URL or DATABASE_SECRET_ARN must be set")
    if database_url is not None:
        check_database_url(database_url)
    prepare = (env_str("DB_PREPARE_THRESHOLD", "5") or "5").lower()
    return Settings(
        env=env,
        database_url=database_url,
        database_secret_arn=secret_arn,
        db_connect_timeout=env_int("DB_CONNECT_TIMEOUT", 3, minimum=1),
        db_statement_timeout_ms=env_int("DB_STATEMENT_TIMEOUT_MS", 5000, minimum=0),
        # RDS Proxy / PgBouncer in transaction mode cannot keep prepared statements: "none" turns them off.
        db_prepare_threshold=None if prepare in {"none", "off"} else env_int("DB_PREPARE_THRESHOLD", 5, minimum=0),
        # "off" lets a commit return before its WAL is flushed: a crash of PostgreSQL can lose the last fraction of
        # a second of committed writes (never corrupt them). The API function's only writes are usage accounting.
        db_synchronous_commit=env_bool("DB_SYNCHRONOUS_COMMIT", True),
    )


@functools.cache
def get_settings() -> Settings:
    """This process's settings, read on first use (at cold start: handlers call it while importing)."""
    return load_settings()
