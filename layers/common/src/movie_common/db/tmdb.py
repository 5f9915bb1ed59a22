"""SQL of the TMDB sync: the title upsert (by TMDB id, then title + year), gone flags, the fetch queue, change-feed
watermarks, list ranks, the configuration cache and the purge of TMDB data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from movie_common.database import Connection, fetch_all, fetch_one, fetch_required, translate_errors
from movie_common.errors import TitleConflictError
from movie_common.movie_rules import MAX_YEAR_DATE_GAP

MEDIA_TYPES = ("movie", "tv")
LISTS = ("trending", "popular", "upcoming", "now_playing")


class TitleYearTakenError(TitleConflictError):
    """The TMDB title's normalised title + year are another row's (movies_title_year_key)."""


class TitleRefusedError(ValueError):
    """PostgreSQL refused one TMDB title's values (a data error or a check constraint): the sync skips and reports
    that title and goes on."""


@dataclass(frozen=True)
class TmdbTitle:
    """A title as TMDB describes it (movie details or TV series details), mapped onto the catalogue's columns.

    `rating` is TMDB's vote average rounded to one decimal (None when nobody voted); `popularity` is TMDB's score.
    """

    media_type: str
    tmdb_id: int
    title: str
    year: int | None
    release_date: date | None
    genre: list[str]
    director: str | None
    actors: list[str]
    plot: str | None
    poster_url: str | None
    imdb_id: str | None
    runtime: int | None
    rating: Decimal | None
    popularity: float
    original_language: str | None
    adult: bool = False
    original_title: str | None = None  # TMDB's original_title (original_name for TV): matching only, not stored


# Columns TMDB may fill, with the types their parameters are cast to (the comparison that decides "unchanged" is
# done by PostgreSQL, so a float rounded to `real` or a numeric(3,1) compares as stored). Title and year are the
# row's identity: TMDB writes them on its own rows only, never on a csv or admin row it matched.
FILLABLE: dict[str, str] = {
    "genre": "text[]",
    "director": "text",
    "actors": "text[]",
    "plot": "text",
    "poster_url": "text",
    "release_date": "date",
    "runtime": "smallint",
    "rating": "numeric",
    "popularity": "real",
    "imdb_id": "text",
    "original_language": "text",
}
_IDENTITY = {"title": "text", "year": "smallint"}
# What "empty" is for each fillable column (popularity is NOT NULL DEFAULT 0).
_EMPTY: dict[str, Any] = {"genre": [], "actors": [], "popularity": 0}


def _is_empty(column: str, value: Any) -> bool:
    return value is None or value == "" or value == _EMPTY.get(column)


def _values(title: TmdbTitle) -> dict[str, Any]:
    return {
        "title": title.title,
        "year": title.year,
        "genre": title.genre,
        "director": title.director,
        "actors": title.actors,
        "plot": title.plot,
        "poster_url": title.poster_url,
        "release_date": title.release_date,
        "runtime": title.runtime,
        "rating": title.rating,
        "popularity": title.popularity,
        "imdb_id": title.imdb_id,
        "original_language": title.original_language,
    }


_KINDS = {"movie": "film", "tv": "TV show"}


def title_year_taken_reason(title: TmdbTitle, holder_type: str | None) -> str:
    """Why the title cannot be written, naming what the row holding its title + year is and what this title is
    (the key has no media type: a series named and dated as a film is refused too, and "another movie" said nothing
    true of either). `holder_type` is that row's media_type (None: the row went meanwhile)."""
    taken = f"the title {title.title!r} and year {title.year}"
    mine = _KINDS.get(title.media_type, title.media_type)
    if holder_type is None:
        return f"another row already has {taken}"
    theirs = _KINDS.get(holder_type, holder_type)
    if holder_type == title.media_type:
        return f"another {theirs} already has {taken}"
    return f"a {theirs} already has {taken}, so this {mine} cannot be added (the catalogue's key is title + year)"


def _conflict(conn: Connection, error: psycopg.errors.UniqueViolation, title: TmdbTitle) -> TitleConflictError:
    """The refusal, read after the failed write's savepoint was rolled back (the transaction can still query)."""
    constraint = error.diag.constraint_name or "a unique constraint"
    if "title" in constraint:
        holder = fetch_one(
            conn,
            "SELECT media_type FROM movies WHERE title_norm = marquee_normalize(%s) AND year IS NOT DISTINCT FROM %s",
            (title.title, title.year),
        )
        return TitleYearTakenError(title_year_taken_reason(title, None if holder is None else holder["media_type"]))
    return TitleConflictError(f"another row holds TMDB id {title.tmdb_id} ({constraint})")


