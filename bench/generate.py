"""The search benchmark's data (bench/): 1,000,000 catalogue-shaped movies, generated deterministically, COPYed in."""

from __future__ import annotations

import argparse
import bisect
import collections
import itertools
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench import common
from movie_common.catalogue import read_seed_csv
from movie_common.database import Connection, connect
from movie_common.migrations import migrate

# Bump when the generated rows would change: a cached database with another version is rebuilt.
GENERATOR_VERSION = 1
SEED = 20251123
ROWS = 1_000_000
DATABASE = "marquee_bench_1m"
COPY_COLUMNS = "title, year, genre, director, actors, plot, poster_url, popularity"
COPY_TYPES = ["text", "int2", "text[]", "text", "text[]", "text", "text", "float4"]


class Weighted:
    """Items with cumulative weights, for `random.choices` without rebuilding the weights on every draw."""

    def __init__(self, counts: collections.Counter[str]) -> None:
        self.items = list(counts)
        self.cum = list(itertools.accumulate(counts[item] for item in self.items))

    def pick(self, rng: random.Random) -> str:
        return self.items[bisect.bisect(self.cum, rng.random() * self.cum[-1])]

    def sample(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.items, cum_weights=self.cum, k=k)


@dataclass(frozen=True)
class Template:
    """The joint shape of one real row: year, genre set (co-occurrence kept), title length, cast size, plot size."""

    year: int | None
    genres: tuple[str, ...]
    words: int
    actors: int
    plot_chars: int | None
    poster: bool


@dataclass
class Model:
    """Distributions read from the bundled catalogue."""

    templates: list[Template]
    starts: dict[int, Weighted]  # first word by title length (1, 2, 3 = three or more)
    bigrams: dict[str, Weighted]  # next word after a word
    finals: dict[str, Weighted]  # last word of a title after a word
    final_unigram: Weighted  # last words of titles
    unigram: Weighted
    actors: Weighted
    plot_words: Weighted
    plot_word_chars: float  # mean word length in plots, space included
    real_titles: int


def build_model(catalogue: Path) -> Model:
    templates: list[Template] = []
    starts: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    bigrams: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    finals: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    final_unigram: collections.Counter[str] = collections.Counter()
    unigram: collections.Counter[str] = collections.Counter()
    actors: collections.Counter[str] = collections.Counter()
    plot_words: collections.Counter[str] = collections.Counter()
    plot_chars = plot_count = 0
    for row in read_seed_csv(catalogue):
        words = row.title.split()
        if not words:
            continue
        templates.append(
            Template(
                year=row.year,
                genres=tuple(row.genre),
                words=len(words),
                actors=len(row.actors),
                plot_chars=len(row.plot) if row.plot else None,
                poster=row.poster_url is not None,
            )
        )
        starts[min(len(words), 3)][words[0]] += 1
        unigram.update(words)
        for first, second in itertools.pairwise(words):
            bigrams[first][second] += 1
        if len(words) > 1:
            finals[words[-2]][words[-1]] += 1
            final_unigram[words[-1]] += 1
        actors.update(row.actors)
        if row.plot:
            tokens = row.plot.split()
            plot_words.update(tokens)
            plot_chars += len(row.plot) + 1
            plot_count += len(tokens)
    return Model(
        templates=templates,
        starts={length: Weighted(counter) for length, counter in starts.items()},
        bigrams={word: Weighted(counter) for word, counter in bigrams.items()},
        finals={word: Weighted(counter) for word, counter in finals.items()},
        final_unigram=Weighted(final_unigram),
        unigram=Weighted(unigram),
        actors=Weighted(actors),
        plot_words=Weighted(plot_words),
        plot_word_chars=plot_chars / max(plot_count, 1),
        real_titles=len(templates),
    )


def normalised_words(conn: Connection, words: Sequence[str]) -> dict[str, str]:
    """Each title word through the schema's own marquee_normalize, so duplicates are caught exactly as the
    unique constraint will see them (a title's normal form is its words' normal forms joined by spaces)."""
    rows = conn.execute("SELECT w, marquee_normalize(w) AS n FROM unnest(%s::text[]) AS w", (list(words),)).fetchall()
    return {row["w"]: row["n"] for row in rows if row["n"] and " " not in row["n"]}


