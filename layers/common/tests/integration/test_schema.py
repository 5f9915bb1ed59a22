"""Migrations, partitions and the catalogue's duplicate rules against a real PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

from movie_common.database import connect
from movie_common.db import movies
from movie_common.db.movies import MovieRow
from movie_common.migrations import available_migrations, migrate


def test_migrations_are_recorded_and_reapplying_is_a_no_op(conn: Any) -> None:
    versions = [row["version"] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == [m.version for m in available_migrations()]
    assert migrate(conn) == []


def test_concurrent_migrations_wait_for_each_other(database_url: str) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with connect(database_url) as own:
                migrate(own)
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_usage_logs_have_a_partition_for_this_month_and_the_next_two(conn: Any) -> None:
    parts = conn.execute(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'usage_logs'::regclass ORDER BY 1"""
    ).fetchall()
    names = {row["relname"] for row in parts}
    month = conn.execute("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM') AS m").fetchone()["m"]
    assert f"usage_logs_{month}" in names and "usage_logs_default" in names
    assert len(names) >= 4
    conn.execute("SELECT marquee_ensure_usage_partitions(2)")  # idempotent


def test_default_plans_have_the_documented_limits(conn: Any) -> None:
    plans = conn.execute("SELECT id, daily_quota, per_minute FROM plans WHERE id IN ('free','pro','unlimited')")
    assert {r["id"]: (r["daily_quota"], r["per_minute"]) for r in plans} == {
        "free": (100, 30),
        "pro": (50000, 600),
        "unlimited": (None, 3000),
    }


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
            "title": "amelie test",
            "genre": ["Comedy", "Romance"],
            "director": "Jean-Pierre Jeunet",
            "plot": "Plot one.",
            "poster_url": "https://x/p.jpg",
        }
    ]


def test_same_title_in_another_year_is_another_movie(conn: Any) -> None:
    movies.upsert_movies(
        conn,
        [
            MovieRow("Remake Test", 1960, [], None, [], None, None),
            MovieRow("Remake Test", 2010, [], None, [], None, None),
        ],
    )
    assert conn.execute("SELECT count(*) AS n FROM movies WHERE title = 'Remake Test'").fetchone()["n"] == 2