# A row found by title (steps 3 and 4 of _find) that names another film is not this title's: both carry an IMDb id
# and they differ, or both name directors (a comma-separated list, as the catalogue and the mapping write it) and
# no name is in both, compared by letters and digits alone (marquee_name_key: the catalogue's `D. W. Griffith` is
# TMDB's `D.W. Griffith`; NULL, matching nothing, for a name without any).
_NOT_ANOTHER_FILM = sql.SQL(
    """(imdb_id IS NULL OR %(imdb_id)s::text IS NULL OR lower(imdb_id) = lower(%(imdb_id)s))
       AND (director IS NULL OR %(director)s::text IS NULL
            OR EXISTS (SELECT 1 FROM unnest(string_to_array(director, ',')) AS mine (name)
                       JOIN unnest(string_to_array(%(director)s, ',')) AS theirs (name)
                         ON marquee_name_key(mine.name) = marquee_name_key(theirs.name)))"""
)


def _find(conn: Connection, title: TmdbTitle) -> Any:
    """The row this title belongs to (locked), or None: the first of
    1. the row with its TMDB id (same type);
    2. the row with its IMDb id whose own TMDB id is none or one TMDB dropped (a csv row that gave the IMDb id, or
       the title TMDB moved to a new id: the row takes the new one);
    3. the row with its normalised title + year, or its original title (TMDB's original_title / original_name:
       a csv row holding `Der Untergang` is TMDB's en-US `Downfall`) + year, the title first;
    4. the row whose title has the same lead (the title without article, punctuation and spaces: `WALL·E` is the
       catalogue's `WALL-E`) in the same year, unless both name a director and they differ; or a year apart with
       the same director (a festival premiere the year before the release: the catalogue's Wonka of 2023 is TMDB's
       Wonka of 2022-12 when a source dates it so).
    Steps 3 and 4 only among rows of its type without a TMDB id, so two TMDB titles never share a row, and never
    a row that names another film: one whose IMDb id differs from the title's, or whose directors share no name with
    the title's (another film of the same title and year; the title is then refused by the title + year index and
    reported, rather than writing its TMDB id, poster and plot onto that film's row)."""
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in FILLABLE)
    select = sql.SQL("SELECT id, source, tmdb_id, tmdb_filled, year, {} FROM movies ").format(columns)
    row = fetch_one(
        conn,
        select + sql.SQL("WHERE media_type = %s AND tmdb_id = %s FOR UPDATE"),
        (title.media_type, title.tmdb_id),
    )
    if row is not None:
        return row
    params = {
        "title": title.title,
        "year": title.year,
        "media_type": title.media_type,
        "imdb_id": title.imdb_id,
        "director": title.director,
        "original_title": title.original_title,
    }
    if title.imdb_id:
        row = fetch_one(
            conn,
            select
            + sql.SQL(
                "WHERE imdb_id = %(imdb_id)s AND media_type = %(media_type)s "
                "AND (tmdb_id IS NULL OR tmdb_gone_at IS NOT NULL) ORDER BY tmdb_id NULLS FIRST, id LIMIT 1 FOR UPDATE"
            ),
            params,
        )
        if row is not None:
            return row
    # Spelled so that the (title_norm, year) unique index answers it, a NULL year included.
    year = sql.SQL("year IS NULL") if title.year is None else sql.SQL("year = %(year)s")
    row = fetch_one(
        conn,
        select
        + sql.SQL(
            "WHERE title_norm = ANY(ARRAY[marquee_normalize(%(title)s), marquee_normalize(%(original_title)s)]) "
            "AND {} AND media_type = %(media_type)s AND tmdb_id IS NULL AND {} "
            "ORDER BY title_norm = marquee_normalize(%(title)s) DESC, id LIMIT 1 FOR UPDATE"
        ).format(year, _NOT_ANOTHER_FILM),
        params,
    )
    if row is not None or title.year is None:
        return row
    return fetch_one(
        conn,
        select
        + sql.SQL(
            """WHERE title_lead = marquee_search_lead(%(title)s) AND marquee_search_lead(%(title)s) <> ''
                 AND year BETWEEN %(year)s - 1 AND %(year)s + 1 AND media_type = %(media_type)s AND tmdb_id IS NULL
                 AND {not_another_film}
                 AND CASE WHEN year = %(year)s
                          THEN director_norm IS NULL OR %(director)s::text IS NULL
                               OR director_norm = marquee_normalize(%(director)s)
                          ELSE director_norm = marquee_normalize(%(director)s) END
               ORDER BY abs(year - %(year)s), id LIMIT 1 FOR UPDATE"""
        ).format(not_another_film=_NOT_ANOTHER_FILM),
        params,
    )


