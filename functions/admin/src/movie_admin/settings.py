"""AdminFunction's settings, read once at cold start: database, portal origin, where CSV exports go, login lockout,
the uploads bucket the portal's CSV uploads are signed for, and whether the TMDB sync can be requested."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from movie_admin.services.admins import LoginPolicy
from movie_common.errors import ConfigurationError
from movie_common.ingest_uploads import LOCAL_BUCKET
from movie_common.settings import Settings, env_bool, env_int, env_str, get_settings
from movie_web.settings import cors_allow_origin


@dataclass(frozen=True)
class AdminSettings:
    """`export_bucket` (EXPORT_BUCKET): exports go to S3 and are downloaded through presigned URLs; required outside
    local mode. Locally they go to `export_folder` (EXPORT_FOLDER, default $MARQUEE_HOME/exports) and this
    function serves them itself at /admin/exports/<name> (the random name is the credential, like a presigned
    URL), or at `export_base_url` (EXPORT_BASE_URL) when something else serves the folder. `export_statement_timeout_ms`
    (EXPORT_STATEMENT_TIMEOUT_MS, default 25,000) bounds the export's COPY, under API Gateway's 29-second
    integration timeout. ADMIN_MAX_FAILED_LOGINS wrong passwords from one address within ADMIN_LOCKOUT_MINUTES lock
    an account for that address for as long; ADMIN_MAX_FAILED_LOGINS_ACCOUNT from all addresses lock it for every
    address the admin has not signed in from lately (LoginPolicy).

    `uploads_bucket` (UPLOADS_BUCKET): the bucket the CSV upload screen signs uploads into (required outside local
    mode; locally `marquee-uploads-local`, served over the drop folder by `marquee run`'s S3 stand-in).
    `tmdb_sync_enabled` (TMDB_SYNC_ENABLED, default false): whether a TMDB read token is configured, so that a
    requested sync can run; `sync_event_bus` (SYNC_EVENT_BUS, default `default`) is the bus the "Sync Requested"
    event goes to."""

    common: Settings
    cors_allow_origin: str
    export_bucket: str | None
    export_folder: Path
    export_base_url: str | None
    export_statement_timeout_ms: int
    login_policy: LoginPolicy
    uploads_bucket: str
    tmdb_sync_enabled: bool
    sync_event_bus: str


def load_admin_settings() -> AdminSettings:
    """Fails naming the variable when one is missing or malformed (ConfigurationError)."""
    common = get_settings()
    bucket = env_str("EXPORT_BUCKET")
    if bucket is None and not common.is_local:
        raise ConfigurationError("EXPORT_BUCKET must be set outside local mode")
    uploads = env_str("UPLOADS_BUCKET")
    if uploads is None and not common.is_local:
        raise ConfigurationError("UPLOADS_BUCKET must be set outside local mode")
    home = Path(env_str("MARQUEE_HOME") or Path.cwd() / ".marquee")
    minutes = env_int("ADMIN_LOCKOUT_MINUTES", 15, minimum=1, maximum=24 * 60)
    return AdminSettings(
        common=common,
        cors_allow_origin=cors_allow_origin(common),
        export_bucket=bucket,
        export_folder=Path(env_str("EXPORT_FOLDER") or home / "exports"),
        export_base_url=(env_str("EXPORT_BASE_URL") or "").rstrip("/") or None,
        export_statement_timeout_ms=env_int("EXPORT_STATEMENT_TIMEOUT_MS", 25_000, minimum=1000),
        login_policy=LoginPolicy(
            max_failures=env_int("ADMIN_MAX_FAILED_LOGINS", 5, minimum=1, maximum=100),
            account_max_failures=env_int("ADMIN_MAX_FAILED_LOGINS_ACCOUNT", 50, minimum=1, maximum=100_000),
            window=timedelta(minutes=minutes),
            lock_for=timedelta(minutes=minutes),
        ),
        uploads_bucket=uploads or LOCAL_BUCKET,
        tmdb_sync_enabled=env_bool("TMDB_SYNC_ENABLED", False),
        sync_event_bus=env_str("SYNC_EVENT_BUS") or "default",
    )


@functools.cache
def admin_settings() -> AdminSettings:
    return load_admin_settings()
