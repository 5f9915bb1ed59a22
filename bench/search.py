"""Search benchmark (bench/): title search over a mix of typos, exact titles and the 100 most common title words,
genre + year, suggest, deep pages (page numbers and cursors) and free text in other orders over 1,000,000 generated
movies."""

from __future__ import annotations

import json
import random
import string
import time
from collections.abc import Callable
from typing import Any

from psycopg import sql

from bench import common, generate
from movie_common.database import Connection, connect
from movie_common.db import movie_search, movies
from movie_common.db.movie_search import MovieFilters, Paging

QUERIES = 300
WARMUP = 30
BROAD_WORDS = 100
TITLE, EXACT, BROAD, GENRE_YEAR, SUGGEST, DEEP, TEXT_SORTED, PK = (
    "title_typo",
    "title_exact",
    "title_common_word",
    "genre_year",
    "suggest",
    "deep_page",
    "free_text_sorted",
    "primary_key",
)
KINDS = (TITLE, EXACT, BROAD, GENRE_YEAR, SUGGEST, DEEP, TEXT_SORTED)
TITLE_MIX = (TITLE, EXACT, BROAD)
BUDGETS_MS = {TITLE: 30.0, GENRE_YEAR: 15.0, SUGGEST: 10.0, DEEP: 50.0}
TITLE_MIX_BUDGET_MS = 50.0  # p99 over the mix
LABELS = {
    TITLE: "typo-tolerant title search (one typo, relevance, 20)",
    EXACT: "title search, a title as typed (relevance, 20)",
    BROAD: f"title search, one of the {BROAD_WORDS} most common title words (relevance, 20)",
    GENRE_YEAR: "genre + year (popularity.desc, 20)",
    SUGGEST: f"suggest (2{common.DASH}6 character prefix, 10)",
    DEEP: "deep page of /movies (page 500 of 100, or a cursor 400,000+ rows in; every sort)",
    TEXT_SORTED: "free text `q` in another order than relevance (a rare word or one no movie has; every sort)",
    PK: "primary-key get_movie_json",
}


