"""IngestFunction's settings, read once at cold start: the shared database settings, the limits of one job, and
(on one machine only) the folder that stands in for the uploads bucket."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from movie_common.errors import ConfigurationError
from movie_common.ingest_uploads import LOCAL_BUCKET
from movie_common.settings import Settings, env_int, env_str, get_settings

# LOCAL_BUCKET: the bucket name the one-machine stack's S3-shaped events carry; its objects live under
# UPLOADS_LOCAL_ROOT.
__all__ = ["LOCAL_BUCKET", "IngestSettings", "ingest_settings", "load_ingest_settings"]


@dataclass(frozen=True)
class IngestSettings:
    """Limits of one ingest job; every value has a default that suits the budgets in docs/architecture.md section 8."""

    common: Settings
    max_bad_row_share: float  # INGEST_MAX_BAD_ROW_SHARE: replace mode refuses a file with more bad rows than this
    max_record_chars: int  # INGEST_MAX_RECORD_CHARS: a longer CSV record is skipped and reported
    max_reported_errors: int  # INGEST_MAX_REPORTED_ERRORS: rows kept in the report (all are counted)
    lock_timeout_ms: int  # INGEST_LOCK_TIMEOUT_MS: the longest wait for a lock on the movies table
    lock_attempts: int  # INGEST_LOCK_ATTEMPTS: load transactions tried before the job fails as busy
    batch_rows: int  # INGEST_BATCH_ROWS: rows per COPY into the staging table (and per progress update)
    uploads_local_root: Path | None  # UPLOADS_LOCAL_ROOT: local mode only, the folder holding the "bucket"


def _share(name: str, default: float) -> float:
    raw = env_str(name)
    if raw is None:
        return default
    try:
        value = float(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
    except ValueError:
        raise ConfigurationError(f"{name} must be a share such as 0.05 or 5%, got {raw!r}") from None
    if not 0 <= value <= 1:
        raise ConfigurationError(f"{name} must be between 0 and 1 (or 0% and 100%), got {raw!r}")
    return value


def load_ingest_settings() -> IngestSettings:
    """Read the environment; an unusable value fails here, at cold start, naming the variable
    (movie_common.errors.ConfigurationError). UPLOADS_LOCAL_ROOT is refused outside local mode."""
    common = get_settings()
    local_root = env_str("UPLOADS_LOCAL_ROOT")
    if local_root is not None and not common.is_local:
        raise ConfigurationError("UPLOADS_LOCAL_ROOT is for the one-machine stack only (MARQUEE_ENV=local)")
    return IngestSettings(
        common=common,
        max_bad_row_share=_share("INGEST_MAX_BAD_ROW_SHARE", 0.05),
        max_record_chars=env_int("INGEST_MAX_RECORD_CHARS", 1024 * 1024, minimum=1024, maximum=64 * 1024 * 1024),
        max_reported_errors=env_int("INGEST_MAX_REPORTED_ERRORS", 100_000, minimum=1),
        lock_timeout_ms=env_int("INGEST_LOCK_TIMEOUT_MS", 2000, minimum=1),
        lock_attempts=env_int("INGEST_LOCK_ATTEMPTS", 5, minimum=1, maximum=100),
        batch_rows=env_int("INGEST_BATCH_ROWS", 5000, minimum=1, maximum=1_000_000),
        uploads_local_root=Path(local_root) if local_root else None,
    )


@functools.cache
def ingest_settings() -> IngestSettings:
    return load_ingest_settings()
