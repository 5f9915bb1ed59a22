"""SQL for the movie catalogue: one movie as ready JSON text (the public shape every list shares), genres, counts, and
the bulk upsert (ingest). Lists, search, suggest and similar movies are in movie_search."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from psycopg import errors, sql

from movie_common.database import (
    Connection,
    fetch_all,
    fetch_one,
    fetch_required,
    kept_cursor,
    translate_errors,
)
from movie_common.db.tmdb import FILLABLE as TMDB_FILLABLE
from movie_common.errors import CatalogueBusyError, IngestConflictError, TooManyBadRowsError
from movie_common.movie_rules import MAX_YEAR_DATE_GAP
from movie_common.movie_rules import MovieRow as MovieRow  # re-exported: it lived here before movie_rules

# A row that carries TMDB data names TMDB as its source, as TMDB's API terms ask of every use of its data.
TMDB_NOTICE = "This product uses the TMDB API but is not endorsed or certified by TMDB."

# The public shape of a movie, built by PostgreSQL so the API can send the text as it comes (movie_search builds
# its pages with it too).
MOVIE_JSON = sql.SQL(
    """(SELECT row_to_json(x)::text FROM (SELECT
        m.id, m.title, m.year, m.genre, m.director, m.actors, m.plot, m.poster_url, m.media_type,
        m.release_date, m.runtime, m.rating, m.popularity, m.tmdb_id, m.imdb_id, m.original_language,
        to_char(m.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS updated_at,
        CASE WHEN m.tmdb_id IS NOT NULL THEN json_build_object(
            'source', 'TMDB', 'notice', {notice}::text,
            'url', 'https://www.themoviedb.org/' || m.media_type || '/' || m.tmdb_id) END AS attribution) AS x)"""
).format(notice=sql.Literal(TMDB_NOTICE))


def get_movie_json(conn: Connection, *, movie_id: int) -> str | None:
    row = fetch_one(conn, sql.SQL("SELECT {} AS doc FROM movies m WHERE m.id = %s").format(MOVIE_JSON), (movie_id,))
    return None if row is None else str(row["doc"])


def movie_exists(conn: Connection, *, movie_id: int) -> bool:
    return fetch_one(conn, "SELECT 1 AS one FROM movies WHERE id = %s", (movie_id,)) is not None


def genre_counts(conn: Connection) -> list[dict[str, Any]]:
    """Genres as search matches them, with the number of movies in each: `[{"name": str, "count": int}]`, commonest
    first. Counted by genre_keys (migrations 0013 and 0014: `drama` is `Drama`, `Animated` is `Animation`, `Sci-Fi &
    Fantasy` is both Science Fiction and Fantasy), so a movie counts once in a genre however many of its names map to
    it. Each genre is named by its commonest single spelling in the catalogue (a pair such as `Sci-Fi & Fantasy` names
    none), or, when only pairs name it, by its key in title case (`Politics`)."""
    rows = fetch_all(
        conn,
        """WITH spellings AS (
               SELECT g, count(*) AS n FROM movies m, unnest(m.genre) AS g GROUP BY g
           ), names AS (
               SELECT marquee_genre_key(g) AS key, (array_agg(g ORDER BY n DESC, g))[1] AS name
               FROM spellings WHERE cardinality(marquee_genre_key_set(g)) = 1 GROUP BY 1
           ), counts AS (
               SELECT k AS key, count(*) AS n FROM movies m, unnest(m.genre_keys) AS k GROUP BY k
           )
           SELECT coalesce(names.name, initcap(counts.key)) AS name, counts.n AS count
           FROM counts LEFT JOIN names USING (key) ORDER BY 2 DESC, 1""",
    )
    return [{"name": r["name"], "count": int(r["count"])} for r in rows]


def count_movies(conn: Connection) -> int:
    row = fetch_one(conn, "SELECT count(*) AS n FROM movies")
    return int(row["n"]) if row else 0


def estimate_movies(conn: Connection) -> int:
    """The planner's estimate of the catalogue's size (pg_class.reltuples, kept by ANALYZE and autovacuum): a
    catalogue lookup, not a scan, so a liveness probe can afford it on every call; 0 before the first ANALYZE."""
    row = kept_cursor(conn).execute(_ESTIMATE_MOVIES).fetchone()
    return int(row[0]) if row else 0


_ESTIMATE_MOVIES = "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'movies'::regclass"


# ------------------------------------------------------------------------------------------------------ bulk upsert
#
# Rows are COPYed into a session temp table (`movie_staging`), then merged by set-based statements in one
# transaction: rows repeating a title + year inside the batch are merged into the last of them; each remaining row
# is matched to a movie by (media_type, tmdb_id), else imdb_id, else normalised title + year; matched movies are
# updated only where the row has a value, and only when something would change; the rest are inserted. In replace
# mode the movies no row matched are deleted in the same transaction (readers see the old catalogue until COMMIT,
# then the new one). Lock waits are bounded by lock_timeout and the transaction is retried.

_STAGING_COLUMNS = (
    "line, title, year, genre, director, actors, plot, poster_url, media_type, release_date, runtime, rating, "
    "popularity, tmdb_id, imdb_id, source"
)
_STAGING_TYPES = [
    "int4",
    "text",
    "int2",
    "text[]",
    "text",
    "text[]",
    "text",
    "text",
    "text",
    "date",
    "int2",
    "numeric",
    "float4",
    "int4",
    "text",
    "text",
]
ANALYZE_MIN_ROWS = 1000
_RETRYABLE = (errors.LockNotAvailable, errors.DeadlockDetected, errors.SerializationFailure, errors.UniqueViolation)

# Transaction-level advisory lock taken by a replace's merge: two replaces take turns, so the second plans against
# the catalogue the first committed. Without it each planned against the catalogue as it was, and each deleted
# what the other inserted: two concurrent replaces of 20,001 rows left 10,002 movies, both jobs reporting done.
REPLACE_LOCK_ID = 0x4D41525155455203


# RowNotice codes of rows not written
REFUSALS = ("title_year_taken", "identity_conflict", "duplicate_id", "year_date_conflict")


@dataclass(frozen=True)
class RowNotice:
    """A staged row that was merged or refused: its line, a stable code, and a sentence for people.

    Codes: `duplicate_row` (same title + year as a later row of the batch, merged into it), `same_movie` (matched
    the same movie as a later row), `title_year_taken` (its title and year belong to another movie),
    `identity_conflict` (its title and year match a movie with a different TMDB or IMDb id, or of another media
    type), `duplicate_id` (an earlier row of the batch gives the same IMDb id, or TMDB id and media type, to another
    title and year: one id names one movie), `year_date_conflict` (the row gives a year and no release date, and the
    movie it matched was released more than MAX_YEAR_DATE_GAP years from that year: the year alone would leave a
    movie whose year and date disagree). `field` is the movie field the notice is about and `value` the row's value
    of it (None: the title, which `title` holds).
    """

    line: int
    code: str
    reason: str
    title: str
    other_line: int | None = None
    movie_id: int | None = None
    field: str = "title"
    value: str | None = None

    @property
    def refused(self) -> bool:
        return self.code in REFUSALS


@dataclass(frozen=True)
class UpsertResult:
    """What a bulk upsert did (or, for a dry run, would do). `merged` rows were folded into a later row of the same
    batch, `refused` rows were not written (see RowNotice); `deleted` is non-zero in replace mode only."""

    staged: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    merged: int = 0
    refused: int = 0
    attempts: int = 1

    @property
    def written(self) -> int:
        return self.inserted + self.updated


def create_staging(conn: Connection) -> None:
    """An empty session temp table `movie_staging` for stage_movies; drop_staging removes it and its companions."""
    with translate_errors():
        drop_staging(conn)
        conn.execute(
            """CREATE TEMP TABLE movie_staging (
                   line integer NOT NULL, title text NOT NULL, year smallint, genre text[] NOT NULL,
                   director text, actors text[] NOT NULL, plot text, poster_url text, media_type text,
                   release_date date, runtime smallint, rating numeric(3, 1), popularity real, tmdb_id integer,
                   imdb_id text, source text NOT NULL)"""
        )


def drop_staging(conn: Connection) -> None:
    with translate_errors():
        conn.execute(
            "DROP TABLE IF EXISTS pg_temp.movie_staging, pg_temp.movie_batch, pg_temp.movie_notices, "
            "pg_temp.movie_match, pg_temp.movie_plan"
        )


def stage_movies(conn: Connection, rows: Iterable[MovieRow], *, first_line: int = 1) -> int:
    """COPY rows into `movie_staging` (binary COPY); a row without a line gets its position from `first_line` on.

    Returns the number of rows staged. Lines must be unique within the batch: they identify rows in reports.
    """
    staged = 0
    with (
        translate_errors(),
        conn.cursor().copy(f"COPY movie_staging ({_STAGING_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(_STAGING_TYPES)
        for position, r in enumerate(rows, first_line):
            copy.write_row(
                (
                    r.line if r.line is not None else position,
                    r.title,
                    r.year,
                    r.genre,
                    r.director,
                    r.actors,
                    r.plot,
                    r.poster_url,
                    r.media_type,
                    r.release_date,
                    r.runtime,
                    r.rating,
                    r.popularity,
                    r.tmdb_id,
                    r.imdb_id,
                    r.source,
                )
            )
            staged += 1
    return staged


# The values a matched movie gets: the row's where it has one, the movie's own elsewhere.
# A file's title that reads as the stored one (only case, accents or punctuation differ: `Amelie`, `the shawshank
# redemption`) is no change: the stored spelling stays (the admin form changes a spelling).
# A matched movie keeps its spelling when the file's differs only in case, accents or spacing, or when it was matched
# by its title's lead (punctuation: _plan).
_TITLE = (
    "CASE WHEN m.id IS NOT NULL AND (x.title_norm = m.title_norm OR x.by_lead IS NOT NULL) THEN m.title "
    "ELSE x.title END"
)
_NEW_VALUES = """
    {title} AS title,
    coalesce(x.year, m.year) AS year,
    CASE WHEN cardinality(x.genre) > 0 THEN x.genre ELSE coalesce(m.genre, '{}') END AS genre,
    coalesce(x.director, m.director) AS director,
    CASE WHEN cardinality(x.actors) > 0 THEN x.actors ELSE coalesce(m.actors, '{}') END AS actors,
    coalesce(x.plot, m.plot) AS plot,
    coalesce(x.poster_url, m.poster_url) AS poster_url,
    coalesce(x.media_type, m.media_type, 'movie') AS media_type,
    coalesce(x.release_date, m.release_date) AS release_date,
    coalesce(x.runtime, m.runtime) AS runtime,
    coalesce(x.rating, m.rating) AS rating,
    coalesce(x.popularity, m.popularity, 0) AS popularity,
    coalesce(x.tmdb_id, m.tmdb_id) AS tmdb_id,
    coalesce(x.imdb_id, m.imdb_id) AS imdb_id,
    x.source AS source""".replace("{title}", _TITLE)
# The columns a row gives a value for, by name: a column the TMDB sync filled in (movies.tmdb_filled, 0009) and the
# file now provides is the file's from then on, so later syncs leave it alone.
_PROVIDED = ", ".join(
    f"CASE WHEN {test} THEN '{column}' END"
    for column, test in (
        ("genre", "cardinality(x.genre) > 0"),
        ("director", "x.director IS NOT NULL"),
        ("actors", "cardinality(x.actors) > 0"),
        ("plot", "x.plot IS NOT NULL"),
        ("poster_url", "x.poster_url IS NOT NULL"),
        ("release_date", "x.release_date IS NOT NULL"),
        ("runtime", "x.runtime IS NOT NULL"),
        ("rating", "x.rating IS NOT NULL"),
        ("popularity", "x.popularity IS NOT NULL"),
        ("imdb_id", "x.imdb_id IS NOT NULL"),
    )
)
_MERGED_SCALARS = (
    "director",
    "plot",
    "poster_url",
    "media_type",
    "release_date",
    "runtime",
    "rating",
    "popularity",
    "tmdb_id",
    "imdb_id",
)
_WRITTEN_COLUMNS = (
    "title, year, genre, director, actors, plot, poster_url, media_type, release_date, runtime, rating, popularity, "
    "tmdb_id, imdb_id, source"
)


def _shown(expression: str) -> str:
    """SQL showing a value in a reason: as text, cut to 60 characters (a plot is long)."""
    text = f"{expression}::text"
    return f"CASE WHEN length({text}) > 60 THEN left({text}, 59) || '…' ELSE {text} END"


def _merge_duplicates(conn: Connection) -> int:
    """Fold rows repeating a title + year into the last of them (`movie_batch`); returns how many were folded.

    The kept row takes, field by field, the value of the last row that has one. Each folded row gets a
    `duplicate_row` notice.
    """
    conn.execute("DROP TABLE IF EXISTS pg_temp.movie_batch, pg_temp.movie_notices")
    conn.execute(
        """CREATE TEMP TABLE movie_notices (
               line integer NOT NULL, code text NOT NULL, reason text NOT NULL, title text NOT NULL,
               other_line integer, movie_id bigint, field text NOT NULL DEFAULT 'title', value text)"""
    )
    conn.execute(
        "CREATE TEMP TABLE movie_batch AS SELECT s.*, marquee_normalize(s.title) AS title_norm FROM movie_staging s"
    )
    conn.execute("DROP TABLE IF EXISTS pg_temp.movie_duplicates")
    conn.execute(
        """CREATE TEMP TABLE movie_duplicates AS
           SELECT max(line) AS kept_line, array_agg(line ORDER BY line) AS lines
           FROM movie_batch GROUP BY title_norm, year HAVING count(*) > 1"""
    )
    row = conn.execute("SELECT coalesce(sum(cardinality(lines) - 1), 0) AS n FROM movie_duplicates").fetchone()
    folded = int(row["n"]) if row else 0
    if folded:
        conn.execute("CREATE INDEX ON movie_batch (line)")
        conn.execute("ANALYZE movie_batch")
        latest = "(SELECT y.{0} FROM movie_batch y WHERE y.line = ANY(d.lines) AND {1} ORDER BY y.line DESC LIMIT 1)"
        assignments = [
            f"{column} = coalesce(b.{column}, {latest.format(column, f'y.{column} IS NOT NULL')})"
            for column in _MERGED_SCALARS
        ] + [
            f"{column} = CASE WHEN cardinality(b.{column}) > 0 THEN b.{column} "
            f"ELSE coalesce({latest.format(column, f'cardinality(y.{column}) > 0')}, b.{column}) END"
            for column in ("genre", "actors")
        ]
        # Constant SQL built from the column names above, never from input.
        conn.execute(
            "UPDATE movie_batch b SET "  # noqa: S608
            + ", ".join(assignments)
            + " FROM movie_duplicates d WHERE b.line = d.kept_line"
        )
        # The values of a folded row that the merged row does not keep are named: `director Bob (not this row's Ann)`.
        differing = ", ".join(
            f"CASE WHEN b.{column} IS NOT NULL AND b.{column} IS DISTINCT FROM k.{column} "
            f"THEN format('{column} %s (not this row''s %s)', {_shown(f'k.{column}')}, {_shown(f'b.{column}')}) END"
            for column in _MERGED_SCALARS
        )
        # Constant SQL built from the column names above, never from input.
        conn.execute(
            """INSERT INTO movie_notices (line, code, reason, title, other_line)
               SELECT b.line, 'duplicate_row',
                      format('same title and year as line %s; merged into it', d.kept_line)
                      || coalesce(', which keeps ' || nullif(concat_ws(', ', """  # noqa: S608
            + differing
            + """), ''), ''),
                      b.title, d.kept_line
               FROM movie_duplicates d JOIN movie_batch b ON b.line = ANY(d.lines) AND b.line <> d.kept_line
               JOIN movie_batch k ON k.line = d.kept_line"""
        )
        conn.execute(
            "DELETE FROM movie_batch b USING movie_notices n WHERE n.code = 'duplicate_row' AND b.line = n.line"
        )
    conn.execute("DROP TABLE movie_duplicates")
    return folded


# A TMDB movie, as a replace that keeps TMDB's movies means it: one the sync mirrors whole (source 'tmdb'), or one
# an admin or a file has since changed in part while TMDB still fills its other columns (tmdb_filled).
_FROM_TMDB = "(m.source = 'tmdb' OR cardinality(m.tmdb_filled) > 0)"


def _plan(conn: Connection, *, replace: bool, keep_tmdb: bool) -> dict[str, int]:
    """Match every batch row to a movie and decide what happens to it (`movie_plan`); refused rows get notices.

    Returns the counts {"inserted", "updated", "unchanged", "deleted", "refused", "same_movie"} the plan implies.
    """
    conn.execute("DROP TABLE IF EXISTS pg_temp.movie_match, pg_temp.movie_plan")
    # Each lookup runs only when it can match (COALESCE stops at the first non-null; CASE skips absent ids), so
    # a small batch costs a few index probes per row and a large one never hashes the whole catalogue.
    conn.execute(
        """CREATE TEMP TABLE movie_match AS
           SELECT b.*, coalesce(b.by_tmdb, b.by_imdb, b.by_title) AS movie_id
           FROM (SELECT s.*,
                        CASE WHEN s.tmdb_id IS NOT NULL THEN
                            (SELECT m.id FROM movies m
                             WHERE m.tmdb_id = s.tmdb_id AND m.media_type = coalesce(s.media_type, 'movie')
                             ORDER BY m.id LIMIT 1) END AS by_tmdb,
                        CASE WHEN s.imdb_id IS NOT NULL THEN
                            (SELECT min(m.id) FROM movies m WHERE m.imdb_id = s.imdb_id) END AS by_imdb,
                        (SELECT m.id FROM movies m
                         WHERE m.title_norm = s.title_norm AND m.year IS NOT DISTINCT FROM s.year) AS by_title,
                        NULL::bigint AS by_lead
                 FROM movie_batch s) AS b"""
    )
    # A row that matched nothing, with a year and no ids: the movie of that year whose title has the same lead (the
    # title without article, punctuation and spaces: `The Godfather: Part II` is the catalogue's `The Godfather
    # Part II`, `WALL·E` its `WALL-E`), unless both name a director and they differ; of the same kind. As the TMDB
    # sync matches (db.tmdb._find). The movie keeps its own spelling (_TITLE).
    conn.execute(
        """UPDATE movie_match x SET by_lead = l.id, movie_id = l.id
           FROM (SELECT DISTINCT ON (y.line) y.line, m.id
                 FROM (SELECT z.line, z.year, z.media_type, z.director, marquee_search_lead(z.title) AS lead
                       FROM movie_match z
                       WHERE z.movie_id IS NULL AND z.year IS NOT NULL AND z.tmdb_id IS NULL AND z.imdb_id IS NULL
                       OFFSET 0) AS y
                 JOIN movies m ON m.title_lead = y.lead AND m.year = y.year
                 WHERE y.lead <> '' AND m.media_type = coalesce(y.media_type, m.media_type)
                   AND (m.director_norm IS NULL OR y.director IS NULL
                        OR m.director_norm = marquee_normalize(y.director))
                 ORDER BY y.line, m.id) AS l
           WHERE x.line = l.line"""
    )
    # Refusals: the title and year the row would give its movie belong to another movie (the file's title, and its
    # year or else the movie's own); or only the title and year matched, and the movie found has another TMDB or
    # IMDb id (two films, one name), or is a film where the row says TV (or the other way round).
    conn.execute(
        """INSERT INTO movie_notices (line, code, reason, title, movie_id)
           SELECT x.line, 'title_year_taken',
                  format('movie %s already has this title and year; this row matched movie %s by its %s',
                         x.owner, x.movie_id, CASE WHEN x.by_tmdb IS NOT NULL THEN 'TMDB id' ELSE 'IMDb id' END),
                  x.title, x.owner
           FROM (SELECT y.*,
                        CASE WHEN y.year IS NOT NULL OR y.movie_id = y.by_title THEN y.by_title
                             ELSE (SELECT o.id FROM movies o JOIN movies m ON m.id = y.movie_id
                                   WHERE o.title_norm = y.title_norm AND o.year IS NOT DISTINCT FROM m.year) END
                        AS owner
                 FROM movie_match y WHERE y.movie_id IS NOT NULL) AS x
           WHERE x.owner IS NOT NULL AND x.owner <> x.movie_id
           UNION ALL
           SELECT x.line, 'identity_conflict',
                  CASE WHEN x.media_type IS NOT NULL AND m.media_type <> x.media_type
                       THEN format('movie %s has this title and year but is %s, not %s', m.id,
                                   CASE m.media_type WHEN 'tv' THEN 'a TV show' ELSE 'a film' END,
                                   CASE x.media_type WHEN 'tv' THEN 'a TV show' ELSE 'a film' END)
                       WHEN x.tmdb_id IS NOT NULL AND m.tmdb_id IS NOT NULL AND m.tmdb_id <> x.tmdb_id
                       THEN format('movie %s has this title and year but TMDB id %s, not %s', m.id, m.tmdb_id,
                                   x.tmdb_id)
                       ELSE format('movie %s has this title and year but IMDb id %s, not %s', m.id, m.imdb_id,
                                   x.imdb_id) END,
                  x.title, m.id
           FROM movie_match x JOIN movies m ON m.id = x.by_title
           WHERE x.by_tmdb IS NULL AND x.by_imdb IS NULL
             AND ((x.tmdb_id IS NOT NULL AND m.tmdb_id IS NOT NULL AND m.tmdb_id <> x.tmdb_id)
               OR (x.imdb_id IS NOT NULL AND m.imdb_id IS NOT NULL AND m.imdb_id <> x.imdb_id)
               OR (x.media_type IS NOT NULL AND m.media_type <> x.media_type))"""
    )
    # One id, two titles in one file: the first row that gives an IMDb id (or a TMDB id, for its media type) keeps
    # it; later rows giving it to another title and year are refused (rows of one title and year were merged before).
    conn.execute(
        """INSERT INTO movie_notices (line, code, reason, title, other_line, field, value)
           SELECT DISTINCT ON (x.line) x.line, 'duplicate_id',
                  format('line %s gives this %s to another title (%s)', x.first_line, x.kind,
                         concat_ws(', ', x.first_title, x.first_year)),
                  x.title, x.first_line, x.field, x.id
           FROM (SELECT y.line, y.title, 'IMDb id' AS kind, 'imdb_id' AS field, y.imdb_id AS id,
                        first_value(y.line) OVER w AS first_line, first_value(y.title) OVER w AS first_title,
                        first_value(y.year) OVER w AS first_year
                 FROM movie_match y WHERE y.imdb_id IS NOT NULL
                 WINDOW w AS (PARTITION BY y.imdb_id ORDER BY y.line)
                 UNION ALL
                 SELECT y.line, y.title, 'TMDB id', 'tmdb_id', y.tmdb_id::text,
                        first_value(y.line) OVER w, first_value(y.title) OVER w, first_value(y.year) OVER w
                 FROM movie_match y WHERE y.tmdb_id IS NOT NULL
                 WINDOW w AS (PARTITION BY y.tmdb_id, coalesce(y.media_type, 'movie') ORDER BY y.line)) AS x
           WHERE x.line <> x.first_line AND NOT EXISTS (SELECT 1 FROM movie_notices n WHERE n.line = x.line)
           ORDER BY x.line, x.first_line"""
    )
    # A year far from the matched movie's release date, without a date of its own: the year alone would leave the
    # movie's year and date disagreeing (which movie_rules.check_movie refuses, so every later admin edit would be
    # refused too). The row is refused; with its release date it would be taken.
    conn.execute(
        """INSERT INTO movie_notices (line, code, reason, title, movie_id, field, value)
           SELECT x.line, 'year_date_conflict',
                  format('movie %%s was released on %%s, %%s years from this row''s year %%s; give the release '
                         'date too, or correct the year', m.id, m.release_date,
                         abs(extract(year FROM m.release_date)::integer - x.year), x.year),
                  x.title, m.id, 'year', x.year::text
           FROM movie_match x JOIN movies m ON m.id = x.movie_id
           WHERE x.year IS NOT NULL AND x.release_date IS NULL AND m.release_date IS NOT NULL
             AND abs(extract(year FROM m.release_date)::integer - x.year) > %(gap)s
             AND NOT EXISTS (SELECT 1 FROM movie_notices n WHERE n.line = x.line)""",
        {"gap": MAX_YEAR_DATE_GAP},
    )
    # Several rows matching one movie (by different keys): the last row is used, the others are noted.
    conn.execute(
        """INSERT INTO movie_notices (line, code, reason, title, other_line, movie_id)
           SELECT x.line, 'same_movie',
                  format('matches the same movie (%s) as line %s, which was used', x.movie_id, x.kept_line),
                  x.title, x.kept_line, x.movie_id
           FROM (SELECT y.*, max(y.line) OVER (PARTITION BY y.movie_id) AS kept_line
                 FROM movie_match y
                 WHERE y.movie_id IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM movie_notices n WHERE n.line = y.line)) AS x
           WHERE x.line <> x.kept_line"""
    )
    conn.execute(
        f"""CREATE TEMP TABLE movie_plan AS
            SELECT x.line, x.movie_id, {_NEW_VALUES},
                   array_remove(ARRAY[{_PROVIDED}], NULL) AS provided,
                   m.id IS NULL AS is_new,
                   m.id IS NOT NULL AND (
                       {_TITLE}, coalesce(x.year, m.year),
                       CASE WHEN cardinality(x.genre) > 0 THEN x.genre ELSE m.genre END,
                       coalesce(x.director, m.director),
                       CASE WHEN cardinality(x.actors) > 0 THEN x.actors ELSE m.actors END,
                       coalesce(x.plot, m.plot), coalesce(x.poster_url, m.poster_url),
                       coalesce(x.media_type, m.media_type), coalesce(x.release_date, m.release_date),
                       coalesce(x.runtime, m.runtime), coalesce(x.rating, m.rating),
                       coalesce(x.popularity, m.popularity), coalesce(x.tmdb_id, m.tmdb_id),
                       coalesce(x.imdb_id, m.imdb_id)
                   ) IS DISTINCT FROM (
                       m.title, m.year, m.genre, m.director, m.actors, m.plot, m.poster_url, m.media_type,
                       m.release_date, m.runtime, m.rating, m.popularity, m.tmdb_id, m.imdb_id
                   ) AS changed
            FROM movie_match x LEFT JOIN movies m ON m.id = x.movie_id
            WHERE NOT EXISTS (SELECT 1 FROM movie_notices n WHERE n.line = x.line)"""  # noqa: S608 - constant SQL
    )
    counts = fetch_required(
        conn,
        """SELECT count(*) FILTER (WHERE is_new) AS inserted,
                  count(*) FILTER (WHERE changed) AS updated,
                  count(*) FILTER (WHERE NOT is_new AND NOT changed) AS unchanged
           FROM movie_plan""",
    )
    notices = fetch_required(
        conn,
        """SELECT count(*) FILTER (WHERE code = ANY(%s)) AS refused,
                  count(*) FILTER (WHERE code = 'same_movie') AS same_movie
           FROM movie_notices""",
        (list(REFUSALS),),
    )
    deleted = 0
    if replace:
        conn.execute("CREATE INDEX ON movie_plan (movie_id)")
        row = conn.execute(
            f"""SELECT count(*) AS n FROM movies m
               WHERE NOT (%(keep_tmdb)s AND {_FROM_TMDB})
                 AND NOT EXISTS (SELECT 1 FROM movie_plan p WHERE p.movie_id = m.id)""",  # noqa: S608 - constant SQL
            {"keep_tmdb": keep_tmdb},
        ).fetchone()
        deleted = int(row["n"]) if row else 0
    return {
        "inserted": int(counts["inserted"]),
        "updated": int(counts["updated"]),
        "unchanged": int(counts["unchanged"]),
        "deleted": deleted,
        "refused": int(notices["refused"]),
        "same_movie": int(notices["same_movie"]),
    }


def _apply(conn: Connection, *, replace: bool, keep_tmdb: bool) -> None:
    """Write the plan: delete (replace mode), update, insert.

    Row by row into the live indexes, under the ordinary row locks: readers never wait. (Dropping the secondary
    indexes and building them after the load would need an exclusive lock, and measured slower even into an empty
    catalogue: 10.1 s against 6.6 s for the bundled 36,243 rows.)
    """
    if replace:
        conn.execute(
            f"""DELETE FROM movies m
               WHERE NOT (%(keep_tmdb)s AND {_FROM_TMDB})
                 AND NOT EXISTS (SELECT 1 FROM movie_plan p WHERE p.movie_id = m.id)""",  # noqa: S608 - constant SQL
            {"keep_tmdb": keep_tmdb},
        )
    # A row of TMDB's own (source 'tmdb', which the sync mirrors whole) that a file changes becomes a csv row: the
    # file's columns are the file's, and every other TMDB column is listed in tmdb_filled, as an admin's edit does
    # (update_movie), so the sync keeps those current and purge-tmdb still empties them.
    conn.execute(
        f"""UPDATE movies m SET ({_WRITTEN_COLUMNS}, tmdb_filled, updated_at) = (
                p.title, p.year, p.genre, p.director, p.actors, p.plot, p.poster_url, p.media_type, p.release_date,
                p.runtime, p.rating, p.popularity, p.tmdb_id, p.imdb_id, p.source,
                ARRAY(SELECT c FROM unnest(CASE WHEN m.source = 'tmdb' THEN %(fillable)s::text[] ELSE m.tmdb_filled END)
                                    WITH ORDINALITY AS f (c, n)
                      WHERE c <> ALL (p.provided) ORDER BY n), now())
            FROM movie_plan p WHERE p.changed AND m.id = p.movie_id""",  # noqa: S608 - constant SQL
        {"fillable": list(TMDB_FILLABLE)},
    )
    conn.execute(
        f"""INSERT INTO movies ({_WRITTEN_COLUMNS})
            SELECT {_WRITTEN_COLUMNS} FROM movie_plan WHERE is_new ORDER BY line"""  # noqa: S608 - constant SQL
    )


class _Refused(Exception):  # rolls the plan back; not an error of its own
    def __init__(self, refused: int) -> None:
        self.refused = refused


class TooManyRefusedError(TooManyBadRowsError):
    """merge_staged wrote nothing: its plan refused more rows than its caller accepts (`refused` of them; `merged`
    rows repeating another's title and year had been folded before the plan)."""

    def __init__(self, refused: int, *, merged: int = 0) -> None:
        super().__init__(f"{refused:,} rows were refused when matched against the catalogue; nothing was changed.")
        self.refused = refused
        self.merged = merged


def merge_staged(
    conn: Connection,
    *,
    replace: bool = False,
    keep_tmdb: bool = True,
    dry_run: bool = False,
    lock_timeout_ms: int = 2000,
    attempts: int = 5,
    retry_wait_s: float = 0.5,
    refused_ok: Callable[[int], bool] | None = None,
) -> UpsertResult:
    """Merge the staged rows into the catalogue in one transaction (see the section comment above).

    replace: movies no staged row matched are deleted, except TMDB's (_FROM_TMDB) when keep_tmdb.
    dry_run: everything is decided and counted, nothing is written (validate mode).
    refused_ok: given the number of rows the plan refuses, whether to write it; when it says no, nothing is written,
    the plan's notices are kept for iter_notices, and TooManyRefusedError says how many were refused (a replace
    whose refused rows take it past the bad-row share).
    Lock waits are bounded by lock_timeout_ms; on a lock timeout, deadlock or a concurrent insert of the same
    movie the transaction is rolled back and retried (`attempts` times in all, waits growing from retry_wait_s),
    then CatalogueBusyError. Refused and merged rows are listed by iter_notices until drop_staging.
    """
    started = conn.execute("SELECT count(*) AS n FROM movie_staging").fetchone()
    staged = int(started["n"]) if started else 0
    with translate_errors(), conn.transaction():
        conn.execute("SELECT set_config('statement_timeout', '0', true), set_config('work_mem', '64MB', true)")
        merged = _merge_duplicates(conn)
        conn.execute("CREATE INDEX ON movie_notices (line)")
    counts: dict[str, int] = {}
    attempt = 0
    with translate_errors():  # outermost, so that the retryable errors below are seen as they are
        while True:
            attempt += 1
            try:
                with conn.transaction():
                    conn.execute(
                        """SELECT set_config('statement_timeout', '0', true), set_config('work_mem', '64MB', true),
                                  set_config('lock_timeout', %s, true)""",
                        (f"{lock_timeout_ms}ms",),
                    )
                    if replace and not dry_run:  # bounded by lock_timeout like any lock: retried, then busy
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (REPLACE_LOCK_ID,))
                    # Notices of an earlier attempt's plan are dropped with its rollback; duplicates stay.
                    counts = _plan(conn, replace=replace, keep_tmdb=keep_tmdb)
                    if refused_ok is not None and not refused_ok(counts["refused"]):
                        raise _Refused(counts["refused"])
                    if not dry_run:
                        _apply(conn, replace=replace, keep_tmdb=keep_tmdb)
                break
            except _Refused as refused:
                with conn.transaction():  # planned again, nothing written, committed: its notices say which rows
                    conn.execute(
                        "SELECT set_config('statement_timeout', '0', true), set_config('work_mem', '64MB', true)"
                    )
                    _plan(conn, replace=replace, keep_tmdb=keep_tmdb)
                raise TooManyRefusedError(refused.refused, merged=merged) from None
            except _RETRYABLE as error:
                if attempt >= attempts:
                    if isinstance(error, errors.UniqueViolation):
                        raise IngestConflictError(
                            "Two rows would give movies the same title and year (or TMDB id): "
                            f"{error.diag.message_detail or error}"
                        ) from error
                    raise CatalogueBusyError(
                        f"The catalogue stayed locked by other work through {attempts} attempts; try again shortly."
                    ) from error
                time.sleep(retry_wait_s * 2 ** (attempt - 1))
    changed = counts["inserted"] + counts["updated"] + counts["deleted"]
    if changed and not dry_run:
        # Search plans depend on fresh statistics (see 0003); after a load that changed a tenth of the catalogue
        # they are refreshed at once rather than at autovacuum's next pass. Small uploads leave it to autovacuum.
        with translate_errors():
            row = fetch_one(conn, "SELECT greatest(reltuples, 0) AS n FROM pg_class WHERE oid = 'movies'::regclass")
            if changed >= max(ANALYZE_MIN_ROWS, 0.1 * float(row["n"] if row else 0)):
                conn.execute("ANALYZE movies")
            elif counts["inserted"] or counts["deleted"]:
                # The catalogue's size that /health and the unfiltered /movies total report is the planner's row
                # count, which new rows written into free space do not move: one column's statistics refresh it
                # (a sample of pages: ~50 ms at 36,000 movies, ~3 s at 1,000,000), so every surface agrees.
                conn.execute("ANALYZE movies (id)")
    return UpsertResult(
        staged=staged,
        inserted=counts["inserted"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        deleted=counts["deleted"],
        merged=merged + counts["same_movie"],
        refused=counts["refused"],
        attempts=attempt,
    )


def iter_notices(conn: Connection, *, batch_size: int = 5000) -> Iterator[RowNotice]:
    """The merged and refused rows of the last merge_staged, in line order, fetched batch_size at a time."""
    last = -1
    while True:
        with translate_errors():
            rows = conn.execute(
                """SELECT line, code, reason, title, other_line, movie_id, field, value FROM movie_notices
                   WHERE line > %s ORDER BY line LIMIT %s""",
                (last, batch_size),
            ).fetchall()
        for row in rows:
            yield RowNotice(
                line=row["line"],
                code=row["code"],
                reason=row["reason"],
                title=row["title"],
                other_line=row["other_line"],
                movie_id=row["movie_id"],
                field=row["field"],
                value=row["value"],
            )
        if len(rows) < batch_size:
            return
        last = rows[-1]["line"]


def upsert_movies(
    conn: Connection, rows: Iterable[MovieRow], *, replace: bool = False, keep_tmdb: bool = True
) -> UpsertResult:
    """Stage `rows` and merge them (merge_staged); the temp tables are dropped afterwards.

    Re-running with the same rows changes nothing (they count as unchanged), which makes at-least-once delivery
    safe. Within one batch the last row for a title + year wins, earlier rows filling the fields it leaves empty.
    """
    create_staging(conn)
    try:
        stage_movies(conn, rows)
        return merge_staged(conn, replace=replace, keep_tmdb=keep_tmdb)
    finally:
        drop_staging(conn)


# ---------------------------------------------------------------- the admin's view and edits (issue 9)

_ADMIN_MOVIE_COLUMNS = sql.SQL(
    """m.id, m.title, m.year, m.genre, m.director, m.actors, m.plot, m.poster_url, m.media_type, m.release_date,
       m.runtime, m.rating, m.popularity, m.tmdb_id, m.imdb_id, m.source, m.original_language, m.tmdb_fetched_at,
       m.tmdb_gone_at, m.tmdb_filled, m.created_at, m.updated_at"""
)
ADMIN_SORTS: dict[str, sql.Composable] = {
    "title.asc": sql.SQL("m.title_norm ASC, m.id ASC"),
    "title.desc": sql.SQL("m.title_norm DESC, m.id DESC"),
    "year.desc": sql.SQL("m.year DESC NULLS LAST, m.id DESC"),
    "year.asc": sql.SQL("m.year ASC NULLS LAST, m.id ASC"),
    "updated.desc": sql.SQL("m.updated_at DESC, m.id DESC"),
    "updated.asc": sql.SQL("m.updated_at ASC, m.id ASC"),
    "popularity.desc": sql.SQL("m.popularity DESC, m.id ASC"),
    "id.desc": sql.SQL("m.id DESC"),
    "id.asc": sql.SQL("m.id ASC"),
}


@dataclass(frozen=True)
class AdminMovie:
    """A catalogue row with every column the admin may see (release_date a date, rating 0-10, runtime minutes), and
    its TMDB provenance (0009): when TMDB last answered for it, whether TMDB has dropped it, and which columns of a
    csv or admin row TMDB filled in (the sync keeps those current)."""

    id: int
    title: str
    year: int | None
    genre: list[str]
    director: str | None
    actors: list[str]
    plot: str | None
    poster_url: str | None
    media_type: str
    release_date: date | None
    runtime: int | None
    rating: Decimal | None
    popularity: float
    tmdb_id: int | None
    imdb_id: str | None
    source: str
    original_language: str | None
    tmdb_fetched_at: datetime | None
    tmdb_gone_at: datetime | None
    tmdb_filled: list[str]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MovieFields:
    """What an admin writes on a movie (already validated by movie_common.movie_rules)."""

    title: str
    year: int | None
    genre: list[str]
    director: str | None
    actors: list[str]
    plot: str | None
    poster_url: str | None
    media_type: str
    release_date: date | None
    runtime: int | None
    rating: Decimal | None
    imdb_id: str | None


@dataclass(frozen=True)
class AdminMovieFilters:
    search: str | None = None  # substring of the title's search text (or of the normalised title: punctuation alone)
    year: int | None = None
    media_type: str | None = None
    source: str | None = None
    genre: str | None = None  # one genre, matched normalised


def _admin_movie_where(conn: Connection, filters: AdminMovieFilters) -> tuple[sql.Composable, dict[str, Any]]:
    clauses: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if filters.search:
        # The search text (case, accents and punctuation as the public title search reads them: `spider-man` finds
        # Spider-Man, `rocky ii` Rocky II) through title_search's trigram index; a text of punctuation alone (`?!`,
        # which has no search text) is matched in the normalised title instead. Which of the two is decided here,
        # not in the statement, so that a prepared statement's generic plan still reads the index. Escaped after
        # normalising, which could otherwise turn a typed character into a LIKE wildcard's escape.
        found = fetch_one(conn, "SELECT marquee_search_text(%s) AS text", (filters.search,))
        search_text = found["text"] if found else None
        if search_text:
            clauses.append(sql.SQL("m.title_search LIKE '%%' || marquee_like_escape(%(search_text)s) || '%%'"))
            params["search_text"] = search_text
        else:
            clauses.append(
                sql.SQL("m.title_norm LIKE '%%' || marquee_like_escape(marquee_normalize(%(search)s)) || '%%'")
            )
        params["search"] = filters.search
    for column, value in (("year", filters.year), ("media_type", filters.media_type), ("source", filters.source)):
        if value is not None:
            clauses.append(sql.SQL("m.{} = {}").format(sql.Identifier(column), sql.Placeholder(column)))
            params[column] = value
    if filters.genre:
        clauses.append(sql.SQL("m.genre_keys @> marquee_genre_keys(ARRAY[%(genre)s])"))
        params["genre"] = filters.genre
    if not clauses:
        return sql.SQL(""), params
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses), params


