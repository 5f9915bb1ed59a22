"""SQL for reading the movies table a page at a time: the catalogue list, search (title words, free text, people,
genres, years), suggest and similar movies, with keyset cursors, and counts that are exact up to a bound.

Every list has a total order (a sort key ending in the id), so a page is either an offset into it (page numbers) or
the rows after a cursor's key (keyset: the same cost at any depth). Work per request is bounded: counting stops at
COUNT_EXACT_UP_TO rows (beyond it the planner's estimate is given, flagged inexact), and a relevance ranking scores
every match only up to RANK_ALL_UP_TO matches (beyond it, exact titles first, then popularity, which an index
serves in order).
"""

from __future__ import annotations

import itertools
import json
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from movie_common.database import Connection, fetch_one, translate_errors
from movie_common.db.movies import MOVIE_JSON

# Counts are exact up to this many rows; past it, the planner's estimate (never less than the bound + 1). Counting
# reads every row it counts (a word match is checked in the table: ~5 µs a row on the benchmark machine).
COUNT_EXACT_UP_TO = 1_000
# A relevance search scores every match up to this many (the count says how many there are); a broader one ranks
# exact titles first, then the most popular, which the popularity index serves in order.
RANK_ALL_UP_TO = COUNT_EXACT_UP_TO
# Suggest orders at most this many titles starting with the text (the most popular ones) by popularity and length.
SUGGEST_CANDIDATES = 200
# Similar movies score at most this many candidates per request.
SIMILAR_CANDIDATES = 1_000


@dataclass(frozen=True)
class SortKey:
    """One column of an ordering: constant SQL (never built from input), its direction, and the SQL type a
    cursor's value is cast back to."""

    expression: str
    descending: bool
    sql_type: str


_ID = SortKey("m.id", False, "bigint")
# Sort names clients may send. Nullable columns sort through a sentinel (NULLS LAST without NULLs), so that every
# key has one index in exactly its order (migration 0005) and a cursor is a plain comparison.
ORDERINGS: dict[str, tuple[SortKey, ...]] = {
    "popularity.desc": (SortKey("m.popularity", True, "real"), _ID),
    "popularity.asc": (SortKey("m.popularity", False, "real"), SortKey("m.id", True, "bigint")),
    "year.desc": (SortKey("coalesce(m.year, -1)", True, "integer"), _ID),
    "year.asc": (SortKey("coalesce(m.year, 32767)", False, "integer"), _ID),
    "title.asc": (SortKey("m.title_norm", False, "text"), _ID),
    "title.desc": (SortKey("m.title_norm", True, "text"), SortKey("m.id", True, "bigint")),
    "rating.desc": (SortKey("coalesce(m.rating, -1)", True, "numeric"), _ID),
    "rating.asc": (SortKey("coalesce(m.rating, 11)", False, "numeric"), _ID),
    "id.asc": (_ID,),
}
# A broad free-text search ranks titles starting with the query right after the equal ones when the query's title
# lead has at least this many characters. Shorter leads start too many titles: on the 1,000,000-movie data, `man`
# went from 3 ms to 48 ms and `love` from 3 to 25, while `wedding`, `detective` and `star wars` cost no more.
BROAD_STARTS_SHORTEST = 6
# Relevance: every match scored (a narrow search), or exact titles first then popularity (a broad one).
RANKED = "relevance.ranked"
BROAD = "relevance.broad"
_S_ID = SortKey("s.id", False, "bigint")
_RANKED_KEYS = (SortKey("s.score", True, "double precision"), SortKey("s.popularity", True, "real"), _S_ID)
_BROAD_KEYS = (SortKey("s.exact", True, "integer"), SortKey("s.popularity", True, "real"), _S_ID)
_SIMILAR_KEYS = _RANKED_KEYS
SIMILAR_ORDERING = RANKED  # similar movies are ranked like a relevance search, so their cursors name RANKED
KEYS: dict[str, tuple[SortKey, ...]] = {**ORDERINGS, RANKED: _RANKED_KEYS, BROAD: _BROAD_KEYS}


@dataclass(frozen=True)
class Paging:
    """Which rows of an ordering to read: `limit` rows after `offset` rows, or after the row whose sort key is
    `after` (a cursor; `ordering` then names the ordering the key belongs to)."""

    limit: int
    offset: int = 0
    after: list[Any] | None = None
    ordering: str | None = None


@dataclass(frozen=True)
class Page:
    """Rows of one page, each a JSON object as text; how many rows there are over all pages (exact, or an estimate
    when `exact` is false); the ordering used and the sort key of the page's last row (for the next cursor)."""

    results: list[str]
    total: int
    exact: bool = True
    ordering: str = ""
    last_key: list[Any] | None = None


# What each SQL type of a sort key can hold: a cursor's value outside it would make the CAST fail in PostgreSQL
# (integer out of range, real overflow or underflow), a 500 for what a client sent.
_INTEGER_RANGES = {"integer": 2**31, "bigint": 2**63}


def _fits_real(value: float) -> bool:
    """Whether a finite number survives the cast to real (float4) as PostgreSQL makes it: neither rounded to
    infinity (overflow) nor, when not zero, to zero (underflow)."""
    try:
        single: float = struct.unpack("<f", struct.pack("<f", value))[0]
    except (OverflowError, struct.error):
        return False
    return single != 0 or value == 0


def valid_key(ordering: str, values: Any) -> bool:
    """Whether `values` (from a client's cursor) fit the sort key of `ordering`: one JSON scalar of the right kind
    per key column, within what its SQL type holds, so casting them in SQL cannot fail."""
    keys = KEYS.get(ordering)
    if keys is None or not isinstance(values, list) or len(values) != len(keys):
        return False
    for key, value in zip(keys, values, strict=True):
        if key.sql_type == "text":
            if not isinstance(value, str) or "\x00" in value or len(value) > 1000:
                return False
            try:
                value.encode()  # a lone surrogate (JSON "\ud800") is no text PostgreSQL can hold
            except UnicodeEncodeError:
                return False
        elif key.sql_type in _INTEGER_RANGES:
            bound = _INTEGER_RANGES[key.sql_type]
            if isinstance(value, bool) or not isinstance(value, int) or not -bound <= value < bound:
                return False
        elif isinstance(value, bool) or not isinstance(value, int | float) or value != value or abs(value) > 1e300:
            return False  # NaN or infinity would not round-trip
        elif key.sql_type == "real" and not _fits_real(float(value)):
            return False
    return True


def _after_alternatives(keys: Sequence[SortKey], values: Sequence[Any], params: dict[str, Any]) -> list[sql.Composable]:
    """The rows after `values` in the order of `keys`, as disjoint alternatives in that order: (k1 after v1),
    (k1 = v1 AND k2 after v2), … Each alternative is equalities and one range, which an index in the order of
    `keys` reads as one contiguous range."""
    typed = []
    for number, (key, value) in enumerate(zip(keys, values, strict=True)):
        params[f"after_{number}"] = value
        typed.append(sql.SQL("CAST({} AS {})").format(sql.Placeholder(f"after_{number}"), sql.SQL(key.sql_type)))
    alternatives: list[sql.Composable] = []
    for number, key in enumerate(keys):
        equal = [sql.SQL("{} = {}").format(sql.SQL(k.expression), typed[i]) for i, k in enumerate(keys[:number])]
        beyond = sql.SQL("{} {} {}").format(
            sql.SQL(key.expression), sql.SQL("<" if key.descending else ">"), typed[number]
        )
        alternatives.append(sql.SQL("(") + sql.SQL(" AND ").join([*equal, beyond]) + sql.SQL(")"))
    return alternatives