def upsert_title(conn: Connection, title: TmdbTitle, *, fetched_at: datetime) -> str:
    """Write one TMDB title; returns 'new', 'updated' or 'unchanged'. Run it inside a transaction.

    The row is found by (media_type, tmdb_id), else by IMDb id, normalised title + year, or title lead and a year or
    director that agree (_find: a csv, bundled-catalogue or admin row then gains its tmdb_id instead of being
    duplicated), else inserted with source
    'tmdb'. TMDB's own rows mirror TMDB; a matched csv/admin row keeps its values and TMDB fills only the columns that
    were empty (remembered in tmdb_filled). 'unchanged' means no column differs; the fetch time is recorded anyway,
    and a gone flag is cleared. Raises TitleConflictError when the title + year (or the TMDB id) is another row's,
    and TitleRefusedError when PostgreSQL refuses the title's values (a data error or a check constraint).
    """
    values = _values(title)
    try:
        # A savepoint: a refused write leaves the transaction usable, so the refusal can say whose title it is.
        with translate_errors(), conn.transaction():
            row = _find(conn, title)
            if row is None:
                conn.execute(
                    sql.SQL(
                        """INSERT INTO movies (title, year, media_type, tmdb_id, source, tmdb_fetched_at, {columns})
                           VALUES (%(title)s, %(year)s, %(media_type)s, %(tmdb_id)s, 'tmdb', %(fetched_at)s,
                                   {placeholders})
"""
                    ).format(
                        columns=sql.SQL(", ").join(sql.Identifier(c) for c in FILLABLE),
                        placeholders=sql.SQL(", ").join(sql.Placeholder(c) for c in FILLABLE),
                    ),
                    {**values, "media_type": title.media_type, "tmdb_id": title.tmdb_id, "fetched_at": fetched_at},
                )
                return "new"
            if row["source"] == "tmdb":
                writable = {**_IDENTITY, **FILLABLE}
                filled: list[str] = []
            else:
                previously = set(row["tmdb_filled"])
                writable = {c: t for c, t in FILLABLE.items() if c in previously or _is_empty(c, row[c])}
                released = values["release_date"]
                if (
                    released is not None
                    and row["year"] is not None
                    and abs(released.year - row["year"]) > MAX_YEAR_DATE_GAP
                ):
                    # The row's year is its own (a file's or an admin's; TMDB never writes it here): a TMDB date
                    # further from it than the catalogue's rules allow would leave the movie contradicting itself,
                    # and every later admin edit of it refused (year_mismatch on a field the admin never touched).
                    # Such a date is not written, and one TMDB filled in before goes with it.
                    values = {**values, "release_date": None}
                filled = sorted(c for c in writable if not _is_empty(c, values[c]))
            targets = sql.SQL(", ").join(
                [sql.Identifier(c) for c in writable] + [sql.SQL("tmdb_id"), sql.SQL("tmdb_filled")]
            )
            casts = sql.SQL(", ").join(
                [sql.SQL("{}::{}").format(sql.Placeholder(c), sql.SQL(t)) for c, t in writable.items()]
                + [sql.SQL("%(tmdb_id)s::integer"), sql.SQL("%(filled)s::text[]")]
            )
            updated = conn.execute(
                sql.SQL(
                    """UPDATE movies SET ({targets}) = ROW({casts}), updated_at = now()
                       WHERE id = %(id)s AND ROW({targets}) IS DISTINCT FROM ROW({casts})"""
                ).format(targets=targets, casts=casts),
                {**values, "tmdb_id": title.tmdb_id, "filled": filled, "id": row["id"]},
            ).rowcount
            conn.execute(
                "UPDATE movies SET tmdb_fetched_at = %s, tmdb_gone_at = NULL WHERE id = %s", (fetched_at, row["id"])
            )
            return "updated" if updated else "unchanged"
    except psycopg.errors.UniqueViolation as error:
        raise _conflict(conn, error, title) from None
    except (psycopg.DataError, psycopg.errors.CheckViolation) as error:
        # One title's values the database cannot hold (e.g. a NUL byte): that title, not the whole run.
        raise TitleRefusedError(f"the catalogue cannot hold this title: {error}") from None


def mark_gone(conn: Connection, *, media_type: str, tmdb_id: int, at: datetime) -> str | None:
    """Flag the row TMDB no longer has (404 on its details); kept, not deleted. Returns "new" when it is flagged now,
    "already" when it was flagged before (its time stays the first finding's), None if no row has that TMDB id."""
    row = fetch_required(
        conn,
        """WITH found AS (SELECT id, tmdb_gone_at FROM movies WHERE media_type = %s AND tmdb_id = %s FOR UPDATE),
                flagged AS (UPDATE movies m SET tmdb_gone_at = %s FROM found f
                            WHERE m.id = f.id AND f.tmdb_gone_at IS NULL RETURNING m.id)
           SELECT (SELECT count(*) FROM found) AS held, (SELECT count(*) FROM flagged) AS new""",
        (media_type, tmdb_id, at),
    )
    return None if not row["held"] else "new" if row["new"] else "already"