def list_admin_movies(
    conn: Connection, *, filters: AdminMovieFilters, sort: str, limit: int, offset: int
) -> tuple[list[AdminMovie], int]:
    """One page of movies (ADMIN_SORTS order) and how many match the filters."""
    where, params = _admin_movie_where(conn, filters)
    rows = fetch_all(
        conn,
        sql.SQL(
            """SELECT {columns}, count(*) OVER () AS total FROM movies m {where}
               ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s"""
        ).format(columns=_ADMIN_MOVIE_COLUMNS, where=where, order=ADMIN_SORTS[sort]),
        {**params, "limit": limit, "offset": offset},
    )
    if not rows:
        count = fetch_one(conn, sql.SQL("SELECT count(*) AS total FROM movies m {}").format(where), params)
        return [], int(count["total"]) if count else 0
    return [AdminMovie(**{k: v for k, v in row.items() if k != "total"}) for row in rows], int(rows[0]["total"])


def get_admin_movie(conn: Connection, *, movie_id: int, lock: bool = False) -> AdminMovie | None:
    row = fetch_one(
        conn,
        sql.SQL("SELECT {} FROM movies m WHERE m.id = %s {}").format(
            _ADMIN_MOVIE_COLUMNS, sql.SQL("FOR UPDATE" if lock else "")
        ),
        (movie_id,),
    )
    return None if row is None else AdminMovie(**row)


