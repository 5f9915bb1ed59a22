"""The sync against a fake TMDB that sends what TMDB's documents never promised: ids the catalogue cannot hold,
odd page counts. Each case once ended or failed a whole run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from marquee_local.fake_tmdb import FakeTmdb
from movie_common.db import tmdb
from movie_sync.services import run_sync
from movie_sync.settings import SyncSettings

INTERSTELLAR, MATRIX, PROJECT_HAIL_MARY = 157336, 603, 687163
DAY = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
HUGE = 2**31  # one past PostgreSQL's integer, which movies.tmdb_id and the sync's tables are


@pytest.mark.slow
def test_ids_beyond_postgresqls_integer_in_lists_and_change_feeds_are_dropped_not_fatal(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    fake_tmdb.set_list("/trending/movie/day", [HUGE, INTERSTELLAR, 2**53, MATRIX])
    first = run_sync(conn, settings=sync_settings, triggered_by="cli", now=lambda: DAY)
    assert first.status == "succeeded", first.message
    assert first.counts.error_count == 0
    assert tmdb.list_ranks(conn, list_name="trending", media_type="movie") == [INTERSTELLAR, MATRIX]
    assert fake_tmdb.requests_to(rf"^/movie/{HUGE}$") == []

    # The next day's change feed names one too (with a held title): the run reads the day and moves on.
    fake_tmdb.add_changes("movie", DAY.date(), [HUGE, PROJECT_HAIL_MARY])
    fake_tmdb.state.titles[("movie", PROJECT_HAIL_MARY)].doc["overview"] = "Ryland Grace meets Rocky."
    later = run_sync(conn, settings=sync_settings, triggered_by="cli", now=lambda: DAY + timedelta(days=1))
    assert later.status == "succeeded", later.message
    assert later.counts.error_count == 0 and later.counts.titles_updated == 1
    assert tmdb.changes_through(conn, media_type="movie") == DAY.date()
