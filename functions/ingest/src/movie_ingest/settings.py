"""Configuration of IngestFunction: one frozen object read from the environment once per process (cold start)."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from movie_common.errors import ConfigurationError


@dataclass(frozen=True)
class IngestSettings:
    """Limits of one ingest job; every value has a default that suits the budgets in DESIGN.md section 8."""

    max_bad_row_share: float  # INGEST_MAX_BAD_ROW_SHARE: replace mode refuses a file with more bad rows than this
    max_record_chars: int  # INGEST_MAX_RECORD_CHARS: a longer CSV record is skipped and reported
    max_reported_errors: int  # INGEST_MAX_REPORTED_ERRORS: rows kept in the report (all are counted)
    lock_timeout_ms: int  # INGEST_LOCK_TIMEOUT_MS: the longest wait for a lock on the movies table
    lock_attempts: int  # INGEST_LOCK_ATTEMPTS: load transactions tried before the job fails as busy
    batch_rows: int  # INGEST_BATCH_ROWS: rows per COPY into the staging table (and per progress update)
    stale_after_s: int  # INGEST_STALE_AFTER_S: a job in progress for longer was abandoned and may run again


def _number(name: str, default: float, *, low: float, high: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return value


def load_ingest_settings() -> IngestSettings:
    """Read the environment; an unusable value fails here, at cold start, naming the variable."""
    return IngestSettings(
        max_bad_row_share=_number("INGEST_MAX_BAD_ROW_SHARE", 0.05, low=0, high=1),
        max_record_chars=int(_number("INGEST_MAX_RECORD_CHARS", 1024 * 1024, low=1024, high=64 * 1024 * 1024)),
        max_reported_errors=int(_number("INGEST_MAX_REPORTED_ERRORS", 100_000, low=1, high=10_000_000)),
        lock_timeout_ms=int(_number("INGEST_LOCK_TIMEOUT_MS", 2000, low=1, high=600_000)),
        lock_attempts=int(_number("INGEST_LOCK_ATTEMPTS", 5, low=1, high=100)),
        batch_rows=int(_number("INGEST_BATCH_ROWS", 5000, low=1, high=1_000_000)),
        stale_after_s=int(_number("INGEST_STALE_AFTER_S", 960, low=1, high=86_400)),
    )


@functools.cache
def get_ingest_settings() -> IngestSettings:
    return load_ingest_settings()