def _after(keys: Sequence[SortKey], values: Sequence[Any], params: dict[str, Any]) -> sql.Composable:
    """Rows that come after `values` in the order of `keys`, as one condition (for rows computed anyway)."""
    return sql.SQL("({})").format(sql.SQL(" OR ").join(_after_alternatives(keys, values, params)))


def _in_order(
    select: sql.Composable,
    where: sql.Composable,
    keys: Sequence[SortKey],
    after: Sequence[Any] | None,
    params: dict[str, Any],
    *,
    reach: str,
) -> sql.Composable:
    """`select` (a SELECT … FROM … without WHERE) of the rows satisfying `where`, in the order of `keys`, at most
    `%(reach)s` of them, starting after the key `after` when one is given. After a key, each alternative of
    _after_alternatives is its own branch reading its own index range (UNION ALL): the OR of them would make an
    index scan start at the first key's value and step over every row that ties with it."""
    order = _order(keys)
    if after is None:
        return sql.SQL("{} WHERE ({}) ORDER BY {} LIMIT %({})s").format(select, where, order, sql.SQL(reach))
    branches = [
        sql.SQL("({} WHERE ({}) AND {} ORDER BY {} LIMIT %({})s)").format(
            select, where, alternative, order, sql.SQL(reach)
        )
        for alternative in _after_alternatives(keys, after, params)
    ]
    return sql.SQL(" UNION ALL ").join(branches)


def _order(keys: Sequence[SortKey]) -> sql.Composable:
    return sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.SQL(key.expression), sql.SQL("DESC" if key.descending else "ASC")) for key in keys
    )


def _fetch(conn: Connection, query: sql.SQL | sql.Composed | str, params: dict[str, Any]) -> list[Any]:
    # Never a prepared statement: a generic plan cannot use a prefix index for LIKE 'x%' nor see how many rows a
    # word, a genre or a year matches; planning with the real values costs well under a millisecond.
    with translate_errors():
        rows: list[Any] = conn.execute(query, params, prepare=False).fetchall()
        return rows