class _Recorder:
    """Stands in for a connection to capture the statements a repository function sends, for EXPLAIN.

    The statements run on the real connection too: a function may send several, each built from the last's rows
    (search_movies looks the query's words up first).
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.statements: list[tuple[Any, Any]] = []

    def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
        self.statements.append((query, params))
        return self.conn.execute(query, params, **options)


def with_typo(title: str, rng: random.Random) -> str | None:
    """One swapped, dropped or replaced letter; None if the title has too few letters to misspell."""
    letters = [i for i, ch in enumerate(title) if ch.isalpha()]
    if len(letters) < 4:
        return None
    for _ in range(50):
        i = rng.choice(letters)
        kind = rng.choice(("swap", "drop", "replace"))
        if kind == "swap":
            if i + 1 >= len(title) or not title[i + 1].isalpha() or title[i].lower() == title[i + 1].lower():
                continue
            typo = title[:i] + title[i + 1] + title[i] + title[i + 2 :]
        elif kind == "drop":
            typo = title[:i] + title[i + 1 :]
        else:
            letter = rng.choice([c for c in string.ascii_lowercase if c != title[i].lower()])
            typo = title[:i] + letter + title[i + 1 :]
        if typo.strip() and typo.lower() != title.lower():
            return typo
    return None


def _sample_rows(conn: Connection, rng: random.Random, rows: int, n: int) -> list[dict[str, Any]]:
    ids = rng.sample(range(1, rows + 1), n)
    found = conn.execute("SELECT id, title, year, genre FROM movies WHERE id = ANY(%s)", (ids,)).fetchall()
    by_id = {row["id"]: row for row in found}
    return [by_id[i] for i in ids if i in by_id]  # in the sampled order: deterministic


def common_title_words(conn: Connection, n: int) -> list[dict[str, Any]]:
    """The n title words that the most titles hold (the word index's own words), with how many titles hold each."""
    rows = conn.execute(
        "SELECT word, ndoc FROM ts_stat('SELECT title_words FROM movies') ORDER BY ndoc DESC, word LIMIT %s", (n,)
    ).fetchall()
    return [{"word": row["word"], "titles": int(row["ndoc"])} for row in rows]


def _deep_queries(conn: Connection, rng: random.Random, rows: int, n: int) -> list[dict[str, Any]]:
    """Deep pages of the list in every sort: page 500 of 100 by number, or a cursor taken 400,000+ rows in."""
    sorts = list(movie_search.ORDERINGS)
    queries: list[dict[str, Any]] = []
    for i in range(n):
        sort = sorts[i % len(sorts)]
        if i % 2 == 0:
            queries.append({"sort": sort, "offset": 499 * 100})
        else:
            depth = rng.randint(min(400_000, rows // 2), rows - 200)
            start = movie_search.list_movies(conn, media_type=None, sort=sort, paging=Paging(limit=1, offset=depth))
            queries.append({"sort": sort, "after": start.last_key, "depth": depth})
    return queries


def build_queries(
    conn: Connection, rng: random.Random, rows: int, n: int, words: list[dict[str, Any]]
) -> dict[str, list[Any]]:
    """n queries of each kind, drawn from the generated rows (so common titles and genres are common here); the
    common-word kind is each of `words` once (all of them, whatever n)."""
    queries: dict[str, list[Any]] = {kind: [] for kind in (*KINDS, PK)}
    for row in _sample_rows(conn, rng, rows, n * 3):
        typo = with_typo(row["title"], rng)
        if typo is not None and len(queries[TITLE]) < n:
            queries[TITLE].append({"typo": typo, "title": row["title"], "id": row["id"]})
    queries[EXACT] = [
        {"typo": row["title"], "title": row["title"], "id": row["id"]} for row in _sample_rows(conn, rng, rows, n)
    ]
    queries[BROAD] = [{"typo": w["word"], "title": w["word"], "titles": w["titles"]} for w in words]
    for row in _sample_rows(conn, rng, rows, n * 2):
        if row["genre"] and row["year"] is not None and len(queries[GENRE_YEAR]) < n:
            queries[GENRE_YEAR].append({"genre": rng.choice(row["genre"]), "year": row["year"]})
    for row in _sample_rows(conn, rng, rows, n * 2):
        word = row["title"].split()[0]
        if len(word) >= 2 and len(queries[SUGGEST]) < n:
            queries[SUGGEST].append({"prefix": word[: rng.randint(2, min(6, len(word)))], "title": row["title"]})
    queries[DEEP] = _deep_queries(conn, rng, rows, n)
    sorts = list(movie_search.ORDERINGS)
    for i, row in enumerate(_sample_rows(conn, rng, rows, n)):
        # Half rare words (a title's last), half words no movie has: the planner has no statistics for either.
        made_up = "".join(rng.choice(string.ascii_lowercase) for _ in range(9))
        queries[TEXT_SORTED].append(
            {"text": row["title"].split()[-1] if i % 2 == 0 else made_up, "sort": sorts[i % len(sorts)]}
        )
    queries[PK] = [{"id": i} for i in rng.sample(range(1, rows + 1), n)]
    for kind, items in queries.items():
        assert len(items) == (len(words) if kind == BROAD else n), (kind, len(items))
    return queries


def _same_title(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def _call(kind: str, conn: Any, query: dict[str, Any]) -> Any:
    if kind in TITLE_MIX:
        return movie_search.search_movies(
            conn, filters=MovieFilters(title=query["typo"]), sort="relevance", paging=Paging(limit=20)
        )
    if kind == GENRE_YEAR:
        filters = MovieFilters(genres=[query["genre"]], year=query["year"])
        return movie_search.search_movies(conn, filters=filters, sort="popularity.desc", paging=Paging(limit=20))
    if kind == SUGGEST:
        return movie_search.suggest_titles(conn, prefix=query["prefix"], limit=10)
    if kind == TEXT_SORTED:
        filters = MovieFilters(text=query["text"])
        return movie_search.search_movies(conn, filters=filters, sort=query["sort"], paging=Paging(limit=20))
    if kind == DEEP:
        if "after" in query:
            paging = Paging(limit=100, after=query["after"], ordering=query["sort"])
        else:
            paging = Paging(limit=100, offset=query["offset"])
        return movie_search.list_movies(conn, media_type=None, sort=query["sort"], paging=paging)
    return movies.get_movie_json(conn, movie_id=query["id"])


def explain(conn: Connection, kind: str, query: dict[str, Any]) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of exactly the statements the repository function sends for this query, in order."""
    recorder = _Recorder(conn)
    _call(kind, recorder, query)
    plans = []
    for number, (statement, params) in enumerate(recorder.statements, 1):
        composable = statement if isinstance(statement, sql.Composable) else sql.SQL(statement)
        if composable.as_string(conn).lstrip().upper().startswith("EXPLAIN"):
            plans.append(f"-- statement {number} of {len(recorder.statements)}: the planner's estimate of the count")
            continue
        plan = conn.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS) ") + composable, params).fetchall()
        text = "\n".join(row["QUERY PLAN"] for row in plan)
        plans.append(
            text if len(recorder.statements) == 1 else f"-- statement {number} of {len(recorder.statements)}\n{text}"
        )
    return "\n\n".join(plans)


def run(*, quick: bool = False) -> dict[str, Any]:
    rows = 50_000 if quick else generate.ROWS
    database = f"{generate.DATABASE}_quick" if quick else generate.DATABASE
    n = 60 if quick else QUERIES
    url = common.database_url(database)
    common.use_database(url)
    data = generate.ensure_generated(rows=rows, database=database)
    conn = connect(data.url)  # Marquee's session settings (trigram thresholds, statement timeout, prepare threshold)
    rng = random.Random(1_000_000)
    with connect(data.url, statement_timeout_ms=0) as setup:  # drawing the queries is setup, not a measured request
        words = common_title_words(setup, BROAD_WORDS + WARMUP)
        # Warm up with other values: the next 30 common words, other rows.
        warm = build_queries(setup, rng, rows, WARMUP, words[BROAD_WORDS:])
        queries = build_queries(setup, rng, rows, n, words[:BROAD_WORDS])

    jobs = [(kind, q) for kind, items in queries.items() for q in items]
    rng.shuffle(jobs)  # the kinds and the baseline interleave, so drift hits them alike
    for kind, items in warm.items():
        for q in items:
            _call(kind, conn, q)
    samples: dict[str, list[int]] = {kind: [] for kind in queries}
    slowest: dict[str, tuple[int, dict[str, Any]]] = {}
    outputs: dict[str, list[Any]] = {kind: [] for kind in queries}
    clock: Callable[[], int] = time.perf_counter_ns
    started = time.perf_counter()
    for kind, q in jobs:
        t0 = clock()
        out = _call(kind, conn, q)
        elapsed = clock() - t0
        samples[kind].append(elapsed)
        outputs[kind].append((q, out))
        if elapsed > slowest.get(kind, (0, {}))[0]:
            slowest[kind] = (elapsed, q)
    timing_seconds = time.perf_counter() - started

    hits = sum(1 for q, page in outputs[TITLE] if any(json.loads(doc)["id"] == q["id"] for doc in page.results))
    hit_rate = hits / len(outputs[TITLE])
    # Generated titles repeat across years (as remakes do), so also count a hit on the same title in another row.
    title_hits = sum(
        1
        for q, page in outputs[TITLE]
        if any(_same_title(json.loads(doc)["title"], q["title"]) for doc in page.results)
    )
    totals = {kind: [page.total for _, page in outputs[kind]] for kind in (*TITLE_MIX, GENRE_YEAR)}
    estimated = {kind: sum(1 for _, page in outputs[kind] if not page.exact) for kind in (*TITLE_MIX, GENRE_YEAR)}
    broad_ranked = sum(1 for _, page in outputs[BROAD] if page.ordering == movie_search.BROAD)
    empty_suggest = sum(1 for _, found in outputs[SUGGEST] if not found)
    stats = {kind: common.summarize_ns(values) for kind, values in samples.items()}
    mix = common.summarize_ns([ns for kind in TITLE_MIX for ns in samples[kind]])
    plans = {
        kind: {"query": q, "ms": round(ns / 1e6, 3), "plan": explain(conn, kind, q)}
        for kind, (ns, q) in slowest.items()
    }
    conn.close()

    pk = stats[PK]["median_ms"]
    top = words[0]
    figures = [
        common.Figure(
            f"title search mix ({n} typos, {n} exact titles, the {BROAD_WORDS} commonest title words), p99",
            mix["p99_ms"],
            "ms",
            pk,
            "primary-key lookup, median",
            budget=TITLE_MIX_BUDGET_MS,
            budget_text=f"≤ {TITLE_MIX_BUDGET_MS:g} ms",
            note=(
                f"p50 {mix['median_ms']:.2f} ms, p95 {mix['p95_ms']:.2f} ms, max {mix['max_ms']:.1f} ms; "
                f"commonest word {top['word']!r} in {top['titles']:,} titles"
            ),
        )
    ]
    figures += [
        common.Figure(
            f"{LABELS[kind]}, p95",
            stats[kind]["p95_ms"],
            "ms",
            pk,
            "primary-key lookup, median",
            budget=BUDGETS_MS.get(kind),
            budget_text=f"≤ {BUDGETS_MS[kind]:g} ms" if kind in BUDGETS_MS else "",
            note=f"p50 {stats[kind]['median_ms']:.2f} ms, p99 {stats[kind]['p99_ms']:.2f} ms",
        )
        for kind in KINDS
    ]
    figures += [
        common.Figure(
            "typo search hit rate (original row in the top 20)", hit_rate, "%", note=f"{hits} of {len(outputs[TITLE])}"
        ),
        common.Figure(
            "typo search title hit rate (a row with the original title in the top 20)",
            title_hits / len(outputs[TITLE]),
            "%",
            note=f"{title_hits} of {len(outputs[TITLE])}; generated titles repeat across years",
        ),
        common.Figure(
            f"generate {rows:,} movies + build indexes + VACUUM ANALYZE",
            round(data.build_seconds, 1),
            "s",
            note=(
                f"{'cached from an earlier run; ' if data.cached else ''}rows {data.generate_seconds:.0f} s, "
                f"indexes {data.index_seconds:.0f} s, analyze {data.analyze_seconds:.0f} s; table {data.table_size}"
            ),
        ),
    ]
    return {
        "benchmark": "search",
        "title": f"Search over {rows:,} generated movies (budgets: docs/architecture.md §8)",
        "parameters": {
            "rows": rows,
            "database": database,
            "queries_per_kind": n,
            "warmup_queries_per_kind": WARMUP,
            "generator_version": generate.GENERATOR_VERSION,
            "generator_seed": generate.SEED,
        },
        "figures": [f.as_dict() for f in figures],
        "tables": [
            {
                "title": "Latency per query kind (ms), all interleaved on one connection",
                "columns": ["query", "p50", "p95", "p99", "max", "n"],
                "rows": [
                    [
                        LABELS[k],
                        stats[k]["median_ms"],
                        stats[k]["p95_ms"],
                        stats[k]["p99_ms"],
                        stats[k]["max_ms"],
                        stats[k]["n"],
                    ]
                    for k in (*KINDS, PK)
                ]
                + [
                    [
                        "title search mix (typos, exact, common words)",
                        mix["median_ms"],
                        mix["p95_ms"],
                        mix["p99_ms"],
                        mix["max_ms"],
                        mix["n"],
                    ]
                ],
            },
            {
                "title": "Result sizes (total_results; estimated past 1,000)",
                "columns": ["query", "median", "p95", "max", "estimated"],
                "rows": [
                    [
                        LABELS[k],
                        common.percentile(v, 50),
                        common.percentile(v, 95),
                        max(v),
                        f"{estimated[k]} of {len(v)}",
                    ]
                    for k, v in totals.items()
                ],
            },
        ],
        "details": {
            "latency": stats,
            "generation": {
                "cached": data.cached,
                "generate_seconds": data.generate_seconds,
                "index_seconds": data.index_seconds,
                "analyze_seconds": data.analyze_seconds,
                "collisions_renumbered": data.collisions,
                "migrations_applied_now": data.migrations_applied_now,
                "migrate_seconds": data.migrate_seconds,
                "table_size": data.table_size,
            },
            "typo_hit_rate": hit_rate,
            "typo_title_hit_rate": title_hits / len(outputs[TITLE]),
            "suggest_empty": empty_suggest,
            "common_words": words[:BROAD_WORDS],
            "common_words_ranked_broad": broad_ranked,
            "estimated_totals": estimated,
            "slowest_plans": plans,
            "timing_seconds": round(timing_seconds, 1),
            "sample_queries": {kind: items[:5] for kind, items in queries.items()},
        },
        "notes": [
            f"{n} queries of each kind ({BROAD_WORDS} for the common words: each once) and {n} primary-key lookups, "
            "shuffled together and timed one by one around the repository call (movie_common.db.movie_search) on one "
            f"connection from movie_common.database.connect, after {WARMUP} warm-up queries of each kind with other "
            "values.",
            "Titles, genres and years are drawn from random generated rows; typos swap, drop or replace one letter; "
            "exact titles are typed as stored; the common words are the title words most titles hold (ts_stat over "
            "the word index); suggest prefixes are the first 2 to 6 characters of a title's first word; deep pages "
            "alternate page 500 of 100 by number and a cursor 400,000 rows or more into the list, in every sort.",
            f"{broad_ranked} of the {BROAD_WORDS} common words match more than "
            f"{movie_search.RANK_ALL_UP_TO:,} titles, so they rank equal titles first and then by popularity, with "
            "an estimated total; the others score every match.",
            f"Typo hit rate {hit_rate:.1%}; {empty_suggest} of {n} suggest prefixes found nothing. "
            "EXPLAIN (ANALYZE, BUFFERS) of the slowest query of each kind is in results/search.json.",
        ],
    }