# --- the fetch queue (the sync's cursor) ------------------------------------------------------------------------


@dataclass(frozen=True)
class QueuedTitle:
    media_type: str
    tmdb_id: int
    reason: str
    attempts: int


_REASON_ORDER = "CASE reason WHEN 'list' THEN 0 WHEN 'changed' THEN 1 WHEN 'gap' THEN 2 ELSE 3 END"


def enqueue_unless_held(
    conn: Connection,
    *,
    media_type: str,
    tmdb_ids: list[int],
    reason: str,
    recheck_gone_before: datetime,
    titles: list[str | None] | None = None,
    years: list[int | None] | None = None,
) -> int:
    """Queue the ids the catalogue does not hold, or holds flagged as gone before `recheck_gone_before` (a list that
    still shows a title TMDB's details deny is asked again only as often as stale rows are); returns how many were
    newly queued, with the title and year the list shows (`titles` and `years`, parallel to `tmdb_ids`). Never
    queued: a title an admin deleted (tmdb_blocked_titles); one refused for another row's title + year
    (tmdb_refused_titles) while the list shows it with the same title and year and a row still holds that title +
    year; and one whose details were malformed or failed too many runs (remembered there too) while the list shows
    it with the same title and year and it was remembered at or after `recheck_gone_before`."""
    count = len(tmdb_ids)
    with translate_errors():
        return conn.execute(
            """INSERT INTO tmdb_sync_queue (media_type, tmdb_id, reason, list_title, list_year)
               SELECT %(media_type)s, e.i, %(reason)s, e.title, e.year
               FROM unnest(%(ids)s::integer[], %(titles)s::text[], %(years)s::smallint[]) AS e (i, title, year)
               WHERE NOT EXISTS (SELECT 1 FROM movies m WHERE m.media_type = %(media_type)s AND m.tmdb_id = e.i
                                 AND (m.tmdb_gone_at IS NULL OR m.tmdb_gone_at >= %(recheck)s))
                 AND NOT EXISTS (SELECT 1 FROM tmdb_blocked_titles b
                                 WHERE b.media_type = %(media_type)s AND b.tmdb_id = e.i)
                 AND NOT EXISTS (SELECT 1 FROM tmdb_refused_titles r
                                 WHERE r.media_type = %(media_type)s AND r.tmdb_id = e.i
                                   AND r.kind = 'title_year_taken'
                                   AND e.title IS NOT NULL
                                   AND marquee_normalize(r.title) = marquee_normalize(e.title)
                                   AND r.year IS NOT DISTINCT FROM e.year
                                   AND EXISTS (SELECT 1 FROM movies m
                                               WHERE m.title_norm = marquee_normalize(r.title)
                                                 AND m.year IS NOT DISTINCT FROM r.year))
                 AND NOT EXISTS (SELECT 1 FROM tmdb_refused_titles r
                                 WHERE r.media_type = %(media_type)s AND r.tmdb_id = e.i
                                   AND r.kind <> 'title_year_taken' AND r.refused_at >= %(recheck)s
                                   AND marquee_normalize(r.title) IS NOT DISTINCT FROM marquee_normalize(e.title)
                                   AND r.year IS NOT DISTINCT FROM e.year)
               ON CONFLICT DO NOTHING""",
            {
                "media_type": media_type,
                "ids": tmdb_ids,
                "titles": titles if titles is not None else [None] * count,
                "years": years if years is not None else [None] * count,
                "reason": reason,
                "recheck": recheck_gone_before,
            },
        ).rowcount


def enqueue_changed(conn: Connection, *, media_type: str, tmdb_ids: list[int], fetched_before: datetime) -> int:
    """Queue the changed ids that the catalogue holds with data fetched before the change's day ended."""
    with translate_errors():
        return conn.execute(
            """INSERT INTO tmdb_sync_queue (media_type, tmdb_id, reason)
               SELECT m.media_type, m.tmdb_id, 'changed' FROM movies m
               WHERE m.media_type = %(media_type)s AND m.tmdb_id = ANY(%(ids)s::integer[])
                 AND m.tmdb_fetched_at < %(before)s
               ON CONFLICT DO NOTHING""",
            {"media_type": media_type, "ids": tmdb_ids, "before": fetched_before},
        ).rowcount


def enqueue_fetched_before(conn: Connection, *, media_type: str, before: datetime, reason: str) -> int:
    """Queue every TMDB-identified row of the type last fetched before `before` (a gap in the change feed)."""
    with translate_errors():
        return conn.execute(
            """INSERT INTO tmdb_sync_queue (media_type, tmdb_id, reason)
               SELECT media_type, tmdb_id, %(reason)s FROM movies
               WHERE media_type = %(media_type)s AND tmdb_id IS NOT NULL AND tmdb_fetched_at < %(before)s
               ON CONFLICT DO NOTHING""",
            {"media_type": media_type, "before": before, "reason": reason},
        ).rowcount


