"""SQL for the movie catalogue: reads for every public route (as ready JSON text), and the bulk upsert."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from movie_common.database import Connection, fetch_all, fetch_one, translate_errors

# A row that carries TMDB data names TMDB as its source, as TMDB's API terms ask of every use of its data.
TMDB_NOTICE = "This product uses the TMDB API but is not endorsed or certified by TMDB."

# The public shape of a movie, built by PostgreSQL so the API can send the text as it comes.
_MOVIE_JSON = sql.SQL(
    """(SELECT row_to_json(x)::text FROM (SELECT
        m.id, m.title, m.year, m.genre, m.director, m.actors, m.plot, m.poster_url, m.media_type,
        m.release_date, m.runtime, m.rating, m.popularity, m.tmdb_id, m.imdb_id, m.original_language, m.updated_at,
        CASE WHEN m.tmdb_id IS NOT NULL THEN json_build_object(
            'source', 'TMDB', 'notice', {notice}::text,
            'url', 'https://www.themoviedb.org/' || m.media_type || '/' || m.tmdb_id) END AS attribution) AS x)"""
).format(notice=sql.Literal(TMDB_NOTICE))

# Sort names clients may send, mapped to constant SQL (never built from input).
SORTS: dict[str, sql.Composable] = {
    "popularity.desc": sql.SQL("m.popularity DESC, m.id"),
    "popularity.asc": sql.SQL("m.popularity ASC, m.id"),
    "year.desc": sql.SQL("m.year DESC NULLS LAST, m.id"),
    "year.asc": sql.SQL("m.year ASC NULLS LAST, m.id"),
    "title.asc": sql.SQL("m.title_norm ASC, m.id"),
    "title.desc": sql.SQL("m.title_norm DESC, m.id"),
    "rating.desc": sql.SQL("m.rating DESC NULLS LAST, m.id"),
    "rating.asc": sql.SQL("m.rating ASC NULLS LAST, m.id"),
    "id.asc": sql.SQL("m.id ASC"),
}


@dataclass(frozen=True)
class Page:
    """Rows of one page, each a JSON object as text, and the number of rows over all pages."""

    results: list[str]
    total: int


def get_movie_json(conn: Connection, *, movie_id: int) -> str | None:
    row = fetch_one(conn, sql.SQL("SELECT {} AS doc FROM movies m WHERE m.id = %s").format(_MOVIE_JSON), (movie_id,))
    return None if row is None else str(row["doc"])


def movie_exists(conn: Connection, *, movie_id: int) -> bool:
    return fetch_one(conn, "SELECT 1 AS one FROM movies WHERE id = %s", (movie_id,)) is not None


def _page(conn: Connection, query: sql.Composable, params: dict[str, Any], *, prepare: bool | None = None) -> Page:
    rows = _fetch_all(conn, query, params, prepare=prepare)
    if not rows:
        return Page([], 0)
    return Page([row["doc"] for row in rows], int(rows[0]["total"]))


def list_movies(conn: Connection, *, media_type: str | None, sort: str, limit: int, offset: int) -> Page:
    where = sql.SQL("WHERE m.media_type = %(media_type)s") if media_type else sql.SQL("")
    query = sql.SQL(
        """SELECT {doc} AS doc, (SELECT count(*) FROM movies m {where}) AS total
           FROM movies m {where} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s"""
    ).format(doc=_MOVIE_JSON, where=where, order=SORTS[sort])
    rows = fetch_all(conn, query, {"media_type": media_type, "limit": limit, "offset": offset})
    if rows:
        return Page([row["doc"] for row in rows], int(rows[0]["total"]))
    # Past the last page: still say how many there are.
    count = fetch_one(
        conn, sql.SQL("SELECT count(*) AS total FROM movies m {}").format(where), {"media_type": media_type}
    )
    return Page([], int(count["total"]) if count else 0)


def ranked_movies(conn: Connection, *, list_name: str, media_type: str, limit: int, offset: int) -> Page:
    """A page of one of TMDB's lists as the latest sync ranked it (tmdb_list_ranks), rank 1 first; titles whose
    details are not in the catalogue yet, or that TMDB no longer has, are left out. Empty before any sync."""
    query = sql.SQL(
        """SELECT {doc} AS doc, count(*) OVER () AS total
           FROM tmdb_list_ranks r
           JOIN movies m ON m.media_type = r.media_type AND m.tmdb_id = r.tmdb_id AND m.tmdb_gone_at IS NULL
           WHERE r.list = %(list)s AND r.media_type = %(media_type)s
           ORDER BY r.rank LIMIT %(limit)s OFFSET %(offset)s"""
    ).format(doc=_MOVIE_JSON)
    params = {"list": list_name, "media_type": media_type, "limit": limit, "offset": offset}
    rows = fetch_all(conn, query, params)
    if rows:
        return Page([row["doc"] for row in rows], int(rows[0]["total"]))
    count = fetch_one(
        conn,
        """SELECT count(*) AS total FROM tmdb_list_ranks r
           JOIN movies m ON m.media_type = r.media_type AND m.tmdb_id = r.tmdb_id AND m.tmdb_gone_at IS NULL
           WHERE r.list = %(list)s AND r.media_type = %(media_type)s""",
        params,
    )
    return Page([], int(count["total"]) if count else 0)


@dataclass(frozen=True)
class MovieFilters:
    """Normalised search filters (see marquee_normalize in the schema); None means not filtered."""

    title: str | None = None
    genres: list[str] = field(default_factory=list)
    year: int | None = None
    year_from: int | None = None
    year_to: int | None = None
    director: str | None = None
    actor: str | None = None
    text: str | None = None
    media_type: str | None = None


def _fetch_all(conn: Connection, query: Any, params: dict[str, Any], *, prepare: bool | None) -> list[Any]:
    """fetch_all with psycopg's `prepare`: None prepares after the connection's threshold, False never does."""
    with translate_errors():
        return conn.execute(query, params, prepare=prepare).fetchall()


def _escape_like(value: str) -> str:
    """Escape LIKE wildcards; marquee_normalize leaves backslash, % and _ as they are."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# Words a title search does not require, though they still count in the ranking: "the godfather" also finds