def _estimate(conn: Connection, where: sql.Composable, params: dict[str, Any]) -> int:
    """The planner's estimate of how many movies satisfy `where` (statistics of migration 0005: the commonest title
    words, genres, years); costs one planning, no execution."""
    plan = _fetch(conn, sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM movies m WHERE {}").format(where), params)
    document = plan[0]["QUERY PLAN"]
    if isinstance(document, str):
        document = json.loads(document)
    return int(document[0]["Plan"]["Plan Rows"])


def count_matches(
    conn: Connection, where: sql.Composable, params: dict[str, Any], *, estimate: int | None = None
) -> tuple[int, bool]:
    """How many movies satisfy `where`: (the exact count, True) up to COUNT_EXACT_UP_TO, else (an estimate of at
    least COUNT_EXACT_UP_TO + 1, False). Reads at most COUNT_EXACT_UP_TO + 1 rows, and none when the planner
    expects many times more (then counting would only confirm what the estimate says). `estimate`: the planner's,
    when the caller has it already (one planning fewer)."""
    if estimate is None:
        estimate = _estimate(conn, where, params)
    if estimate > 5 * COUNT_EXACT_UP_TO:
        return estimate, False
    counted = _fetch(
        conn,
        sql.SQL("SELECT count(*) AS n FROM (SELECT 1 FROM movies m WHERE {} LIMIT %(count_limit)s) AS c").format(where),
        {**params, "count_limit": COUNT_EXACT_UP_TO + 1},
    )
    n = int(counted[0]["n"])
    if n <= COUNT_EXACT_UP_TO:
        return n, True
    return max(estimate, COUNT_EXACT_UP_TO + 1), False


# Free text in an order other than relevance: the planner has no statistics for a rare word (or one no movie has) and
# estimates it at ~0.7% of the table, so it walked the order's index row by row for matches that hardly exist
# (q=amelie&sort=year.desc ran into the statement timeout at 1,000,000 movies). When the estimate leaves room for
# that (as _relevance_page's margin for text), the matches are counted, up to this many, through the full-text index,
# and a page of that few is sorted from the matches themselves.
SORT_TEXT_MATCHES_UP_TO = 10_000


def _few_text_matches(conn: Connection, where: sql.Composable, params: dict[str, Any]) -> tuple[int | None, int]:
    """How many movies satisfy `where` (which holds a free-text match), when the estimate allows so few and there are
    at most SORT_TEXT_MATCHES_UP_TO (reads at most that many + 1 ids), else None (the order's index serves); and the
    planner's estimate, for count_matches."""
    estimate = _estimate(conn, where, params)
    if estimate > 20 * COUNT_EXACT_UP_TO:
        return (
            None,
            estimate,
        )  # a word the statistics know to be common: walking the order's index finds matches at once
    return _count_text_matches(conn, where, params), estimate


def _count_text_matches(conn: Connection, where: sql.Composable, params: dict[str, Any]) -> int | None:
    """How many movies satisfy `where` (which holds a free-text match) when there are at most
    SORT_TEXT_MATCHES_UP_TO, else None; reads at most that many + 1 ids, through the full-text index."""
    counted = _fetch(
        conn,
        sql.SQL("SELECT count(*) AS n FROM (SELECT m.id FROM movies m WHERE {} LIMIT %(matches_limit)s) AS c").format(
            where
        ),
        {**params, "matches_limit": SORT_TEXT_MATCHES_UP_TO + 1},
    )
    n = int(counted[0]["n"])
    return n if n <= SORT_TEXT_MATCHES_UP_TO else None


def _keyed_page(
    conn: Connection,
    *,
    source: sql.Composable,
    where: sql.Composable,
    keys: Sequence[SortKey],
    params: dict[str, Any],
    paging: Paging,
) -> tuple[list[str], list[Any] | None]:
    """One page of the rows of `source` (`movies m`) that satisfy `where`, in the order of `keys` (expressions over
    `m`); returns the page's JSON documents and its last row's sort key.

    Only ids and keys are ranked; the JSON is built for the page's rows alone."""
    params = {**params, "limit": paging.limit, "offset": paging.offset, "reach": paging.offset + paging.limit}
    if paging.after is not None:
        params["offset"] = 0
        params["reach"] = paging.limit
    key_columns = sql.SQL(", ").join(
        sql.SQL("{} AS k{}").format(sql.SQL(key.expression), sql.SQL(str(number))) for number, key in enumerate(keys)
    )
    select = sql.SQL("SELECT {}, {} AS page_id FROM {}").format(key_columns, sql.SQL(keys[-1].expression), source)
    outer_order = sql.SQL(", ").join(
        sql.SQL(f"k{n} {'DESC' if key.descending else 'ASC'}") for n, key in enumerate(keys)
    )
    query = sql.SQL(
        """SELECT {doc} AS doc, json_build_array({key_json})::text AS key
           FROM (SELECT * FROM ({rows}) AS b ORDER BY {outer_order} LIMIT %(limit)s OFFSET %(offset)s) AS p
           JOIN movies m ON m.id = p.page_id
           ORDER BY {page_order}"""
    ).format(
        doc=MOVIE_JSON,
        key_json=sql.SQL(", ").join(sql.SQL(f"p.k{n}") for n in range(len(keys))),
        rows=_in_order(select, where, keys, paging.after, params, reach="reach"),
        outer_order=outer_order,
        page_order=sql.SQL(", ").join(
            sql.SQL(f"p.k{n} {'DESC' if key.descending else 'ASC'}") for n, key in enumerate(keys)
        ),
    )
    found = _fetch(conn, query, params)
    last = json.loads(found[-1]["key"]) if found else None
    return [row["doc"] for row in found], last


def _broad_page(
    conn: Connection,
    *,
    where: sql.Composable,
    tiers: Sequence[tuple[sql.Composable, sql.Composable | None]],
    params: dict[str, Any],
    paging: Paging,
) -> tuple[list[str], list[Any] | None]:
    """A broad relevance page: the rows satisfying `where`, in tiers, each tier by popularity. `tiers` are
    (condition, source), best first (a title equal to the query, then titles starting with it): a row is in the first
    tier whose condition it satisfies, and rows in none come last. `source` is the FROM that reads a tier's
    candidates (None: `movies m`; a narrow condition reads its own index first). Each part is read in the order of
    the popularity index and stops after the page, so the cost follows the page's depth, not the number of matches.
    The cursor's first value is the tier: len(tiers) for the first, 0 for the rest."""
    params = {**params, "limit": paging.limit, "offset": paging.offset, "reach": paging.offset + paging.limit}
    popularity_keys = (SortKey("m.popularity", True, "real"), _ID)
    after_tier: int | None = None
    after_key: list[Any] | None = None
    if paging.after is not None:
        params["offset"] = 0
        params["reach"] = paging.limit
        after_tier, *after_key = paging.after
    parts: list[sql.Composable] = []
    earlier: list[sql.Composable] = []
    for index, (condition, source) in enumerate([*tiers, (None, None)]):
        value = len(tiers) - index
        if after_tier is None or value <= after_tier:
            conditions = [sql.SQL("({})").format(where)]
            if condition is not None:
                conditions.append(sql.SQL("({})").format(condition))
            conditions += [sql.SQL("({}) IS NOT TRUE").format(c) for c in earlier]
            parts.append(
                _in_order(
                    sql.SQL("SELECT {} AS exact, m.popularity, m.id FROM {}").format(
                        sql.Literal(value), source if source is not None else sql.SQL("movies m")
                    ),
                    sql.SQL(" AND ").join(conditions),
                    popularity_keys,
                    after_key if after_tier == value else None,
                    params,
                    reach="reach",
                )
            )
        if condition is not None:
            earlier.append(condition)
    query = sql.SQL(
        """SELECT {doc} AS doc, json_build_array(p.exact, p.popularity, p.id)::text AS key
           FROM (SELECT u.* FROM ({parts}) AS u
                 ORDER BY u.exact DESC, u.popularity DESC, u.id LIMIT %(limit)s OFFSET %(offset)s) AS p
           JOIN movies m ON m.id = p.id
           ORDER BY p.exact DESC, p.popularity DESC, p.id"""
    ).format(doc=MOVIE_JSON, parts=sql.SQL(" UNION ALL ").join(sql.SQL("({})").format(part) for part in parts))
    found = _fetch(conn, query, params)
    last = json.loads(found[-1]["key"]) if found else None
    return [row["doc"] for row in found], last


# ----------------------------------------------------------------------------------------------------- the list


def list_movies(conn: Connection, *, media_type: str | None, sort: str, paging: Paging) -> Page:
    """The catalogue in the order `sort` (a key of ORDERINGS), optionally only movies or only TV."""
    params: dict[str, Any] = {"media_type": media_type}
    where = sql.SQL("m.media_type = %(media_type)s") if media_type else sql.SQL("true")
    total, exact = count_matches(conn, where, params)
    results, last = _keyed_page(
        conn, source=sql.SQL("movies m"), where=where, keys=ORDERINGS[sort], params=params, paging=paging
    )
    return Page(results, total, exact, sort, last)


def ranked_movies(conn: Connection, *, list_name: str, media_type: str, limit: int, offset: int) -> Page:
    """A page of one of TMDB's lists as the latest sync ranked it (tmdb_list_ranks), rank 1 first; titles whose
    details are not in the catalogue yet, or that TMDB no longer has, are left out. Empty before any sync. The lists
    are TMDB's first pages (hundreds of titles at most), so they page by number only and count exactly."""
    query = sql.SQL(
        """SELECT {doc} AS doc, count(*) OVER () AS total
           FROM tmdb_list_ranks r
           JOIN movies m ON m.media_type = r.media_type AND m.tmdb_id = r.tmdb_id AND m.tmdb_gone_at IS NULL
           WHERE r.list = %(list)s AND r.media_type = %(media_type)s
           ORDER BY r.rank LIMIT %(limit)s OFFSET %(offset)s"""
    ).format(doc=MOVIE_JSON)
    params = {"list": list_name, "media_type": media_type, "limit": limit, "offset": offset}
    rows = _fetch(conn, query, params)
    if rows:
        return Page([row["doc"] for row in rows], int(rows[0]["total"]), True, "rank", None)
    count = fetch_one(
        conn,
        """SELECT count(*) AS total FROM tmdb_list_ranks r
           JOIN movies m ON m.media_type = r.media_type AND m.tmdb_id = r.tmdb_id AND m.tmdb_gone_at IS NULL
           WHERE r.list = %(list)s AND r.media_type = %(media_type)s""",
        params,
    )
    return Page([], int(count["total"]) if count else 0, True, "rank", None)


# ------------------------------------------------------------------------------------------------------- search


@dataclass(frozen=True)
class MovieFilters:
    """Search filters as the client sent them (normalising is the SQL's: marquee_normalize and the search keys of
    migration 0005); None or empty means not filtered."""

    title: str | None = None
    genres: list[str] = field(default_factory=list)
    year: int | None = None
    year_from: int | None = None
    year_to: int | None = None
    director: str | None = None
    actor: str | None = None
    text: str | None = None
    media_type: str | None = None


# Words a title search does not require, though they still count in the ranking: "the godfather" also finds
# "Disco Godfather", and a query does not read the posting lists of the commonest title words for them.
TITLE_OPTIONAL_WORDS = frozenset(
    ("a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "with")
)

# A title query as search sees it (migration 0005): its search text and lead, and each word (as the title index has
# it: inner punctuation dropped, numerals as digits; an `&` on its own is the word "and") with its parts, its
# position, and the title words one deletion away from it (marquee_word_variants; every word one typo away is among
# those).
_TITLE_QUERY_SQL = """
SELECT marquee_search_text(%(title)s) AS text, marquee_search_lead(%(title)s) AS lead,
       coalesce((SELECT json_agg(json_build_object(
                     'word', t.word, 'position', t.position, 'parts', t.parts,
                     'near', ARRAY(SELECT w.word FROM movie_title_words w
                                   WHERE marquee_word_variants(w.word) && marquee_word_variants(t.word)))
                     ORDER BY t.position)
                 FROM (SELECT CASE token WHEN '&' THEN 'and' ELSE marquee_search_text_of_normal(token) END AS word,
                              position,
                              array_remove(string_to_array(marquee_numerals(btrim(
                                  regexp_replace(token, '[^[:alnum:]]+', ' ', 'g'))), ' '), '') AS parts
                       FROM regexp_split_to_table(marquee_normalize(%(title)s), ' ') WITH ORDINALITY
                            AS q (token, position)) AS t
                 WHERE t.word <> ''), '[]') AS words
"""


@dataclass(frozen=True)
class TitleQuery:
    """A title query read by the schema's own rules: search text, lead, words (see _TITLE_QUERY_SQL)."""

    text: str
    lead: str
    words: list[dict[str, Any]]


def title_query(conn: Connection, title: str) -> TitleQuery:
    row = fetch_one(conn, _TITLE_QUERY_SQL, {"title": title})
    if row is None:  # one row always
        return TitleQuery("", "", [])
    words = row["words"] if isinstance(row["words"], list) else json.loads(row["words"])
    return TitleQuery(str(row["text"]), str(row["lead"]), words)


def one_edit_apart(a: str, b: str) -> bool:
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


def tsquery_word(word: str, *, prefix: bool = False) -> str:
    """A word as a quoted tsquery operand (tsquery's own syntax; the query is still sent as a parameter)."""
    quoted = "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + ":*" if prefix else quoted


# Words of at most this many letters that some title uses are not widened to their one-typo neighbours.
SHORT_WORD = 4

# Numbers written out, as title words read them: numerals 2-20 (Roman ones are digits already, migration 0005) are
# the same word spelled, so "oceans 11" finds Ocean's Eleven as well as Ocean's 11, and "twelve angry men" finds
# 12 Angry Men. Query-side only: each title keeps the words it has, and a query asks for either spelling.
_SPELLED_NUMBERS: tuple[str, ...] = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_SPELLED_NUMBERS += ("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen")
_SPELLED_NUMBERS += ("nineteen", "twenty")
NUMBER_SPELLINGS: dict[str, str] = {
    **{word: str(number) for number, word in enumerate(_SPELLED_NUMBERS, start=2)},
    **{str(number): word for number, word in enumerate(_SPELLED_NUMBERS, start=2)},
}


# Abbreviations people type for a title's word, and the reverse: "dr strangelove" and "doctor strangelove" find
# Dr. Strangelove, "kramer versus kramer" Kramer vs. Kramer, "st louis blues" and "saint louis blues" St. Louis Blues.
# Query-side only: a title keeps its words, a query asks for either form. Pairs of (short, long); a short form may
# stand for more than one word ("st": saint or street). "v" is not here: as a word it is the numeral 5 (migration
# 0005), so "vs" also asks for "5", as "Batman v Superman" has it.
_ABBREVIATION_PAIRS: tuple[tuple[str, str], ...] = (
    ("dr", "doctor"),
    ("mr", "mister"),
    ("st", "saint"),
    ("st", "street"),
    ("mt", "mount"),
    ("ft", "fort"),
    ("jr", "junior"),
    ("sr", "senior"),
    ("sgt", "sergeant"),
    ("lt", "lieutenant"),
    ("capt", "captain"),
    ("prof", "professor"),
    ("vs", "versus"),
    ("vs", "5"),
    ("versus", "5"),
    ("pt", "part"),
    ("vol", "volume"),
)
TITLE_SYNONYMS: dict[str, tuple[str, ...]] = {}
for _short, _long in _ABBREVIATION_PAIRS:
    TITLE_SYNONYMS[_short] = (*TITLE_SYNONYMS.get(_short, ()), _long)
    if not _long.isdigit():  # a numeral typed is a numeral: "rocky 5" does not ask for "vs"
        TITLE_SYNONYMS[_long] = (*TITLE_SYNONYMS.get(_long, ()), _short)

# A year typed after a title ("titanic 1997", "the fly (1986)"): a number of four digits in this range, as the last
# significant word of a query that has another. Titles rarely end in their own year, so it is not required of the
# title; it ranks the film of that year first. A title that is a year ("1917", "2001") is a query of that word alone.
TITLE_YEARS = range(1870, 2101)
# At most this many other spellings of a title query (abbreviations, `&`, a year left out, typos corrected) are
# compared with each match's lead (a scored match compares its lead with each: keep the array short).
TITLE_LEADS_AT_MOST = 16


def _optional_title_word(word: str) -> bool:
    return word in TITLE_OPTIONAL_WORDS or (len(word) == 1 and not word.isdigit())


def title_year(query: TitleQuery) -> int | None:
    """The year typed after the title (TITLE_YEARS), or None."""
    significant = [w["word"] for w in query.words if not _optional_title_word(w["word"])]
    if len(significant) < 2 or not (len(significant[-1]) == 4 and significant[-1].isdigit()):
        return None
    year = int(significant[-1])
    return year if year in TITLE_YEARS else None


def _swapped(a: str, b: str) -> bool:
    """Two neighbouring letters swapped: the commonest typo when typing fast ("jwas" for "jaws")."""
    diff = [i for i in range(len(a)) if len(a) == len(b) and a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def _corrections(item: dict[str, Any]) -> list[str]:
    """Title words one typo away from a query word no title has (the words title_tsquery widens it to)."""
    word: str = item["word"]
    if len(word) < 3 or word.isdigit() or word in item["near"] or _optional_title_word(word):
        return []
    return sorted(near for near in item["near"] if len(near) >= 3 and near != word and one_edit_apart(word, near))


def _lead_of_words(words: Sequence[str]) -> str:
    """marquee_search_lead_of_text of the search text made of `words` (migration 0010)."""
    return re.sub(r"^(?:the|an|a) (?=.)", "", " ".join(w for w in words if w)).replace(" ", "")


@dataclass(frozen=True)
class TitleLeads:
    """Other leads a title query may mean, for ranking: `same` spell the same title (an abbreviation or `&` the
    other way, the year typed after it left out), `swapped` correct a typo of two letters swapped, `corrected` any
    other typo. Each at most TITLE_LEADS_AT_MOST in all; the query's own lead is in none."""

    same: list[str] = field(default_factory=list)
    swapped: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)


def title_leads(query: TitleQuery) -> TitleLeads:
    """The leads of the query with each word as typed or as another spelling (TITLE_SYNONYMS, "and" or nothing for
    `&`, the title year or nothing, one of its typo corrections), the likeliest first."""
    year = title_year(query)
    options: list[list[tuple[str, int]]] = []  # per word: (spelling, 0 same / 1 swapped / 2 corrected)
    for item in query.words:
        word: str = item["word"]
        choices = [(word, 0)] + [(s, 0) for s in TITLE_SYNONYMS.get(word, ())]
        if word == "and" or (year is not None and word == str(year)):  # `&` or nothing; the year or nothing
            choices.append(("", 0))
        choices += [(c, 1 if _swapped(word, c) else 2) for c in _corrections(item)]
        options.append(choices)
    found = TitleLeads()
    seen = {query.lead}
    for combination in itertools.islice(itertools.product(*options), 4 * TITLE_LEADS_AT_MOST):
        lead = _lead_of_words([spelling for spelling, _ in combination])
        if not lead or lead in seen:
            continue
        seen.add(lead)
        kind = max(k for _, k in combination)
        (found.same, found.swapped, found.corrected)[kind].append(lead)
        if len(seen) > TITLE_LEADS_AT_MOST:
            break
    return found


def title_tsquery(query: TitleQuery, *, widen_known_short: bool = False) -> str | None:
    """The tsquery of the word route: every significant word of the query in the title, as typed or one typo away
    from a word some title uses (of three letters or more), or as its parts ("spider-man": spiderman, or spider and
    man), and a number from 2 to 20 in either spelling ("11" or "eleven"); the last word, unless titles use it as
    typed, may also be the start of one (typing in progress: "godf").
    A short word that titles use is taken as
    typed unless `widen_known_short` (the second word route, when the first found nothing: "ins" may be "wins").
    Stop words and single letters are not required, unless the query has nothing else (then every word is, as
    typed). None when the query has no words."""
    if not query.words:
        return None

    year = title_year(query)

    def optional(word: str) -> bool:
        return _optional_title_word(word) or (year is not None and word == str(year))

    required = [w for w in query.words if not optional(w["word"])]
    chosen, fuzzy = (required, True) if required else (query.words, False)
    # A word repeated is asked for once: "the the" matches what "the" does, and the planner, which multiplies the
    # selectivity of each operand, would otherwise estimate a broad query's total far too low.
    chosen = [item for index, item in enumerate(chosen) if item["word"] not in {w["word"] for w in chosen[:index]}]
    last = max(query.words, key=lambda w: w["position"])["word"]
    groups: list[tuple[dict[str, Any], str]] = []
    for item in chosen:
        word: str = item["word"]
        alternatives = {word}
        # A short word that titles use is taken as typed: "man" has 34 title words one edit away ("men", "many",
        # "may", …), which would cost a posting list each and match what nobody asked for.
        known_short = not widen_known_short and len(word) <= SHORT_WORD and word in item["near"]
        if fuzzy and len(word) >= 2 and not word.isdigit() and not known_short:
            alternatives.update(near for near in item["near"] if len(near) >= 3 and one_edit_apart(word, near))
        if word in NUMBER_SPELLINGS:
            alternatives.add(NUMBER_SPELLINGS[word])  # "11" or "eleven": either spelling of the number
        alternatives.update(TITLE_SYNONYMS.get(word, ()))  # "dr" or "doctor"
        operands = [tsquery_word(w) for w in sorted(alternatives)]
        if fuzzy and word == last and len(word) >= 3 and word not in item["near"]:
            operands.append(tsquery_word(word, prefix=True))  # a word no title has: perhaps one being typed
        parts = [p for p in item["parts"] if p]
        if len(parts) > 1:
            operands.append("(" + " & ".join(tsquery_word(p) for p in parts) + ")")
        groups.append((item, "(" + " | ".join(operands) + ")"))
    return " & ".join(_joined_pairs(groups))


def _joined_pairs(groups: list[tuple[dict[str, Any], str]]) -> list[str]:
    """Two neighbouring words of letters may also be one word of a title, as a space typed inside it: "god father 2"
    finds "The Godfather Part II" (pairs taken left to right, each word in one pair at most)."""
    joined: list[str] = []
    index = 0
    while index < len(groups):
        item, group = groups[index]
        if index + 1 < len(groups):
            following, next_group = groups[index + 1]
            word, next_word = item["word"], following["word"]
            if following["position"] == item["position"] + 1 and word.isalpha() and next_word.isalpha():
                joined.append(f"(({group} & {next_group}) | {tsquery_word(word + next_word)})")
                index += 2
                continue
        joined.append(group)
        index += 1
    return joined


def _significant_text(query: TitleQuery) -> str:
    year = title_year(query)
    words = [
        w["word"]
        for w in query.words
        if not (
            w["word"] in TITLE_OPTIONAL_WORDS or len(w["word"]) == 1 or (year is not None and w["word"] == str(year))
        )
    ]
    return " ".join(words) or query.text


# `q` normalised as every filter is (accents, case, full-width characters), as its document is (migration 0011).
_TEXT_QUERY = sql.SQL(
    "(websearch_to_tsquery('english', marquee_normalize(%(text)s)) "
    "|| websearch_to_tsquery('simple', marquee_normalize(%(text)s)))"
)


_TSQUERY_OPERAND = re.compile(r"'(?:[^']|'')*'")


@dataclass(frozen=True)
class TextQueryShape:
    """What a free-text query costs: its search terms, how many are negated, whether an index can serve it."""

    terms: int
    negated: int
    indexable: bool


def text_query_shape(conn: Connection, text: str) -> TextQueryShape:
    """The shape of `q` as websearch_to_tsquery reads it (the 'simple' parser: every word, stop words included).

    A query is indexable when every alternative holds a word that is not negated (querytree is not 'T'); a
    query of negations alone makes the full-text index read every entry."""
    row = fetch_one(
        conn,
        sql.SQL(
            "SELECT websearch_to_tsquery('simple', marquee_normalize(%(text)s))::text AS query, "
            "querytree({}) NOT IN ('T', '') AS indexable"
        ).format(_TEXT_QUERY),
        {"text": text},
    )
    if row is None:
        return TextQueryShape(0, 0, False)
    query = str(row["query"])
    return TextQueryShape(len(_TSQUERY_OPERAND.findall(query)), query.count("!"), bool(row["indexable"]))


def search_movies(conn: Connection, *, filters: MovieFilters, sort: str, paging: Paging) -> Page:
    """Any combination of filters, in the order `sort` (a key of ORDERINGS, or "relevance").

    Title: a title matches when its lead (title without article, punctuation and spaces) starts with the query's,
    or when it holds every significant word of the query, each as typed, one typo away, or split at its
    punctuation; only when no title does (with the other filters) does the search fall back to trigram similarity.
    Relevance ranks every match up to RANK_ALL_UP_TO matches (a title equal to the query first, then similarity,
    free-text rank, popularity); a broader search ranks exact titles first, then popularity (`ordering` BROAD).
    People: word starts of a name, across punctuation and spacing, middle names skipped ("samuel jackson"). LIKE
    patterns are escaped after normalising.
    """
    params: dict[str, Any] = {}
    conditions: list[sql.Composable] = []
    scores: list[sql.Composable] = []
    exact: sql.Composable | None = None
    starting: tuple[sql.Composable, sql.Composable] | None = None  # titles starting with the query (free text)
    routes: list[sql.Composable] = []
    if filters.title is not None:
        query = title_query(conn, filters.title)
        params["title_text"] = query.text
        params["title_lead"] = query.lead
        params["title_typed"] = filters.title  # the title exactly as typed (case and spacing aside) ranks first
        prefix = sql.SQL("m.title_lead LIKE marquee_like_escape(%(title_lead)s) || '%%'")
        exact = sql.SQL("m.title_lead = %(title_lead)s")
        tsquery = title_tsquery(query)
        if not query.lead:
            routes.append(sql.SQL("false"))  # nothing searchable: punctuation only
        elif len(query.lead) < 3 or tsquery is None:
            routes.append(prefix)  # too short to match by words or trigrams
        else:
            params["title_words"] = tsquery
            routes.append(sql.SQL("(m.title_words @@ %(title_words)s::tsquery OR {})").format(prefix))
            widened = title_tsquery(query, widen_known_short=True)
            if widened != tsquery:
                params["title_words_widened"] = widened
                routes.append(sql.SQL("(m.title_words @@ %(title_words_widened)s::tsquery OR {})").format(prefix))
            params["title_fuzzy"] = _significant_text(query)
            routes.append(sql.SQL("(m.title_search %%> %(title_fuzzy)s OR {})").format(prefix))
        # Other spellings of the same title rank with it (an abbreviation or `&` the other way, the year typed after
        # it left out), then a title equal to the query with a typo corrected (two letters swapped first). The arrays
        # (and the SQL that reads them) are there only when the query has such words.
        leads = title_leads(query)
        others: list[sql.Composable] = []
        for name, kind, points in (
            ("title_leads_same", leads.same, "3"),
            ("title_leads_swapped", leads.swapped, "2.5"),
            ("title_leads_corrected", leads.corrected, "2"),
        ):
            if kind:
                params[name] = kind
                others.append(
                    sql.SQL("WHEN m.title_lead = ANY(%({})s::text[]) THEN {}").format(sql.SQL(name), sql.SQL(points))
                )
        # A title holding a word the query typed with two letters swapped ("jwas": Jaws 2) before one holding a word
        # a letter shorter ("Where Was I?"), which trigram similarity prefers.
        swapped_words = [[c for c in _corrections(item) if _swapped(item["word"], c)] for item in query.words]
        swapped_query = " & ".join(
            "(" + " | ".join(tsquery_word(c) for c in group) + ")" for group in swapped_words if group
        )
        bonus: list[sql.Composable] = []
        if swapped_query:
            params["title_words_swapped"] = swapped_query
            bonus.append(sql.SQL(" + CASE WHEN m.title_words @@ %(title_words_swapped)s::tsquery THEN 1 ELSE 0 END"))
        year = title_year(query)
        if year is not None:
            params["title_year"] = year
            bonus.append(sql.SQL(" + CASE WHEN m.year = %(title_year)s THEN 1.5 ELSE 0 END"))
        scores.append(
            sql.SQL(
                """CASE WHEN m.title_norm = marquee_normalize(%(title_typed)s) THEN 4
                        WHEN m.title_lead = %(title_lead)s THEN 3 {others} WHEN {prefix} THEN 1 ELSE 0 END
                   + word_similarity(%(title_text)s, m.title_search) + similarity(%(title_text)s, m.title_search)
                   {bonus}"""
            ).format(others=sql.SQL(" ").join(others), prefix=prefix, bonus=sql.SQL("").join(bonus))
        )
    if filters.text is not None:
        params["text"] = filters.text
        conditions.append(sql.SQL("m.search_doc @@ {}").format(_TEXT_QUERY))
        scores.append(sql.SQL("ts_rank_cd(m.search_doc, {})").format(_TEXT_QUERY))
        if filters.title is None:
            # Free text names a film more often than anything: a title equal to it (as suggest reads a title: no
            # leading article, punctuation or spaces) ranks first, then titles starting with it, as `title` ranks.
            # Without this, q=godfather gave The Godfather fifth, and q=star wars (1,000+ plots say "starring")
            # gave Star Wars nowhere in the first hundred.
            # The lead of the words sought: a negated word (`-part`) is no part of the title looked for, so
            # q=godfather -part ranks The Godfather first (it gave The Three Godfathers first: the eleventh tester).
            text_lead = sql.SQL("marquee_search_lead(regexp_replace(%(text)s, '(^|\\s)-\\S*', ' ', 'g'))")
            exact = sql.SQL("({lead} <> '' AND m.title_lead = {lead})").format(lead=text_lead)
            # Past the ranked bound too (the broad order), titles starting with it come right after the equal ones:
            # q=star wars gave Star Wars, then 1,000 films whose plots say "starring" by popularity (0 for every
            # film of the bundled catalogue), the sequels from the 974th on (the eleventh tester). Read from the
            # title lead's own index, for a lead of BROAD_STARTS_SHORTEST characters or more.
            starts = sql.SQL(
                "length({lead}) >= {shortest} AND m.title_lead LIKE marquee_like_escape({lead}) || '%%'"
            ).format(lead=text_lead, shortest=sql.Literal(BROAD_STARTS_SHORTEST))
            starting = (starts, sql.SQL("(SELECT * FROM movies m WHERE {} OFFSET 0) AS m").format(starts))
            scores.append(
                sql.SQL(
                    "CASE WHEN {exact} THEN 3 WHEN {lead} <> '' AND m.title_lead LIKE marquee_like_escape({lead}) "
                    "|| '%%' THEN 1 ELSE 0 END"
                ).format(exact=exact, lead=text_lead)
            )
    if filters.genres:
        params["genres"] = filters.genres
        # As people write them: plurals, synonyms, a romantic comedy as both genres (migration 0021).
        conditions.append(sql.SQL("m.genre_keys @> marquee_genre_query_keys(%(genres)s::text[])"))
    if filters.year is not None:
        params["year"] = filters.year
        conditions.append(sql.SQL("m.year = %(year)s"))
    if filters.year_from is not None:
        params["year_from"] = filters.year_from
        conditions.append(sql.SQL("m.year >= %(year_from)s"))
    if filters.year_to is not None:
        params["year_to"] = filters.year_to
        conditions.append(sql.SQL("m.year <= %(year_to)s"))
    for name, column in (("director", "director"), ("actor", "actors")):
        value = getattr(filters, name)
        if value is not None:
            params[name] = value
            # Candidates by trigrams of the letters and digits, then the word-start check across spacing and
            # middle names (migration 0020); both patterns are computed once, from the query.
            conditions.append(
                sql.SQL(
                    "m.{key} LIKE marquee_name_like(%({name})s) "
                    "AND marquee_name_pattern_matches(m.{words}, marquee_name_pattern(%({name})s))"
                ).format(
                    key=sql.Identifier(f"{column}_key"),
                    words=sql.Identifier(f"{column}_words"),
                    name=sql.SQL(name),
                )
            )
    if filters.media_type is not None:
        params["media_type"] = filters.media_type
        conditions.append(sql.SQL("m.media_type = %(media_type)s"))

    score = sql.SQL(" + ").join(scores) if scores else sql.SQL("0")
    relevance = sort == "relevance"
    page = Page([], 0, True, RANKED if relevance else sort, None)
    candidates: list[sql.Composable | None] = [*routes] or [None]
    for route in candidates:  # a later route is a fallback for a title no earlier route found
        parts = [p for p in (route, *conditions) if p is not None]
        where = sql.SQL(" AND ").join(parts) if parts else sql.SQL("true")
        if relevance:
            tiers: list[tuple[sql.Composable, sql.Composable | None]] = [(exact, None)] if exact is not None else []
            if starting is not None:
                tiers.append(starting)
            page = _relevance_page(conn, where=where, score=score, tiers=tiers, params=params, paging=paging)
        else:
            source: sql.Composable = sql.SQL("movies m")
            few, estimate = _few_text_matches(conn, where, params) if filters.text is not None else (None, None)
            if few is not None:
                total, total_exact = few, True
                # Sorted from the matches themselves (OFFSET 0 keeps the subquery apart: the full-text index reads
                # it), not by walking the order's index for matches that hardly exist.
                source = sql.SQL("(SELECT * FROM movies m WHERE {} OFFSET 0) AS m").format(where)
            else:
                total, total_exact = count_matches(conn, where, params, estimate=estimate)
            results, last = _keyed_page(
                conn, source=source, where=where, keys=ORDERINGS[sort], params=params, paging=paging
            )
            page = Page(results, total, total_exact, sort, last)
        if page.total:
            break
    return page


def _relevance_page(
    conn: Connection,
    *,
    where: sql.Composable,
    score: sql.Composable,
    tiers: Sequence[tuple[sql.Composable, sql.Composable | None]],
    params: dict[str, Any],
    paging: Paging,
) -> Page:
    """A relevance page: every match scored when there are at most RANK_ALL_UP_TO (one statement scores them, counts
    them and cuts the page), else the broad order (exact titles first, then popularity) with an estimated total.
    A cursor keeps the ordering it was made in."""
    estimate = _estimate(conn, where, params)
    # The estimate decides alone when it is well past the bound. Whole words are looked up in the statistics (the
    # 10,000 commonest title words), so 3 times the bound is enough margin; a word being typed ('godf':*) is guessed,
    # wrong either way by a wide margin, so then only 20 times. The ranked attempt reads at most the bound + 1 rows.
    guessed = ":*" in str(params.get("title_words", "")) or ":*" in str(params.get("title_words_widened", ""))
    margin = 20 if guessed or "text" in params else 3
    if paging.ordering != BROAD and (paging.ordering == RANKED or estimate <= margin * RANK_ALL_UP_TO):
        ranked = _ranked_page(conn, where=where, score=score, params=params, paging=paging)
        if ranked is not None:
            return ranked
    total, total_exact = max(estimate, RANK_ALL_UP_TO + 1), False
    if "text" in params and estimate <= 20 * COUNT_EXACT_UP_TO:
        # Free text with more matches than are ranked, but few enough to count (up to SORT_TEXT_MATCHES_UP_TO, as
        # the other orders do): the exact count, not the planner's guess for words it has no statistics for
        # (q=love was estimated at 3,047 of its 1,557 matches, so the last pages were empty).
        counted = _count_text_matches(conn, where, params)
        if counted is not None:
            total, total_exact = counted, True
    results, last = _broad_page(conn, where=where, tiers=tiers, params=params, paging=paging)
    return Page(results, total, total_exact, BROAD, last)


def _ranked_page(
    conn: Connection, *, where: sql.Composable, score: sql.Composable, params: dict[str, Any], paging: Paging
) -> Page | None:
    """Collect at most RANK_ALL_UP_TO + 1 matches, count them, and when they are not more than RANK_ALL_UP_TO score
    them and cut the page, in one statement (scoring reads the rows just collected). None when there are more: the
    caller ranks broadly instead, and nothing was scored."""
    page_params = {
        **params,
        "limit": paging.limit,
        "offset": paging.offset,
        "candidates": RANK_ALL_UP_TO + 1,
        "bound": RANK_ALL_UP_TO,
    }
    after: sql.Composable = sql.SQL("true")
    if paging.after is not None:
        after = _after(_RANKED_KEYS, paging.after, page_params)
        page_params["offset"] = 0
    rows = _fetch(
        conn,
        sql.SQL(
            """WITH c AS MATERIALIZED (SELECT m.id FROM movies m WHERE {where} LIMIT %(candidates)s),
               n AS (SELECT count(*) AS total FROM c),
               s AS MATERIALIZED (
                   SELECT m.id, m.popularity, ({score})::float8 AS score FROM c JOIN movies m ON m.id = c.id
                   WHERE (SELECT total FROM n) <= %(bound)s),
               page AS (SELECT s.score AS k0, s.popularity AS k1, s.id AS k2 FROM s
                        WHERE {after} ORDER BY s.score DESC, s.popularity DESC, s.id
                        LIMIT %(limit)s OFFSET %(offset)s)
               SELECT (SELECT total FROM n) AS total, page.k2 AS page_id, {doc} AS doc,
                      json_build_array(page.k0, page.k1, page.k2)::text AS key
               FROM (SELECT 1) AS one
               LEFT JOIN page ON true LEFT JOIN movies m ON m.id = page.k2
               ORDER BY page.k0 DESC, page.k1 DESC, page.k2"""
        ).format(score=score, where=where, after=after, doc=MOVIE_JSON),
        page_params,
    )
    total = int(rows[0]["total"]) if rows else 0
    if total > RANK_ALL_UP_TO:
        return None
    found = [row for row in rows if row["page_id"] is not None]
    last = json.loads(found[-1]["key"]) if found else None
    return Page([row["doc"] for row in found], total, True, RANKED, last)


# ------------------------------------------------------------------------------------------------------ suggest


# Suggest reads the text typed with its finished words in their other spellings too (TITLE_SYNONYMS, `&` and "and"),
# at most this many of them: each is two more reads of the lead index.
SUGGEST_SPELLINGS = 3


def suggest_spellings(prefix: str) -> list[str]:
    """The text typed with each finished word (every word but the last, and the last when a `.` ends it: "dr.") as
    typed or in another spelling: "dr strange" -> ["doctor strange"], "fast & f" -> ["fast and f"]. The word being
    typed is left as it is: "st" may be the start of "star". At most SUGGEST_SPELLINGS, the text itself not among
    them."""
    tokens = prefix.split()
    options: list[list[str]] = []
    for number, token in enumerate(tokens):
        finished = number < len(tokens) - 1 or token.endswith(".")
        word = token.casefold().rstrip(".")
        others: tuple[str, ...] = ()
        if finished:
            others = ("and",) if word == "&" else ("&",) if word == "and" else TITLE_SYNONYMS.get(word, ())
        options.append([token, *others])
    spellings: list[str] = []
    for combination in itertools.islice(itertools.product(*options), 1, 1 + SUGGEST_SPELLINGS):
        spellings.append(" ".join(combination))
    return spellings


def suggest_titles(conn: Connection, *, prefix: str, limit: int) -> list[dict[str, Any]]:
    """Titles for a search box, best first: titles whose lead (the title without a leading article, punctuation and
    spaces) starts with the text's lead, an equal one first ("godfather" -> The Godfather, then The Godfather Part
    II), or with the lead of another spelling of its finished words (suggest_spellings: "dr strange" -> Doctor
    Strange); then titles with a later word starting with the text. Popular, then shorter titles first within each:
    the SUGGEST_CANDIDATES most popular starts are read in the popularity index's order when they are many, so a
    two-letter prefix costs no more than a long one."""
    params: dict[str, Any] = {"prefix": prefix, "limit": limit, "candidates": SUGGEST_CANDIDATES}
    # The lead tier of each spelling reads only the covering lead index. The keys are written out (not in a CTE) so
    # that the planner folds them into constants.
    lead_branches: list[sql.Composable] = []
    for number, spelling in enumerate([prefix, *suggest_spellings(prefix)]):
        name = "prefix" if number == 0 else f"prefix_{number}"
        params[name] = spelling
        lead_branches.append(
            sql.SQL(
                """(SELECT m.id, 0 AS tier, true AS equal, m.popularity, 0 AS size FROM movies m
                    WHERE marquee_search_lead(%({p})s) <> '' AND m.title_lead = marquee_search_lead(%({p})s)
                    ORDER BY m.popularity DESC, m.id LIMIT %(limit)s)
                   UNION ALL
                   (SELECT m.id, 0 AS tier, false AS equal, m.popularity, length(m.title_lead) AS size FROM movies m
                    WHERE marquee_search_lead(%({p})s) <> ''
                      AND m.title_lead LIKE marquee_like_escape(marquee_search_lead(%({p})s)) || '%%'
                      AND m.title_lead <> marquee_search_lead(%({p})s)
                    ORDER BY m.popularity DESC, m.id LIMIT %(candidates)s)"""
            ).format(p=sql.SQL(name))
        )
    rows = _fetch(
        conn,
        # The word-start tier is searched only when the lead tier leaves room: it is the dearer of the two (a trigram
        # scan and a recheck of every candidate; the space before the text gives the trigram index a word start to
        # look for, even for two letters; a first word is the lead tier's).
        sql.SQL(
            """WITH starts AS (
                   {leads}
                   ORDER BY equal DESC, popularity DESC, size, id LIMIT %(limit)s)
               SELECT t.id, t.title, t.year FROM (
                   SELECT * FROM starts
                   UNION ALL
                   (SELECT m.id, 1 AS tier, false AS equal, m.popularity, length(m.title_search) AS size
                    FROM movies m
                    WHERE (SELECT count(*) FROM starts) < %(limit)s AND marquee_search_text(%(prefix)s) <> ''
                      AND m.title_search LIKE '%% ' || marquee_like_escape(marquee_search_text(%(prefix)s)) || '%%'
                      AND m.title_lead NOT LIKE marquee_like_escape(marquee_search_lead(%(prefix)s)) || '%%'
                    ORDER BY m.popularity DESC, size, m.id LIMIT %(limit)s)
                   ORDER BY tier, equal DESC, popularity DESC, size, id LIMIT %(limit)s) AS s
               JOIN movies t ON t.id = s.id
               ORDER BY s.tier, s.equal DESC, s.popularity DESC, s.size, s.id"""
        ).format(leads=sql.SQL(" UNION ALL ").join(lead_branches)),
        params,
    )
    # A title found by two spellings (or by a spelling and a word start) is suggested once, where it ranks best.
    seen: set[int] = set()
    suggestions = []
    for r in rows:
        if r["id"] not in seen:
            seen.add(r["id"])
            suggestions.append({"id": r["id"], "title": r["title"], "year": r["year"]})
    return suggestions


# ------------------------------------------------------------------------------------------------------ similar


def similar_movies(conn: Connection, *, movie_id: int, paging: Paging) -> Page:
    """Content-based neighbours of a movie: shared genres, shared people and a close release year, popular first on
    ties. The candidates are bounded so that a movie of a common genre costs the same as any other in a large
    catalogue: the SIMILAR_CANDIDATES / 4 most popular movies sharing its director, as many sharing an actor, and the
    SIMILAR_CANDIDATES / 2 most popular sharing a genre within 20 years. The total counts those candidates. An empty
    page when the movie does not exist."""
    base = fetch_one(conn, "SELECT genre_keys, director_norm, actors, year FROM movies WHERE id = %s", (movie_id,))
    if base is None:
        return Page([], 0, True, RANKED, None)
    # The movie's own values go in as parameters, so the planner sees how common its genres and people are and
    # walks the popularity index instead of collecting every movie of a genre.
    params: dict[str, Any] = {
        "id": movie_id,
        "genres": base["genre_keys"],
        "director": base["director_norm"],
        "actors": base["actors"],
        "year": base["year"],
        "people": SIMILAR_CANDIDATES // 4,
        "genre_candidates": SIMILAR_CANDIDATES // 2,
    }
    era = sql.SQL("(%(year)s::int IS NULL OR m.year BETWEEN %(year)s::int - 20 AND %(year)s::int + 20)")
    source = sql.SQL(
        """(WITH candidates AS (
                    (SELECT m.id FROM movies m
                     WHERE m.director_norm = %(director)s AND m.id <> %(id)s AND {era}
                     ORDER BY m.popularity DESC, m.id LIMIT %(people)s)
                    UNION
                    (SELECT m.id FROM movies m
                     WHERE m.actors && %(actors)s::text[] AND m.id <> %(id)s AND {era}
                     ORDER BY m.popularity DESC, m.id LIMIT %(people)s)
                    UNION
                    (SELECT m.id FROM movies m
                     WHERE m.genre_keys && %(genres)s::text[] AND m.id <> %(id)s AND {era}
                     ORDER BY m.popularity DESC, m.id LIMIT %(genre_candidates)s))
            SELECT m.id, m.popularity,
                   (cardinality(ARRAY(SELECT unnest(m.genre_keys) INTERSECT SELECT unnest(%(genres)s::text[]))) * 2.0
                    + cardinality(ARRAY(SELECT unnest(m.actors) INTERSECT SELECT unnest(%(actors)s::text[]))) * 3.0
                    + CASE WHEN m.director_norm = %(director)s THEN 4 ELSE 0 END
                    + CASE WHEN m.year IS NULL OR %(year)s::int IS NULL THEN 0
                           ELSE greatest(0, 1.5 - abs(m.year - %(year)s::int) / 10.0) END)::float8 AS score
            FROM candidates c JOIN movies m ON m.id = c.id) AS s"""
    ).format(era=era)
    page_params = {**params, "limit": paging.limit, "offset": paging.offset}
    after: sql.Composable = sql.SQL("true")
    if paging.after is not None:
        after = _after(_SIMILAR_KEYS, paging.after, page_params)
        page_params["offset"] = 0
    # The candidates are scored once (MATERIALIZED) for both the count and the page; the outer LEFT JOIN keeps one
    # row with the count when the page is past the end.
    rows = _fetch(
        conn,
        sql.SQL(
            """WITH s AS MATERIALIZED (SELECT * FROM {source}),
                    page AS (SELECT s.score AS k0, s.popularity AS k1, s.id AS k2 FROM s
                             WHERE {after} ORDER BY s.score DESC, s.popularity DESC, s.id
                             LIMIT %(limit)s OFFSET %(offset)s)
               SELECT (SELECT count(*) FROM s) AS total, page.k2 AS page_id, {doc} AS doc,
                      json_build_array(page.k0, page.k1, page.k2)::text AS key
               FROM (SELECT 1) AS one
               LEFT JOIN page ON true LEFT JOIN movies m ON m.id = page.k2
               ORDER BY page.k0 DESC, page.k1 DESC, page.k2"""
        ).format(source=source, after=after, doc=MOVIE_JSON),
        page_params,
    )
    total = int(rows[0]["total"]) if rows else 0
    found = [row for row in rows if row["page_id"] is not None]
    last = json.loads(found[-1]["key"]) if found else None
    return Page([row["doc"] for row in found], total, True, RANKED, last)