def enqueue_stale(conn: Connection, *, checked_before: datetime) -> int:
    """Queue TMDB-identified rows whose data TMDB last confirmed (fetched, or found gone) before the cutoff, but not
    those whose details were malformed or given up since the cutoff (remembered in tmdb_refused_titles)."""
    with translate_errors():
        return conn.execute(
            """INSERT INTO tmdb_sync_queue (media_type, tmdb_id, reason)
               SELECT media_type, tmdb_id, 'stale' FROM movies
               WHERE tmdb_id IS NOT NULL AND tmdb_fetched_at < %(cutoff)s
                 AND (tmdb_gone_at IS NULL OR tmdb_gone_at < %(cutoff)s)
                 AND NOT EXISTS (SELECT 1 FROM tmdb_refused_titles r
                                 WHERE r.media_type = movies.media_type AND r.tmdb_id = movies.tmdb_id
                                   AND r.kind <> 'title_year_taken' AND r.refused_at >= %(cutoff)s)
               ON CONFLICT DO NOTHING""",
            {"cutoff": checked_before},
        ).rowcount


def holds_fetched_before(conn: Connection, *, media_type: str, before: datetime) -> bool:
    """Whether any row of the type carries TMDB data fetched before `before` (so a change feed day matters)."""
    row = fetch_one(
        conn,
        """SELECT 1 AS one FROM movies
           WHERE media_type = %s AND tmdb_id IS NOT NULL AND tmdb_fetched_at < %s LIMIT 1""",
        (media_type, before),
    )
    return row is not None


def next_queued(conn: Connection, *, limit: int, not_attempted_since: datetime) -> list[QueuedTitle]:
    """The next titles to fetch: list titles first, then changed, gap and stale ones, oldest first; titles already
    attempted since `not_attempted_since` (in this run) are left for the next run."""
    rows = fetch_all(
        conn,
        sql.SQL(
            """SELECT media_type, tmdb_id, reason, attempts FROM tmdb_sync_queue
               WHERE attempted_at IS NULL OR attempted_at < %s
               ORDER BY {}, queued_at, media_type, tmdb_id LIMIT %s"""
        ).format(sql.SQL(_REASON_ORDER)),
        (not_attempted_since, limit),
    )
    return [QueuedTitle(r["media_type"], r["tmdb_id"], r["reason"], r["attempts"]) for r in rows]


def dequeue(conn: Connection, *, media_type: str, tmdb_id: int) -> None:
    with translate_errors():
        conn.execute("DELETE FROM tmdb_sync_queue WHERE media_type = %s AND tmdb_id = %s", (media_type, tmdb_id))


def record_attempt_failed(
    conn: Connection, *, media_type: str, tmdb_id: int, error: str, at: datetime, counted: bool = True
) -> int:
    """Record a failed fetch on a queued title (when, and why: it is not fetched again in this run) and, when
    `counted`, count it towards giving the title up; returns its counted attempts so far."""
    row = fetch_one(
        conn,
        """UPDATE tmdb_sync_queue SET attempts = attempts + %s, attempted_at = %s, last_error = %s
           WHERE media_type = %s AND tmdb_id = %s RETURNING attempts""",
        (1 if counted else 0, at, error, media_type, tmdb_id),
    )
    return 0 if row is None else int(row["attempts"])


def count_failed_attempt(conn: Connection, *, media_type: str, tmdb_id: int) -> int:
    """Count a failed fetch recorded uncounted (record_attempt_failed) towards giving the title up; returns its
    attempts so far (0 when the title is no longer queued)."""
    row = fetch_one(
        conn,
        """UPDATE tmdb_sync_queue SET attempts = attempts + 1
           WHERE media_type = %s AND tmdb_id = %s RETURNING attempts""",
        (media_type, tmdb_id),
    )
    return 0 if row is None else int(row["attempts"])


def queue_length(conn: Connection) -> int:
    return int(fetch_required(conn, "SELECT count(*) AS n FROM tmdb_sync_queue")["n"])


# --- titles an admin deleted (blocked) and titles refused for another row's title + year ----------------------


@dataclass(frozen=True)
class BlockedTitle:
    """A TMDB title an admin deleted: the sync does not add it again until an admin allows it."""

    media_type: str
    tmdb_id: int
    title: str
    year: int | None
    movie_id: int
    blocked_by: int | None
    actor: str
    blocked_at: datetime


