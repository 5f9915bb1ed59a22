"""Fixtures of the ingest tests: the shared real-world test files (../shared/data, see PROVENANCE.md there)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

REPO = Path(__file__).resolve().parents[3]


def shared_data_file(name: str) -> Path:
    """A file of the team's shared test data: $MARQUEE_SHARED_DATA, or ../shared/data beside the repository (a
    worktree under wt/ looks one level higher). Skips the test when the data is not on this machine."""
    folders = [Path(os.environ["MARQUEE_SHARED_DATA"])] if os.environ.get("MARQUEE_SHARED_DATA") else []
    folders += [REPO.parent / "shared" / "data", REPO.parent.parent / "shared" / "data"]
    for folder in folders:
        if (folder / name).exists():
            return folder / name
    pytest.skip(f"shared test data {name} not found in {', '.join(str(f) for f in folders)}")


@pytest.fixture(scope="session")
def imdb_top_1000() -> Path:
    """The Kaggle "IMDB top 1000" CSV, byte for byte: CRLF, no final newline, `142 min`, Apollo 13's year `PG`."""
    return shared_data_file("imdb_top_1000.csv")


@pytest.fixture
def scratch_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty database of its own on the test server, for tests that commit (a replace of the whole catalogue,
    the CLI); the handlers' settings point at it for the test. Dropped afterwards."""
    name = f"{psycopg.conninfo.conninfo_to_dict(database_url)['dbname']}_scratch"
    admin_url = psycopg.conninfo.make_conninfo(database_url, dbname="postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(database_url, dbname=name)
    monkeypatch.setenv("DATABASE_URL", url)
    _clear_setting_caches()
    try:
        yield url
    finally:
        monkeypatch.undo()
        _clear_setting_caches()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _clear_setting_caches() -> None:
    """Settings are read once per process; tests that change the environment read them again."""
    from movie_common.database import close_connection
    from movie_common.settings import get_settings
    from movie_ingest import handler, storage
    from movie_ingest.settings import ingest_settings

    close_connection()
    for cached in (get_settings, ingest_settings, handler.object_store, storage._s3_client):
        cached.cache_clear()