# "Disco Godfather", and a query does not read the posting lists of the commonest title words for them.
_TITLE_OPTIONAL_WORDS = frozenset(
    ("a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "with")
)

# The query's words (the 'simple' parser over the normalised text, as the title index has them), each with the title
# words one deletion away from it (marquee_word_variants; migration 0003): every word one typo away is among those.
_TITLE_WORDS_SQL = sql.SQL(
    """SELECT t.lexeme AS word, (SELECT max(p) FROM unnest(t.positions) AS p) AS position,
              ARRAY(SELECT w.word FROM movie_title_words w
                    WHERE marquee_word_variants(w.word) && marquee_word_variants(t.lexeme)) AS near
       FROM unnest(to_tsvector('simple', marquee_normalize(%(title)s))) AS t
       ORDER BY position, word"""
)


@dataclass(frozen=True)
class _TitleWords:
    """A title query as words: the tsquery that finds titles holding them, and the words the fallback matches."""

    tsquery: str
    significant: str


def _one_edit_apart(a: str, b: str) -> bool:
    """One typo at most: a letter inserted, deleted or replaced, or two neighbours swapped."""
    if a == b:
        return True
    if len(a) < len(b):
        a, b = b, a
    if len(a) - len(b) > 1:
        return False
    if len(a) > len(b):
        return any(a[:i] + a[i + 1 :] == b for i in range(len(a)))
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def _tsquery_word(word: str, *, prefix: bool = False) -> str:
    """A word as a quoted tsquery operand (tsquery's own syntax; the query is still sent as a parameter)."""
    quoted = "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + ":*" if prefix else quoted


def _title_words(conn: Connection, title: str) -> _TitleWords | None:
    """The word route of a title search; None when the title has no words to look up.

    Every significant word must be in the title, as typed or one typo away from a word some title uses; the last
    word may also be the start of one (typing in progress). Stop words and single letters are not required (unless
    the query has nothing else, then every word is, as typed); nor is a hyphenated word whose parts are there.
    """
    rows = _fetch_all(conn, _TITLE_WORDS_SQL, {"title": title}, prepare=None)
    if not rows:
        return None
    words = {str(row["word"]) for row in rows}

    def optional(word: str) -> bool:
        if word in _TITLE_OPTIONAL_WORDS or (len(word) == 1 and not word.isdigit()):
            return True
        parts = [part for part in word.split("-") if part]
        return len(parts) > 1 and all(part in words for part in parts)

    required = [row for row in rows if not optional(str(row["word"]))]
    chosen, fuzzy = (required, True) if required else (rows, False)
    last = str(max(rows, key=lambda row: row["position"] or 0)["word"])
    groups = []
    for row in chosen:
        word = str(row["word"])
        alternatives = {word}
        if fuzzy and len(word) >= 2 and not word.isdigit():
            alternatives.update(near for near in row["near"] if _one_edit_apart(word, near))
        operands = [_tsquery_word(w) for w in sorted(alternatives)]
        if fuzzy and word == last and len(word) >= 3:
            operands.append(_tsquery_word(word, prefix=True))
        groups.append("(" + " | ".join(operands) + ")")
    return _TitleWords(" & ".join(groups), " ".join(str(row["word"]) for row in chosen))


def search_movies(conn: Connection, *, filters: MovieFilters, sort: str, limit: int, offset: int) -> Page:
    """Any combination of filters; `relevance` ranks typo-tolerant title matches, then full-text matches.

    A title matches when it starts with the query or holds every significant word of it, each as typed or one typo
    away (see _title_words); only when no title does (with the other filters) does the search fall back to trigram
    word similarity, which also forgives missing words and several typos but must recheck every candidate.
    """
    conditions: list[sql.Composable] = []
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    relevance: sql.Composable = sql.SQL("0")
    title_routes: list[sql.Composable] = []
    if filters.title is not None:
        params["title"] = filters.title
        params["title_like"] = _escape_like(filters.title)
        prefix = sql.SQL("m.title_norm LIKE marquee_normalize(%(title_like)s) || '%%'")
        if len(filters.title) >= 3:
            words = _title_words(conn, filters.title)
            if words is not None:
                params["title_words"] = words.tsquery
                title_routes.append(
                    sql.SQL(
                        "(to_tsvector('simple'::regconfig, m.title_norm) @@ %(title_words)s::tsquery OR {})"
                    ).format(prefix)
                )
            # The fallback: trigram word similarity to the significant words, anywhere in the title.
            params["title_fuzzy"] = words.significant if words is not None else filters.title
            title_routes.append(sql.SQL("(m.title_norm %%> marquee_normalize(%(title_fuzzy)s) OR {})").format(prefix))
        else:
            # Very short queries cannot be trigram-matched, so they match by prefix.
            title_routes.append(prefix)
        # The ranking is the same on every route: similarity to the whole query; an exact or prefix match wins.
        relevance = sql.SQL(
            """(word_similarity(marquee_normalize(%(title)s), m.title_norm)
                + similarity(marquee_normalize(%(title)s), m.title_norm)
                + CASE WHEN m.title_norm = marquee_normalize(%(title)s) THEN 2 WHEN {} THEN 0.5 ELSE 0 END)"""
        ).format(prefix)
    if filters.text is not None:
        params["text"] = filters.text
        tsquery = sql.SQL("(websearch_to_tsquery('english', %(text)s) || websearch_to_tsquery('simple', %(text)s))")
        conditions.append(sql.SQL("m.search_doc @@ {}").format(tsquery))
        relevance = sql.SQL("{} + ts_rank_cd(m.search_doc, {})").format(relevance, tsquery)
    if filters.genres:
        params["genres"] = filters.genres
        conditions.append(sql.SQL("m.genre_keys @> marquee_normalize_array(%(genres)s::text[])"))
    if filters.year is not None:
        params["year"] = filters.year
        conditions.append(sql.SQL("m.year = %(year)s"))
    if filters.year_from is not None:
        params["year_from"] = filters.year_from
        conditions.append(sql.SQL("m.year >= %(year_from)s"))
    if filters.year_to is not None:
        params["year_to"] = filters.year_to
        conditions.append(sql.SQL("m.year <= %(year_to)s"))
    if filters.director is not None:
        params["director"] = _escape_like(filters.director)
        conditions.append(sql.SQL("m.director_norm LIKE '%%' || marquee_normalize(%(director)s) || '%%'"))
    if filters.actor is not None:
        params["actor"] = _escape_like(filters.actor)
        conditions.append(sql.SQL("m.actors_norm LIKE '%%' || marquee_normalize(%(actor)s) || '%%'"))
    if filters.media_type is not None:
        params["media_type"] = filters.media_type
        conditions.append(sql.SQL("m.media_type = %(media_type)s"))
    order = sql.SQL("score DESC, m.popularity DESC, m.id") if sort == "relevance" else SORTS[sort]
    page = Page([], 0)
    for parts in [[route, *conditions] for route in title_routes] or [conditions]:
        where = sql.SQL(" AND ").join(parts) if parts else sql.SQL("true")
        page = _search_page(conn, where, params, relevance=relevance, order=order, offset=offset)
        if page.total:
            break  # the next route is a fallback for a title no word route found
    return page


def _search_page(
    conn: Connection,
    where: sql.Composable,
    params: dict[str, Any],
    *,
    relevance: sql.Composable,
    order: sql.Composable,
    offset: int,
) -> Page:
    # The inner query ranks and counts narrow rows; only the page's rows are fetched again to build their JSON,
    # so a broad match (thousands of rows) never builds or buffers thousands of documents it then throws away.
    query = sql.SQL(
        """SELECT {doc} AS doc, p.total, p.score
           FROM (SELECT m.id, count(*) OVER () AS total, {relevance} AS score
                 FROM movies m WHERE {where} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s) AS p
           JOIN movies m ON m.id = p.id
           ORDER BY {order}"""
    ).format(doc=_MOVIE_JSON, relevance=relevance, where=where, order=order)
    # Never a prepared statement: a generic plan cannot use the prefix index for LIKE 'x%' and guesses how many
    # rows a genre or year matches (it picked a bitmap heap scan over 18,000 rows where the covering index
    # answers in 6 ms); planning with the real values costs well under a millisecond.
    page = _page(conn, query, params, prepare=False)
    if page.results or offset == 0:
        return page
    count = fetch_one(conn, sql.SQL("SELECT count(*) AS total FROM movies m WHERE {}").format(where), params)
    return Page([], int(count["total"]) if count else 0)


def suggest_titles(conn: Connection, *, prefix: str, limit: int) -> list[dict[str, Any]]:
    """Titles that start with the text, then titles with a word that starts with it; popular first."""
    rows = _fetch_all(
        conn,
        # The word-start tier is searched only when the title-start tier leaves room: it is by far the dearer
        # of the two (a trigram scan and a recheck of every candidate) and cannot change a full first tier.
        # Both tiers rank (id, popularity, title_norm) only, which the covering prefix index holds; titles and
        # years are read for the final rows alone. Unprepared for the same reason as search_movies.
        """WITH starts AS (
               SELECT m.id, 0 AS tier, m.popularity, m.title_norm FROM movies m
               WHERE m.title_norm LIKE marquee_normalize(%(prefix)s) || '%%'
               ORDER BY m.popularity DESC, m.title_norm, m.id LIMIT %(limit)s)
           SELECT t.id, t.title, t.year FROM (
               SELECT * FROM starts
               UNION ALL
               (SELECT m.id, 1 AS tier, m.popularity, m.title_norm FROM movies m
                WHERE (SELECT count(*) FROM starts) < %(limit)s
                  AND m.title_norm LIKE '%% ' || marquee_normalize(%(prefix)s) || '%%'
                  AND m.title_norm NOT LIKE marquee_normalize(%(prefix)s) || '%%'
                ORDER BY m.popularity DESC, m.title_norm, m.id LIMIT %(limit)s)
               ORDER BY tier, popularity DESC, title_norm, id LIMIT %(limit)s) AS s
           JOIN movies t ON t.id = s.id
           ORDER BY s.tier, s.popularity DESC, s.title_norm, s.id""",
        {"prefix": _escape_like(prefix), "limit": limit},
        prepare=False,
    )
    return [{"id": r["id"], "title": r["title"], "year": r["year"]} for r in rows]


def genre_counts(conn: Connection) -> list[dict[str, Any]]:
    rows = fetch_all(
        conn,
        """SELECT g AS name, count(*) AS count FROM movies m, unnest(m.genre) AS g
           GROUP BY g ORDER BY count(*) DESC, g""",
    )
    return [{"name": r["name"], "count": int(r["count"])} for r in rows]


def similar_movies(conn: Connection, *, movie_id: int, limit: int, offset: int) -> Page:
    """Content-based neighbours: shared genres, shared people and a close release year, popular first on ties."""
    query = sql.SQL(
        """WITH base AS (
               SELECT id, genre_keys, director_norm, actors, year FROM movies WHERE id = %(id)s
           )
           SELECT {doc} AS doc, count(*) OVER () AS total,
                  cardinality(ARRAY(SELECT unnest(m.genre_keys) INTERSECT SELECT unnest(b.genre_keys))) * 2.0
                  + cardinality(ARRAY(SELECT unnest(m.actors) INTERSECT SELECT unnest(b.actors))) * 3.0
                  + CASE WHEN m.director_norm IS NOT NULL AND m.director_norm = b.director_norm THEN 4 ELSE 0 END
                  + CASE WHEN m.year IS NULL OR b.year IS NULL THEN 0
                         ELSE greatest(0, 1.5 - abs(m.year - b.year) / 10.0) END AS score
           FROM movies m CROSS JOIN base b
           WHERE m.id <> b.id
             AND (m.genre_keys && b.genre_keys OR m.actors && b.actors OR m.director_norm = b.director_norm)
             AND (b.year IS NULL OR m.year BETWEEN b.year - 20 AND b.year + 20)
           ORDER BY score DESC, m.popularity DESC, m.id
           LIMIT %(limit)s OFFSET %(offset)s"""
    ).format(doc=_MOVIE_JSON)
    return _page(conn, query, {"id": movie_id, "limit": limit, "offset": offset})


def count_movies(conn: Connection) -> int:
    row = fetch_one(conn, "SELECT count(*) AS n FROM movies")
    return int(row["n"]) if row else 0


def estimate_movies(conn: Connection) -> int:
    """The planner's estimate of the catalogue's size (pg_class.reltuples, kept by ANALYZE and autovacuum): a
    catalogue lookup, not a scan, so a liveness probe can afford it on every call; 0 before the first ANALYZE."""
    row = fetch_one(conn, "SELECT greatest(reltuples, 0)::bigint AS n FROM pg_class WHERE oid = 'movies'::regclass")
    return int(row["n"]) if row else 0


@dataclass(frozen=True)
class MovieRow:
    """A validated movie ready to be written."""

    title: str
    year: int | None
    genre: list[str]
    director: str | None
    actors: list[str]
    plot: str | None
    poster_url: str | None
    source: str = "csv"


def upsert_movies(conn: Connection, rows: Iterable[MovieRow]) -> int:
    """COPY into a staging table, then one INSERT … ON CONFLICT on normalised title + year.

    Re-running with the same rows changes nothing but updated_at, which makes at-least-once delivery safe.
    Within one batch the last row for a title + year wins. Returns the number of rows written.
    """
    with translate_errors(), conn.transaction():
        conn.execute(
            """CREATE TEMP TABLE movie_staging (
                   seq bigserial, title text, year smallint, genre text[], director text, actors text[],
                   plot text, poster_url text, source text) ON COMMIT DROP"""
        )
        with conn.cursor().copy(
            "COPY movie_staging (title, year, genre, director, actors, plot, poster_url, source) FROM STDIN"
        ) as copy:
            for r in rows:
                copy.write_row((r.title, r.year, r.genre, r.director, r.actors, r.plot, r.poster_url, r.source))
        cursor = conn.execute(
            """INSERT INTO movies AS m (title, year, genre, director, actors, plot, poster_url, source)
               SELECT DISTINCT ON (marquee_normalize(title), year)
                      title, year, genre, director, actors, plot, poster_url, source
               FROM movie_staging ORDER BY marquee_normalize(title), year, seq DESC
               ON CONFLICT ON CONSTRAINT movies_title_year_key DO UPDATE SET
                   title = excluded.title, genre = excluded.genre,
                   director = coalesce(excluded.director, m.director), actors = excluded.actors,
                   plot = coalesce(excluded.plot, m.plot), poster_url = coalesce(excluded.poster_url, m.poster_url),
                   updated_at = now()"""
        )
        return cursor.rowcount