def block_title(
    conn: Connection,
    *,
    media_type: str,
    tmdb_id: int,
    title: str,
    year: int | None,
    movie_id: int,
    blocked_by: int | None,
    actor: str,
) -> None:
    """Remember that an admin deleted this TMDB title (a later deletion of the same title replaces the entry), and
    drop it from the fetch queue."""
    with translate_errors():
        conn.execute(
            """INSERT INTO tmdb_blocked_titles (media_type, tmdb_id, title, year, movie_id, blocked_by, actor)
               VALUES (%s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (media_type, tmdb_id) DO UPDATE
               SET title = excluded.title, year = excluded.year, movie_id = excluded.movie_id,
                   blocked_by = excluded.blocked_by, actor = excluded.actor, blocked_at = now()""",
            (media_type, tmdb_id, title, year, movie_id, blocked_by, actor),
        )
        conn.execute("DELETE FROM tmdb_sync_queue WHERE media_type = %s AND tmdb_id = %s", (media_type, tmdb_id))


def list_blocked(conn: Connection, *, limit: int, offset: int) -> tuple[list[BlockedTitle], int]:
    """Blocked titles, the latest deletion first, and how many there are."""
    rows = fetch_all(
        conn,
        """SELECT *, count(*) OVER () AS total FROM tmdb_blocked_titles
           ORDER BY blocked_at DESC, media_type, tmdb_id LIMIT %s OFFSET %s""",
        (limit, offset),
    )
    total = (
        int(rows[0]["total"])
        if rows
        else int(fetch_required(conn, "SELECT count(*) AS n FROM tmdb_blocked_titles")["n"])
    )
    return [_blocked(r) for r in rows], total


def _blocked(row: Any) -> BlockedTitle:
    return BlockedTitle(
        media_type=row["media_type"],
        tmdb_id=row["tmdb_id"],
        title=row["title"],
        year=row["year"],
        movie_id=row["movie_id"],
        blocked_by=row["blocked_by"],
        actor=row["actor"],
        blocked_at=row["blocked_at"],
    )


def unblock_title(conn: Connection, *, media_type: str, tmdb_id: int) -> BlockedTitle | None:
    """Allow the sync to add the title again; returns the entry removed, or None if it was not blocked."""
    with translate_errors():
        row = fetch_one(
            conn,
            "DELETE FROM tmdb_blocked_titles WHERE media_type = %s AND tmdb_id = %s RETURNING *",
            (media_type, tmdb_id),
        )
    return None if row is None else _blocked(row)


def is_blocked(conn: Connection, *, media_type: str, tmdb_id: int) -> bool:
    row = fetch_one(
        conn,
        "SELECT 1 AS one FROM tmdb_blocked_titles WHERE media_type = %s AND tmdb_id = %s",
        (media_type, tmdb_id),
    )
    return row is not None


def record_refusal(conn: Connection, title: TmdbTitle, *, reason: str, at: datetime) -> bool:
    """Remember that `title` was refused for another row's title + year; True when this is news (not refused before
    with the same title and year), so that the run reports it once."""
    with translate_errors():
        row = fetch_required(
            conn,
            """WITH before AS (SELECT title, year, kind FROM tmdb_refused_titles WHERE media_type = %(media_type)s
                               AND tmdb_id = %(tmdb_id)s),
                    written AS (INSERT INTO tmdb_refused_titles (media_type, tmdb_id, title, year, reason, refused_at,
                                                                 first_refused_at)
                                VALUES (%(media_type)s, %(tmdb_id)s, %(title)s, %(year)s, %(reason)s, %(at)s, %(at)s)
                                ON CONFLICT (media_type, tmdb_id) DO UPDATE
                                SET title = excluded.title, year = excluded.year, reason = excluded.reason,
                                    refused_at = excluded.refused_at, kind = 'title_year_taken',
                                    times = tmdb_refused_titles.times + 1
                                RETURNING 1)
               SELECT NOT EXISTS (SELECT 1 FROM before b WHERE marquee_normalize(b.title) = marquee_normalize(
                                      %(title)s) AND b.year IS NOT DISTINCT FROM %(year)s::smallint
                                      AND b.kind = 'title_year_taken') AS news,
                      (SELECT count(*) FROM written) AS written""",
            {
                "media_type": title.media_type,
                "tmdb_id": title.tmdb_id,
                "title": title.title,
                "year": title.year,
                "reason": reason,
                "at": at,
            },
        )
    return bool(row["news"])


UNWRITABLE_KINDS = ("malformed", "given_up", "not_found")


