"""Migrations, partitions and the catalogue's duplicate rules against a real PostgreSQL."""

from __future__ import annotations

import os
import threading
from typing import Any

import psycopg
import pytest
from psycopg import sql

from movie_common.database import connect
from movie_common.db import movies
from movie_common.db.movies import MovieRow
from movie_common.migrations import available_migrations, migrate


def test_migrations_are_recorded_and_reapplying_is_a_no_op(conn: Any) -> None:
    versions = [row["version"] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == [m.version for m in available_migrations()]
    assert migrate(conn) == []


@pytest.mark.commit
@pytest.mark.slow  # 0.4 s or more alone
def test_concurrent_migrations_of_an_empty_database_apply_each_migration_once(database_url: str) -> None:
    """Four cold starts migrating a brand-new database at once: the advisory lock makes them take turns, so each
    migration is applied exactly once and nobody fails on a half-built schema."""
    name = f"marquee_race_{os.getpid()}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(database_url, dbname=name)
    applied: list[list[str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        try:
            with connect(url, statement_timeout_ms=0) as own:
                barrier.wait()
                applied.append(migrate(own))
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        names = [m.name for m in available_migrations()]
        assert sorted(applied, key=len) == [[], [], [], names]  # one did it all, three found nothing to do
        with connect(url) as check:
            rows = check.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
            assert [r["version"] for r in rows] == [m.version for m in available_migrations()]
            assert check.execute("SELECT to_regclass('movies') IS NOT NULL AS ok").fetchone() == {"ok": True}
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_usage_logs_have_a_partition_for_this_month_and_the_next_two(conn: Any) -> None:
    parts = conn.execute(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'usage_logs'::regclass ORDER BY 1"""
    ).fetchall()
    names = {row["relname"] for row in parts}
    month = conn.execute("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM') AS m").fetchone()["m"]
    assert f"usage_logs_{month}" in names and "usage_logs_default" in names
    assert len(names) >= 4
    assert conn.execute("SELECT marquee_ensure_usage_partitions(2) AS n").fetchone() == {"n": 0}  # idempotent


def test_default_plans_have_the_documented_limits(conn: Any) -> None:
    plans = conn.execute("SELECT id, daily_quota, per_minute FROM plans WHERE id IN ('free','pro','unlimited')")
    assert {r["id"]: (r["daily_quota"], r["per_minute"]) for r in plans} == {
        "free": (100, 30),
        "pro": (50000, 600),
        "unlimited": (None, 3000),
    }


@pytest.mark.slow
def test_upsert_merges_titles_that_differ_only_in_case_accents_or_spaces(conn: Any) -> None:
    first = MovieRow("Amélie  Test", 2001, ["Comedy"], "Jean-Pierre Jeunet", ["Audrey Tautou"], "Plot one.", None)
    again = MovieRow("amelie test", 2001, ["Comedy", "Romance"], None, ["Audrey Tautou"], None, "https://x/p.jpg")
    movies.upsert_movies(conn, [first])
    movies.upsert_movies(conn, [again, again])
    rows = conn.execute(
        "SELECT title, genre, director, plot, poster_url FROM movies WHERE title_norm = 'amelie test'"
    ).fetchall()
    assert rows == [
        {
            "title": "Amélie  Test",  # the stored spelling stays: the second title reads the same
            "genre": ["Comedy", "Romance"],
            "director": "Jean-Pierre Jeunet",
            "plot": "Plot one.",
            "poster_url": "https://x/p.jpg",
        }
    ]


@pytest.mark.slow
def test_same_title_in_another_year_is_another_movie(conn: Any) -> None:
    movies.upsert_movies(
        conn,
        [
            MovieRow("Remake Test", 1960, [], None, [], None, None),
            MovieRow("Remake Test", 2010, [], None, [], None, None),
        ],
    )
    assert conn.execute("SELECT count(*) AS n FROM movies WHERE title = 'Remake Test'").fetchone()["n"] == 2


@pytest.mark.slow  # over 0.35 s (README: the fast tier)
def test_a_small_upsert_keeps_the_catalogue_size_that_health_reports_current(conn: Any) -> None:
    # A tester added 3,001 movies to the 36,243 and /health still said 36,243 (the rows went into free space, so
    # the planner's count did not move, and the load was under ANALYZE's threshold).
    conn.execute("DELETE FROM movies WHERE id IN (SELECT id FROM movies ORDER BY id LIMIT 5)")
    conn.execute("ANALYZE movies")
    before = movies.count_movies(conn)
    assert movies.estimate_movies(conn) == before
    result = movies.upsert_movies(conn, [MovieRow(f"Size Probe {i}", 2001, [], None, [], None, None) for i in range(3)])
    assert result.inserted == 3
    assert movies.estimate_movies(conn) == movies.count_movies(conn) == before + 3


def test_connections_can_skip_waiting_for_the_wal_flush(database_url: str) -> None:
    from movie_common.settings import Settings, load_settings

    base = load_settings()
    relaxed = Settings(**{**base.__dict__, "db_synchronous_commit": False})
    with connect(database_url, settings=relaxed) as fast, connect(database_url, settings=base) as safe:
        assert fast.execute("SHOW synchronous_commit").fetchone() == {"synchronous_commit": "off"}
        assert safe.execute("SHOW synchronous_commit").fetchone() == {"synchronous_commit": "on"}