def generate_rows(
    model: Model, norm: dict[str, str], rows: int, seed: int, stats: dict[str, int]
) -> Iterator[tuple[Any, ...]]:
    """Rows for COPY, in a fixed order (so ids are the same on every machine); never two with the same
    (normalised title, year): a collision gets a sequel number, as real catalogues do."""
    rng = random.Random(seed)
    seen: set[str] = set()
    stats.setdefault("collisions", 0)
    for i in range(rows):
        template = model.templates[rng.randrange(len(model.templates))]
        # A bigram walk keeps real titles' rhythm: the first word depends on the title's length and the last
        # word is one that ends real titles after the word before it ("The Man from Laramie", not "The Man from").
        word = model.starts[min(template.words, 3)].pick(rng)
        while word not in norm:
            word = model.unigram.pick(rng)
        words = [word]
        while len(words) < template.words:
            last = len(words) == template.words - 1
            following = (model.finals if last else model.bigrams).get(words[-1])
            if following is None:
                following = model.final_unigram if last else model.unigram
            word = following.pick(rng)
            if word in norm:
                words.append(word)
        title = " ".join(words)
        key = f"{template.year}|{' '.join(norm[w] for w in words)}"
        if key in seen:
            stats["collisions"] += 1
            number = 2
            while f"{key} {number}" in seen:
                number += 1
            title, key = f"{title} {number}", f"{key} {number}"
        seen.add(key)
        cast = list(dict.fromkeys(model.actors.sample(rng, template.actors))) if template.actors else []
        plot = None
        if template.plot_chars is not None:
            opening = f"{title} is a {template.year} American {' '.join(template.genres).lower() or 'feature'} film."
            body_words = max(3, round((template.plot_chars - len(opening)) / model.plot_word_chars))
            plot = f"{opening} {' '.join(model.plot_words.sample(rng, body_words))}."
        poster = f"https://upload.wikimedia.org/wikipedia/en/bench/{i:07d}.jpg" if template.poster else None
        popularity = round(min((rng.paretovariate(1.5) - 1.0) * 8.0, 10_000.0), 3)
        yield (title, template.year, list(template.genres), None, cast, plot, poster, popularity)


@dataclass
class Generated:
    """What the search benchmark reports about its data."""

    url: str
    rows: int
    cached: bool
    generate_seconds: float
    index_seconds: float
    analyze_seconds: float
    collisions: int
    migrations_applied_now: list[str]
    migrate_seconds: float
    table_size: str

    @property
    def build_seconds(self) -> float:
        return self.generate_seconds + self.index_seconds + self.analyze_seconds


_MARKER = """CREATE TABLE IF NOT EXISTS bench_generator (
    version integer NOT NULL, seed bigint NOT NULL, rows integer NOT NULL, catalogue_sha256 text NOT NULL,
    generate_seconds double precision NOT NULL, index_seconds double precision NOT NULL,
    analyze_seconds double precision NOT NULL, collisions integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now())"""


def _cached(url: str, rows: int, digest: str) -> dict[str, Any] | None:
    with connect(url, statement_timeout_ms=0) as conn:  # counts a million rows: never under the request timeout
        if conn.execute("SELECT to_regclass('bench_generator') AS t").fetchone()["t"] is None:  # type: ignore[index]
            return None
        marker = conn.execute("SELECT * FROM bench_generator ORDER BY created_at DESC LIMIT 1").fetchone()
        if marker is None or (marker["version"], marker["seed"], marker["rows"], marker["catalogue_sha256"]) != (
            GENERATOR_VERSION,
            SEED,
            rows,
            digest,
        ):
            return None
        count = conn.execute("SELECT count(*) AS n FROM movies").fetchone()
        return dict(marker) if count is not None and count["n"] == rows else None