def remember_unwritable(
    conn: Connection, *, media_type: str, tmdb_id: int, kind: str, reason: str, at: datetime
) -> bool:
    """Remember that a queued title could not be written (`kind`: 'malformed' details, 'given_up' after failing
    too many runs, or 'not_found': details answering 404 for a title the catalogue does not hold) with the title and
    year the list that queued it showed, so that the list does not queue it again until it shows another title or
    year or TMDB_REFRESH_AFTER_DAYS pass; call it before dequeuing the title. True when this is news (not remembered
    before with this kind, title and year), so that the run reports it once."""
    if kind not in UNWRITABLE_KINDS:
        raise ValueError(f"not a kind of unwritable title: {kind!r}")
    with translate_errors():
        row = fetch_required(
            conn,
            """WITH before AS (SELECT title, year, kind FROM tmdb_refused_titles
                               WHERE media_type = %(media_type)s AND tmdb_id = %(tmdb_id)s),
                    queued AS (SELECT list_title, list_year FROM tmdb_sync_queue
                               WHERE media_type = %(media_type)s AND tmdb_id = %(tmdb_id)s),
                    shown AS (SELECT (SELECT list_title FROM queued) AS title, (SELECT list_year FROM queued) AS year),
                    written AS (INSERT INTO tmdb_refused_titles (media_type, tmdb_id, title, year, reason, refused_at,
                                                                 kind, first_refused_at)
                                SELECT %(media_type)s, %(tmdb_id)s, s.title, s.year, %(reason)s, %(at)s, %(kind)s,
                                       %(at)s
                                FROM shown s
                                ON CONFLICT (media_type, tmdb_id) DO UPDATE
                                SET title = excluded.title, year = excluded.year, reason = excluded.reason,
                                    refused_at = excluded.refused_at, kind = excluded.kind,
                                    times = tmdb_refused_titles.times + 1
                                RETURNING 1)
               SELECT NOT EXISTS (SELECT 1 FROM before b, shown s
                                  WHERE b.kind = %(kind)s AND b.year IS NOT DISTINCT FROM s.year
                                    AND marquee_normalize(b.title) IS NOT DISTINCT FROM marquee_normalize(s.title))
                      AS news,
                      (SELECT count(*) FROM written) AS written""",
            {"media_type": media_type, "tmdb_id": tmdb_id, "kind": kind, "reason": reason, "at": at},
        )
    return bool(row["news"])


def forget_refusal(conn: Connection, *, media_type: str, tmdb_id: int) -> None:
    with translate_errors():
        conn.execute("DELETE FROM tmdb_refused_titles WHERE media_type = %s AND tmdb_id = %s", (media_type, tmdb_id))


REFUSAL_KINDS = ("title_year_taken", *UNWRITABLE_KINDS)


@dataclass(frozen=True)
class RefusedTitle:
    """A TMDB title the sync could not write and remembers, so that a list showing it unchanged does not queue it
    again: `kind` 'title_year_taken' (another row holds its title + year), 'malformed' (TMDB's details could not be
    read), 'given_up' (its details failed TMDB_MAX_ATTEMPTS runs) or 'not_found' (its details answered 404 and the
    catalogue does not hold it). `title` and `year` are those TMDB listed (None
    when a change feed or a refresh queued it, for the last two kinds); `times` counts the runs that could not write
    it, `first_refused_at` the first and `refused_at` the last."""

    media_type: str
    tmdb_id: int
    kind: str
    reason: str
    title: str | None
    year: int | None
    times: int
    first_refused_at: datetime
    refused_at: datetime


def _refused(row: Any) -> RefusedTitle:
    return RefusedTitle(
        media_type=row["media_type"],
        tmdb_id=row["tmdb_id"],
        kind=row["kind"],
        reason=row["reason"],
        title=row["title"],
        year=row["year"],
        times=row["times"],
        first_refused_at=row["first_refused_at"],
        refused_at=row["refused_at"],
    )


def list_refused(conn: Connection, *, limit: int, offset: int) -> tuple[list[RefusedTitle], int]:
    """The titles the sync remembers it could not write, the latest refusal first, and how many there are."""
    rows = fetch_all(
        conn,
        """SELECT *, count(*) OVER () AS total FROM tmdb_refused_titles
           ORDER BY refused_at DESC, media_type, tmdb_id LIMIT %s OFFSET %s""",
        (limit, offset),
    )
    total = (
        int(rows[0]["total"])
        if rows
        else int(fetch_required(conn, "SELECT count(*) AS n FROM tmdb_refused_titles")["n"])
    )
    return [_refused(r) for r in rows], total


def forget_refused(conn: Connection, *, media_type: str, tmdb_id: int) -> RefusedTitle | None:
    """Forget that the sync could not write the title, so that the next run whose list shows it fetches it again;
    returns the entry removed, or None if none was remembered."""
    with translate_errors():
        row = fetch_one(
            conn,
            "DELETE FROM tmdb_refused_titles WHERE media_type = %s AND tmdb_id = %s RETURNING *",
            (media_type, tmdb_id),
        )
    return None if row is None else _refused(row)


# --- change-feed watermarks ---------------------------------------------------------------------------------------