def find_title_year(conn: Connection, *, title: str, year: int | None) -> int | None:
    """The id of the movie with this normalised title and year (the movies_title_year_key identity), if any."""
    row = fetch_one(
        conn,
        "SELECT id FROM movies WHERE title_norm = marquee_normalize(%s) AND year IS NOT DISTINCT FROM %s",
        (title, year),
    )
    return None if row is None else int(row["id"])


def _fields(fields: MovieFields) -> dict[str, Any]:
    return {name: getattr(fields, name) for name in MovieFields.__dataclass_fields__}


def insert_movie(conn: Connection, *, fields: MovieFields, source: str = "admin") -> int | None:
    """Insert one movie; None when its title + year is taken (nothing written)."""
    row = fetch_one(
        conn,
        """INSERT INTO movies (title, year, genre, director, actors, plot, poster_url, media_type, release_date,
                               runtime, rating, imdb_id, source)
           VALUES (%(title)s, %(year)s, %(genre)s, %(director)s, %(actors)s, %(plot)s, %(poster_url)s,
                   %(media_type)s, %(release_date)s, %(runtime)s, %(rating)s, %(imdb_id)s, %(source)s)
           ON CONFLICT ON CONSTRAINT movies_title_year_key DO NOTHING
           RETURNING id""",
        {**_fields(fields), "source": source},
    )
    return None if row is None else int(row["id"])