def ensure_generated(*, rows: int = ROWS, database: str = DATABASE, catalogue: Path | None = None) -> Generated:
    """The generated database, built unless one with the same version, seed, size and catalogue exists."""
    catalogue = catalogue or common.catalogue_path()
    digest = common.catalogue_digest(catalogue)
    url = common.database_url(database)
    marker = _cached(url, rows, digest) if common.database_exists(database) else None
    if marker is None:
        print(f"generate: building {rows:,} movies in {database} (seed {SEED}, generator v{GENERATOR_VERSION})")
        url = common.fresh_database(database)
        marker = _build(url, rows, catalogue, digest)
    else:
        print(f"generate: {database} already holds {rows:,} movies of generator v{GENERATOR_VERSION}; reused")
    with connect(url) as conn:
        started = time.perf_counter()
        conn.execute("SET statement_timeout = 0")
        conn.execute("SET maintenance_work_mem = '1GB'")
        applied = migrate(conn)  # a migration added since the build (an index, say) is applied to the cached data
        if applied:
            # A migration that rewrote every row leaves the table twice its size (0011: 2.4 GB -> 5.1 GB, genre + year
            # p95 5 ms -> 17 ms) and its visibility map empty. FULL compacts it, as the README asks of a deployed
            # catalogue after such a migration (pg_repack, or VACUUM FULL in a quiet hour); FULL does not set the
            # visibility map, so the plain VACUUM after it does (without it no index-only scan is possible: suggest's
            # p95 was 330 ms).
            conn.execute("VACUUM (FULL) movies")
            conn.execute("VACUUM (ANALYZE) movies")
        migrate_seconds = time.perf_counter() - started
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('movies')) AS s").fetchone()
    return Generated(
        url=url,
        rows=rows,
        cached=not marker.get("built_now", False),
        generate_seconds=marker["generate_seconds"],
        index_seconds=marker["index_seconds"],
        analyze_seconds=marker["analyze_seconds"],
        collisions=marker["collisions"],
        migrations_applied_now=applied,
        migrate_seconds=round(migrate_seconds, 2),
        table_size=size["s"] if size else "?",
    )


def _build(url: str, rows: int, catalogue: Path, digest: str) -> dict[str, Any]:
    with connect(url) as conn:
        conn.execute("SET statement_timeout = 0")  # Marquee's sessions stop statements at 5 s; a 1M-row COPY is one
        migrate(conn)
        started = time.perf_counter()
        model = build_model(catalogue)
        norm = normalised_words(conn, model.unigram.items)
        # Secondary indexes are dropped for the load and rebuilt from their own definitions (the migrations'),
        # which is much faster than maintaining them row by row; constraint indexes stay and check the data.
        indexes = conn.execute(
            """SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
               FROM pg_index i WHERE i.indrelid = 'movies'::regclass
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
               ORDER BY 1"""
        ).fetchall()
        for index in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index["name"])))
        stats: dict[str, int] = {}
        with conn.cursor().copy(f"COPY movies ({COPY_COLUMNS}) FROM STDIN") as copy:  # type: ignore[arg-type]
            copy.set_types(COPY_TYPES)
            for n, row in enumerate(generate_rows(model, norm, rows, SEED, stats), 1):
                copy.write_row(row)
                if n % 100_000 == 0:
                    print(f"generate: {n:,} rows, {time.perf_counter() - started:.0f} s")
        generate_seconds = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '1GB'")
        for index in indexes:
            conn.execute(index["definition"])
        index_seconds = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) movies")
        analyze_seconds = time.perf_counter() - started
        conn.execute(_MARKER)
        conn.execute(
            """INSERT INTO bench_generator (version, seed, rows, catalogue_sha256, generate_seconds,
                   index_seconds, analyze_seconds, collisions) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                GENERATOR_VERSION,
                SEED,
                rows,
                digest,
                generate_seconds,
                index_seconds,
                analyze_seconds,
                stats["collisions"],
            ),
        )
        print(
            f"generate: {rows:,} rows in {generate_seconds:.1f} s, indexes in {index_seconds:.1f} s, "
            f"vacuum+analyze in {analyze_seconds:.1f} s, {stats['collisions']:,} title+year collisions renumbered"
        )
    return {
        "built_now": True,
        "generate_seconds": round(generate_seconds, 2),
        "index_seconds": round(index_seconds, 2),
        "analyze_seconds": round(analyze_seconds, 2),
        "collisions": stats["collisions"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--force", action="store_true", help="rebuild even when a matching database exists")
    args = parser.parse_args()
    common.use_database(common.database_url(args.database))
    if args.force:
        common.drop_database(args.database)
    print(ensure_generated(rows=args.rows, database=args.database))


if __name__ == "__main__":
    try:
        main()
    except psycopg.Error as error:
        raise SystemExit(f"generate: {error}") from None