def changes_through(conn: Connection, *, media_type: str) -> date | None:
    """The last UTC day whose changes are applied or queued, or None before the first run."""
    row = fetch_one(conn, "SELECT changes_through FROM tmdb_sync_state WHERE media_type = %s", (media_type,))
    return None if row is None else row["changes_through"]


def set_changes_through(conn: Connection, *, media_type: str, day: date) -> None:
    with translate_errors():
        conn.execute(
            """INSERT INTO tmdb_sync_state (media_type, changes_through) VALUES (%s, %s)
               ON CONFLICT (media_type) DO UPDATE SET changes_through = excluded.changes_through, updated_at = now()""",
            (media_type, day),
        )


# --- list ranks ---------------------------------------------------------------------------------------------------


def replace_list_ranks(conn: Connection, *, list_name: str, media_type: str, tmdb_ids: list[int]) -> bool:
    """Make `tmdb_ids` (rank 1 first) the list's ranks; False (and nothing written) when they already are."""
    current = fetch_all(
        conn,
        "SELECT tmdb_id FROM tmdb_list_ranks WHERE list = %s AND media_type = %s ORDER BY rank",
        (list_name, media_type),
    )
    if [r["tmdb_id"] for r in current] == tmdb_ids:
        return False
    with translate_errors(), conn.transaction():
        conn.execute("DELETE FROM tmdb_list_ranks WHERE list = %s AND media_type = %s", (list_name, media_type))
        conn.execute(
            """INSERT INTO tmdb_list_ranks (list, media_type, rank, tmdb_id)
               SELECT %s, %s, r.rank, r.tmdb_id FROM unnest(%s::integer[]) WITH ORDINALITY AS r (tmdb_id, rank)""",
            (list_name, media_type, tmdb_ids),
        )
    return True


def list_ranks(conn: Connection, *, list_name: str, media_type: str) -> list[int]:
    """The TMDB ids of a list, rank 1 first."""
    rows = fetch_all(
        conn,
        "SELECT tmdb_id FROM tmdb_list_ranks WHERE list = %s AND media_type = %s ORDER BY rank",
        (list_name, media_type),
    )
    return [r["tmdb_id"] for r in rows]


# --- cache of /configuration and the genre lists ------------------------------------------------------------------


def get_cached(conn: Connection, *, name: str) -> tuple[dict[str, Any], datetime] | None:
    """A cached TMDB document and when it was fetched."""
    row = fetch_one(conn, "SELECT body, fetched_at FROM tmdb_cache WHERE name = %s", (name,))
    return None if row is None else (dict(row["body"]), row["fetched_at"])


def put_cached(conn: Connection, *, name: str, body: dict[str, Any], fetched_at: datetime) -> None:
    with translate_errors():
        conn.execute(
            """INSERT INTO tmdb_cache (name, body, fetched_at) VALUES (%s, %s, %s)
               ON CONFLICT (name) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at""",
            (name, Jsonb(body), fetched_at),
        )


# --- purge ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    """Rows deleted (TMDB's own) and rows cleared (csv/admin rows that lost their TMDB id and filled-in columns)."""

    deleted: int
    cleared: int


def purge(conn: Connection) -> PurgeResult:
    """Remove every TMDB-sourced row, TMDB's fields on the other rows, and the sync's TMDB caches, ranks, queue,
    watermarks and remembered refusals, in one transaction (the titles admins deleted stay blocked).
    `sync_runs` stays (it holds counts and ids, not TMDB content)."""
    resets = sql.SQL(", ").join(
        sql.SQL("{col} = CASE WHEN {name} = ANY(tmdb_filled) THEN {empty} ELSE {col} END").format(
            col=sql.Identifier(c),
            name=sql.Literal(c),
            empty=sql.SQL("'{}'::text[]") if t == "text[]" else sql.SQL("0") if c == "popularity" else sql.NULL,
        )
        for c, t in FILLABLE.items()
    )
    with translate_errors(), conn.transaction():
        deleted = conn.execute("DELETE FROM movies WHERE source = 'tmdb'").rowcount
        cleared = conn.execute(
            sql.SQL(
                """UPDATE movies SET {resets}, tmdb_id = NULL, tmdb_fetched_at = NULL, tmdb_gone_at = NULL,
                          tmdb_filled = '{{}}', updated_at = now()
                   WHERE tmdb_id IS NOT NULL OR tmdb_filled <> '{{}}' OR tmdb_fetched_at IS NOT NULL"""
            ).format(resets=resets)
        ).rowcount
        for table in ("tmdb_list_ranks", "tmdb_sync_queue", "tmdb_sync_state", "tmdb_cache", "tmdb_refused_titles"):
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
    return PurgeResult(deleted=deleted, cleared=cleared)
