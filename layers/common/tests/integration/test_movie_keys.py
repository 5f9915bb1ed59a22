"""The movies table's search keys, written by 0010's trigger since it replaced the generated columns: the same values
the generated columns computed, kept current on every write, and the typo variants of title words unchanged; then
0011's free-text documents."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from unittest import mock

import psycopg
import pytest
from psycopg import sql

from movie_common import migrations
from movie_common.database import connect

KEYS = (
    "title_norm",
    "genre_keys",
    "director_norm",
    "search_doc",
    "title_search",
    "title_lead",
    "title_words",
    "director_words",
    "director_key",
    "actors_words",
    "actors_key",
)
SOURCE = ("title", "year", "genre", "director", "actors", "plot")
# Titles and names that exercise every rule of the keys: articles, punctuation inside words, numerals, accents,
# apostrophes, initials, empty and missing values.
EDGE_ROWS = [
    ("The Godfather Part II", 1905, ["Crime", "Drama"], "Francis Ford Coppola", ["Al Pacino", "Robert De Niro"], "x"),
    ("M*A*S*H", 1906, ["Comedy", "War"], "Robert Altman", ["Donald Sutherland"], None),
    ("Spider-Man: No Way Home", 1907, [], "Jon Watts", [], "A spider's web."),
    ("Amélie", 1908, ["Romance"], "Jean-Pierre Jeunet", ["Audrey Tautou", "Mathieu Kassovitz"], "Paris."),
    ("A", 1909, ["Drama"], None, ["Conan O'Brien", "D.W. Griffith"], ""),
    ("An Officer and a Gentleman", 1910, ["Drama"], "Taylor Hackford", ["Richard Gere", "Debra Winger"], None),
    ("Rocky IV", 1911, ["Sport"], "Sylvester Stallone", ["Sylvester Stallone"], "Rocky fights again."),
    ("  Lots   of    Space  ", 1912, ["  Sci-Fi  "], "  ", ["", "Somebody"], "Spaces."),
    ("Up!", 1913, ["Animation", "Family"], "Pete Docter", ["Ed Asner"], "Balloons & a house."),
    ("Zzyzx: A Film Without A Year", None, ["Drama"], "Nobody", [], "No year."),
    ("100% Wolf", 1914, ["Animation"], "Alexs Stadermann", ["Ilai Swindells"], None),
]


@pytest.fixture
def database_at_0009(database_url: str) -> Iterator[str]:
    """A database of its own migrated up to 0009 (the generated columns), dropped afterwards."""
    name = f"marquee_keys_{os.getpid()}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(database_url, dbname=name)
    everything = migrations.available_migrations()
    with (
        mock.patch.object(migrations, "available_migrations", lambda: [m for m in everything if m.version <= 9]),
        connect(url, statement_timeout_ms=0) as own,
    ):
        migrations.migrate(own)
    try:
        yield url
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _keys(conn: Any, where: str = "true", params: tuple[Any, ...] = ()) -> dict[int, tuple[Any, ...]]:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in KEYS)
    rows = conn.execute(sql.SQL("SELECT id, {} FROM movies WHERE ").format(columns) + sql.SQL(where), params).fetchall()
    return {row["id"]: tuple(row[c] for c in KEYS) for row in rows}


@pytest.mark.commit
@pytest.mark.slow
def test_the_trigger_writes_the_keys_the_generated_columns_computed_for_every_catalogue_movie(
    database_url: str, database_at_0009: str
) -> None:
    """The bundled catalogue and the edge cases are written under 0009 (generated columns), then 0010 is applied:
    the keys it keeps are what the generated columns computed; the same movies written again through the trigger,
    and their keys computed again by an update, are equal to them."""
    with connect(database_url) as source:
        catalogue = [
            tuple(row[c] for c in SOURCE)
            for row in source.execute("SELECT title, year, genre, director, actors, plot FROM movies ORDER BY id")
        ]
    assert len(catalogue) > 30_000
    rows = catalogue + EDGE_ROWS
    with connect(database_at_0009, statement_timeout_ms=0) as conn:
        with (
            conn.transaction(),
            conn.cursor().copy("COPY movies (title, year, genre, director, actors, plot) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        generated = _keys(conn)
        assert len(generated) == len(rows)
        # The old typo variants of every title word, before 0010 redefines the function.
        variants_before = {
            r["word"]: sorted(r["variants"])
            for r in conn.execute("SELECT word, marquee_word_variants(word) AS variants FROM movie_title_words")
        }

        upto_0010 = [m for m in migrations.available_migrations() if m.version <= 10]
        with mock.patch.object(migrations, "available_migrations", lambda: upto_0010):
            assert migrations.migrate(conn) == [upto_0010[-1].name]
        assert _keys(conn) == generated  # the columns kept their values

        # Written again through the trigger: the same keys, row for row (ids follow the insert order).
        with conn.transaction():
            offset = conn.execute("SELECT max(id) AS n FROM movies").fetchone()["n"]
            conn.execute("DELETE FROM movies")
            with conn.cursor().copy("COPY movies (title, year, genre, director, actors, plot) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            rewritten = _keys(conn)
            assert {movie_id - offset: keys for movie_id, keys in rewritten.items()} == generated
            # An update that changes what the keys derive from computes them again: changed and changed back.
            conn.execute("UPDATE movies SET title = title || ' x', director = director || ' x', plot = 'y'")
            conn.execute(
                """UPDATE movies SET title = left(title, -2),
                                     director = CASE WHEN director IS NULL THEN NULL ELSE left(director, -2) END,
                                     plot = NULL"""
            )
            conn.execute(
                "UPDATE movies m SET plot = s.plot FROM (SELECT unnest(%s::bigint[]) AS id, "
                "unnest(%s::text[]) AS plot) AS s WHERE m.id = s.id",
                ([offset + i + 1 for i in range(len(rows))], [row[5] for row in rows]),
            )
            assert {movie_id - offset: keys for movie_id, keys in _keys(conn).items()} == generated
            raise psycopg.Rollback()

        variants_after = {
            r["word"]: sorted(r["variants"])
            for r in conn.execute("SELECT word, marquee_word_variants(word) AS variants FROM movie_title_words")
        }
        assert variants_after == variants_before

        # 0011 computes every free-text document again (normalised, with the title's search words); the other keys
        # keep their values, and each document is what the keys function now gives for its row.
        upto_0011 = [m for m in migrations.available_migrations() if m.version <= 11]
        with mock.patch.object(migrations, "available_migrations", lambda: upto_0011):
            assert migrations.migrate(conn) == ["0011_free_text_normalised.sql"]
        document = KEYS.index("search_doc")
        after = _keys(conn)
        assert {i: k[:document] + k[document + 1 :] for i, k in after.items()} == {
            i: k[:document] + k[document + 1 :] for i, k in generated.items()
        }
        stale = conn.execute(
            """SELECT count(*) AS n FROM movies WHERE search_doc
                   IS DISTINCT FROM (marquee_movie_keys(title, genre, director, actors, plot)).search_doc"""
        ).fetchone()["n"]
        assert stale == 0
        changed = sum(after[i][document] != generated[i][document] for i in generated)
        assert changed > len(rows) // 2  # every title's words are in its document twice now

        # 0013 maps genre synonyms (Animated is Animation): only the genre keys of the movies that have one change.
        upto_0013 = [m for m in migrations.available_migrations() if m.version <= 13]
        with mock.patch.object(migrations, "available_migrations", lambda: upto_0013):
            assert migrations.migrate(conn) == ["0012_key_history.sql", "0013_genre_synonyms.sql"]
        genres = KEYS.index("genre_keys")
        synonyms = {"animated": "animation", "sport": "sports", "historical": "history", "sci-fi": "science fiction"}
        final = _keys(conn)
        assert {i: k[:genres] + k[genres + 1 :] for i, k in final.items()} == {
            i: k[:genres] + k[genres + 1 :] for i, k in after.items()
        }
        assert {i: k[genres] for i, k in final.items()} == {
            i: [synonyms.get(g, g) for g in k[genres]] for i, k in after.items()
        }
        assert 500 < sum(final[i][genres] != after[i][genres] for i in after) < len(rows) // 10

        # 0014 names each genre key once (the catalogue has no pairs such as `Sci-Fi & Fantasy`): only the movies
        # whose genres name one genre twice (`Sport` and `Sports`) change, and nothing else of theirs.
        upto_0014 = [m for m in migrations.available_migrations() if m.version <= 14]
        with mock.patch.object(migrations, "available_migrations", lambda: upto_0014):
            assert migrations.migrate(conn) == ["0014_genre_compounds.sql"]
        deduplicated = _keys(conn)
        assert {i: k[:genres] + k[genres + 1 :] for i, k in deduplicated.items()} == {
            i: k[:genres] + k[genres + 1 :] for i, k in final.items()
        }
        assert {i: k[genres] for i, k in deduplicated.items()} == {
            i: list(dict.fromkeys(k[genres])) for i, k in final.items()
        }
        repeated = sum(len(set(k[genres])) < len(k[genres]) for k in final.values())
        assert 0 < repeated == sum(deduplicated[i][genres] != final[i][genres] for i in final)


def test_an_insert_computes_the_keys_and_ignores_values_given_for_them(conn: Any) -> None:
    movie_id = conn.execute(
        """INSERT INTO movies (title, year, genre, director, actors, title_norm, title_lead)
           VALUES ('The Third Man', 1949, '{Film-Noir}', 'Carol Reed', '{Orson Welles}', 'forged', 'forged')
           RETURNING id"""
    ).fetchone()["id"]
    row = conn.execute(
        "SELECT title_norm, title_lead, genre_keys, director_key, actors_words FROM movies WHERE id = %s", (movie_id,)
    ).fetchone()
    assert row == {
        "title_norm": "the third man",
        "title_lead": "thirdman",
        "genre_keys": ["noir"],  # Film-Noir is Noir (0013's synonyms)
        "director_key": "|carolreed|",
        "actors_words": "|orson welles|",
    }


def test_an_update_of_a_title_computes_its_keys_and_one_of_a_key_alone_is_put_back(conn: Any) -> None:
    movie_id = conn.execute(
        "INSERT INTO movies (title, year, director) VALUES ('Brazzaville Nights', 1931, 'Terry Gilliam') RETURNING id"
    ).fetchone()["id"]
    conn.execute("UPDATE movies SET title = 'The Brazzaville Affair' WHERE id = %s", (movie_id,))
    assert conn.execute("SELECT title_norm, title_lead FROM movies WHERE id = %s", (movie_id,)).fetchone() == {
        "title_norm": "the brazzaville affair",
        "title_lead": "brazzavilleaffair",
    }
    # Words of the new title join the typo-search vocabulary (0003's statement trigger, unchanged).
    assert conn.execute("SELECT 1 FROM movie_title_words WHERE word = 'affair'").fetchone() is not None
    conn.execute("UPDATE movies SET title_norm = 'forged', director_key = 'forged' WHERE id = %s", (movie_id,))
    assert conn.execute("SELECT title_norm, director_key FROM movies WHERE id = %s", (movie_id,)).fetchone() == {
        "title_norm": "the brazzaville affair",
        "director_key": "|terrygilliam|",
    }
    # An update that touches none of the sources leaves the keys as they are.
    conn.execute("UPDATE movies SET popularity = 12.5 WHERE id = %s", (movie_id,))
    assert conn.execute("SELECT title_lead FROM movies WHERE id = %s", (movie_id,)).fetchone()["title_lead"] == (
        "brazzavilleaffair"
    )


def test_word_variants_are_the_word_and_each_deletion_of_one_letter(conn: Any) -> None:
    rows = conn.execute(
        """SELECT w, marquee_word_variants(w) AS variants FROM unnest(%s::text[]) AS w""",
        (["the", "a", "", "aab", "été", "ii"],),
    ).fetchall()
    assert {r["w"]: sorted(r["variants"]) for r in rows} == {
        "the": ["he", "te", "th", "the"],
        "a": ["", "a"],
        "": [""],
        "aab": ["aa", "aab", "ab"],
        "été": sorted(["été", "té", "éé", "ét"]),
        "ii": ["i", "ii"],
    }