def update_movie(conn: Connection, *, movie_id: int, fields: MovieFields, changed: Iterable[str]) -> bool:
    """Replace a movie's editable fields; False (nothing written) when its new title + year is another movie's.

    `changed` names the fields whose values differ from the row's. They are the admin's from then on, as a file's
    values are after an ingest: they leave `tmdb_filled`, so the TMDB sync no longer rewrites them. A row of TMDB's
    own (source 'tmdb', which the sync mirrors whole) becomes an admin row whose other TMDB columns are listed in
    `tmdb_filled`: the sync keeps those current and leaves the admin's fields, title and year alone. A TMDB id
    names a title of one media type (TMDB numbers movies and TV series apart): a row whose type changes leaves its
    TMDB id behind (and its fetch and gone times), so the sync finds it again by title + year among the new type
    rather than fetching the TV series (or movie) that has the old type's id onto it.
    """
    try:
        with translate_errors(), conn.transaction():  # a savepoint: the caller's transaction survives a refusal
            conn.execute(
                """UPDATE movies SET title = %(title)s, year = %(year)s, genre = %(genre)s, director = %(director)s,
                      actors = %(actors)s, plot = %(plot)s, poster_url = %(poster_url)s, media_type = %(media_type)s,
                      release_date = %(release_date)s, runtime = %(runtime)s, rating = %(rating)s,
                      imdb_id = %(imdb_id)s,
                      tmdb_filled = ARRAY(
                          SELECT c FROM unnest(CASE WHEN source = 'tmdb' THEN %(fillable)s::text[] ELSE tmdb_filled END)
                                        WITH ORDINALITY AS f (c, n)
                          WHERE c <> ALL (%(changed)s::text[]) ORDER BY n),
                      source = CASE WHEN source = 'tmdb' THEN 'admin' ELSE source END,
                      tmdb_id = CASE WHEN media_type = %(media_type)s THEN tmdb_id END,
                      tmdb_fetched_at = CASE WHEN media_type = %(media_type)s THEN tmdb_fetched_at END,
                      tmdb_gone_at = CASE WHEN media_type = %(media_type)s THEN tmdb_gone_at END,
                      updated_at = now()
               WHERE id = %(id)s""",
                {**_fields(fields), "id": movie_id, "changed": list(changed), "fillable": list(TMDB_FILLABLE)},
            )
    except errors.UniqueViolation:
        return False
    return True


def delete_movie(conn: Connection, *, movie_id: int) -> bool:
    return fetch_one(conn, "DELETE FROM movies WHERE id = %s RETURNING id", (movie_id,)) is not None
