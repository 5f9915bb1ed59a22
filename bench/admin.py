"""Admin benchmark (bench/): the analytics overview over 10,000,000 usage-log rows, the admin lists, and the
request-log CSV export of 1,000,000 rows in flat memory, each beside a baseline from the same run."""

from __future__ import annotations

import random
import resource
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from psycopg import sql

from bench import common
from movie_admin.audit import Actor
from movie_admin.exports import FolderExportStore
from movie_admin.services import analytics, developers, keys, requests
from movie_admin.services.requests import RequestQuery
from movie_common.database import Connection, connect, copy_out
from movie_common.db.api_keys import KeyFilters
from movie_common.db.users import DeveloperFilters
from movie_common.migrations import migrate

# Bump when the generated rows would change: a cached database with another version is rebuilt.
GENERATOR_VERSION = 7  # 7: developers carry signed_up_at (self-serve signups, migration 0016)
SEED = 0.20261130
ROWS = 10_000_000
DEVELOPERS = 20_000
KEYS = 24_000
DAYS = 90
DATABASE = "marquee_bench_admin"
EXPORT_ROWS = 1_000_000
# A cached database is reused while its newest day is this recent: the 30- and 90-day windows stay full of data.
MAX_AGE = timedelta(days=2)
QUERIES = 150
WARMUP = 15

# Route templates and statuses with the shares a public API sees (most traffic on reads that succeed).
ENDPOINTS = [("/movies/{id}", 0.34), ("/search", 0.24), ("/movies", 0.14), ("/search/suggest", 0.12),
             ("/movies/{id}/similar", 0.05), ("/genres", 0.04), ("/movies/popular", 0.03), ("/usage", 0.02),
             ("/movies/trending", 0.02)]  # fmt: skip
STATUSES = [(200, 0.875), (304, 0.01), (404, 0.04), (422, 0.015), (429, 0.045), (403, 0.01), (500, 0.005)]

OVERVIEW_30, OVERVIEW_90, PK = "overview_30", "overview_90", "pk"
REQUESTS_PAGE, REQUESTS_FILTERED, KEYS_PAGE, DEVELOPERS_PAGE = (
    "requests_page", "requests_filtered", "keys_page", "developers_page"
)  # fmt: skip
LABELS = {
    OVERVIEW_30: "analytics overview, 30 days (analytics.overview)",
    OVERVIEW_90: "analytics overview, 90 days",
    PK: "primary-key lookup of one key (baseline)",
    REQUESTS_PAGE: "request log, newest 50",
    REQUESTS_FILTERED: "request log, one owner + 4xx, newest 50",
    KEYS_PAGE: "keys list, sorted by usage today, 50",
    DEVELOPERS_PAGE: "developers list, search + newest, 50",
}


def _weights_case(column_values: list[tuple[Any, float]], draw: str) -> sql.Composable:
    """A CASE over a uniform draw that picks each value with its share (constants only, no input)."""
    parts, cumulative = [], 0.0
    for value, share in column_values:
        cumulative += share
        parts.append(sql.SQL("WHEN {} < {} THEN {}").format(sql.SQL(draw), sql.Literal(cumulative), sql.Literal(value)))
    last = sql.Literal(column_values[-1][0])
    return sql.SQL("CASE {} ELSE {} END").format(sql.SQL(" ").join(parts), last)


@dataclass
class Generated:
    url: str
    cached: bool
    build_seconds: float
    rollup_seconds: float
    newest: datetime
    log_size: str


def _cached(conn: Connection, rows: int) -> dict[str, Any] | None:
    if conn.execute("SELECT to_regclass('bench_admin_generator') AS t").fetchone()["t"] is None:  # type: ignore[index]
        return None
    marker = conn.execute("SELECT * FROM bench_admin_generator ORDER BY created_at DESC LIMIT 1").fetchone()
    if marker is None or (marker["version"], marker["rows"]) != (GENERATOR_VERSION, rows):
        return None
    if datetime.now(UTC) - marker["newest"] > MAX_AGE:
        return None
    return dict(marker)


def ensure_generated(*, rows: int, database: str) -> Generated:
    url = common.database_url(database)
    marker = None
    if common.database_exists(database):
        with connect(url) as probe:
            marker = _cached(probe, rows)
    if marker is None:
        print(
            f"admin: building {rows:,} usage-log rows over {DAYS} days in {database} (generator v{GENERATOR_VERSION})"
        )
        url = common.fresh_database(database)
        marker = _build(url, rows)
    else:
        print(f"admin: {database} holds {rows:,} usage-log rows of generator v{GENERATOR_VERSION}; reused")
    with connect(url) as conn:
        conn.execute("SET statement_timeout = 0")
        migrate(conn)
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('usage_logs')) AS s").fetchone()
    return Generated(
        url=url,
        cached=not marker.get("built_now", False),
        build_seconds=marker["build_seconds"],
        rollup_seconds=marker["rollup_seconds"],
        newest=marker["newest"],
        log_size=size["s"] if size else "?",
    )


def _build(url: str, rows: int) -> dict[str, Any]:
    started = time.perf_counter()
    with connect(url) as conn:
        conn.execute("SET statement_timeout = 0")
        conn.execute("SET maintenance_work_mem = '512MB'")
        migrate(conn)
        now = conn.execute("SELECT date_trunc('minute', now()) AS now").fetchone()["now"]  # type: ignore[index]
        first = now - timedelta(days=DAYS)
        conn.execute("SELECT setseed(%s)", (SEED,))
        # Developers who signed up (self-serve) over the last year; 1 in 5 holds a second key; keys ranked by
        # popularity.
        conn.execute(
            """INSERT INTO users (name, email, canonical_email, verified, created_at, signed_up_at)
               SELECT 'Developer ' || g, 'dev' || g || '@gmail.com', 'dev' || g || '@gmail.com', true, at, at
               FROM (SELECT g, %s::timestamptz - random() * interval '365 days' AS at
                     FROM generate_series(1, %s) AS g) AS s""",
            (now, DEVELOPERS),
        )
        conn.execute(
            """INSERT INTO api_keys (owner_id, key, last4, plan, created_at)
               SELECT u.id, sha256(('bench-key-' || g)::bytea), lpad(to_hex(g), 4, '0'),
                      (ARRAY['free', 'free', 'free', 'pro', 'unlimited'])[1 + (g %% 5)], u.created_at
               FROM generate_series(1, %s) AS g
               JOIN users u ON u.id = (SELECT min(id) FROM users) + (g - 1) %% %s""",
            (KEYS, DEVELOPERS),
        )
        conn.execute(
            """CREATE TEMP TABLE bench_rank AS
               SELECT row_number() OVER (ORDER BY random()) AS rank, id FROM api_keys"""
        )
        conn.execute("CREATE INDEX ON bench_rank (rank)")
        # Past months need their partitions (the migration makes this month's and the next ones').
        month = first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        while month < now:
            following = (month + timedelta(days=32)).replace(day=1)
            name = f"usage_logs_{month:%Y_%m}"
            conn.execute(
                sql.SQL("CREATE TABLE IF NOT EXISTS {} PARTITION OF usage_logs FOR VALUES FROM ({}) TO ({})").format(
                    sql.Identifier(name), sql.Literal(month), sql.Literal(following)
                )
            )
            month = following
        # Secondary indexes are dropped for the load and rebuilt from their definitions afterwards.
        indexes = conn.execute(
            """SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE i.indrelid = 'usage_logs'::regclass AND NOT i.indisprimary"""
        ).fetchall()
        for index in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index["name"])))
        per_day = rows // DAYS
        endpoint = _weights_case(ENDPOINTS, "e")
        status = _weights_case(STATUSES, "s")
        for day in range(DAYS):
            count = per_day if day < DAYS - 1 else rows - per_day * (DAYS - 1)
            start = first + timedelta(days=day)
            # Key popularity is skewed (rank = K * u^3), so a few keys carry most of the traffic, as in life.
            conn.execute(
                sql.SQL(
                    """INSERT INTO usage_logs (api_key_id, endpoint, status, "timestamp")
                       SELECT r.id, {endpoint}, {status}, t.ts
                       FROM (SELECT 1 + floor(%(keys)s * power(random(), 3))::bigint AS rank, random() AS e,
                                    random() AS s, %(start)s::timestamptz + random() * interval '1 day' AS ts
                             FROM generate_series(1, %(count)s)) AS t
                       JOIN bench_rank r ON r.rank = t.rank
                       ORDER BY t.ts"""
                ).format(endpoint=endpoint, status=status),
                {"keys": KEYS, "start": start, "count": count},
            )
            if day % 10 == 9:
                print(f"admin: {day + 1} of {DAYS} days logged, {time.perf_counter() - started:.0f} s")
        for index in indexes:
            # A partitioned index's definition reads "ON ONLY usage_logs" (the parent alone); the load needs the
            # index on every partition, which CREATE INDEX on the parent makes.
            conn.execute(index["definition"].replace(" ON ONLY ", " ON ", 1))
        # The per-key rollup and counters the admission statement would have kept (in day order, as it writes them).
        conn.execute(
            """INSERT INTO usage_daily (api_key_id, day, endpoint, requests, rejected, ok, client_errors, limited,
                                        server_errors)
               SELECT api_key_id, ("timestamp" AT TIME ZONE 'UTC')::date, endpoint,
                      count(*) FILTER (WHERE status NOT IN (403, 429)), count(*) FILTER (WHERE status IN (403, 429)),
                      count(*) FILTER (WHERE status < 400), count(*) FILTER (WHERE status BETWEEN 400 AND 499
                                                                              AND status <> 429),
                      count(*) FILTER (WHERE status = 429), count(*) FILTER (WHERE status >= 500)
               FROM usage_logs GROUP BY 1, 2, 3 ORDER BY 2, 1, 3"""
        )
        conn.execute(
            """UPDATE api_keys a SET total_count = s.total, last_used_at = s.last_used,
                      usage_count = s.today, usage_day = (now() AT TIME ZONE 'UTC')::date
               FROM (SELECT api_key_id, count(*) FILTER (WHERE status NOT IN (403, 429)) AS total,
                            max("timestamp") AS last_used,
                            count(*) FILTER (WHERE status NOT IN (403, 429)
                                             AND "timestamp" >= date_trunc('day', now() AT TIME ZONE 'UTC')
                                                                AT TIME ZONE 'UTC') AS today
                     FROM usage_logs GROUP BY 1) AS s
               WHERE a.id = s.api_key_id"""
        )
        # One key in 20 has been deleted since (migration 0012 keeps it in deleted_api_keys): the overview, the
        # request log and the lists read history through issued_api_keys, both tables.
        conn.execute("DELETE FROM api_keys WHERE id % 20 = 0")
        conn.execute("VACUUM (ANALYZE)")
        build_seconds = time.perf_counter() - started
        # Everything counted before the migration's rollup state existed is rolled up now, as a deploy would.
        conn.execute("UPDATE usage_rollup_state SET open_from = (%s::timestamptz AT TIME ZONE 'UTC')::date", (first,))
        started = time.perf_counter()
        conn.execute("SELECT marquee_roll_up_usage(NULL)")
        rollup_seconds = time.perf_counter() - started
        conn.execute("VACUUM (ANALYZE) usage_day_totals, usage_daily_active")
        conn.execute(
            """CREATE TABLE bench_admin_generator (version integer, rows bigint, build_seconds float8,
                   rollup_seconds float8, newest timestamptz, created_at timestamptz DEFAULT now())"""
        )
        conn.execute(
            "INSERT INTO bench_admin_generator VALUES (%s, %s, %s, %s, %s)",
            (GENERATOR_VERSION, rows, build_seconds, rollup_seconds, now),
        )
        print(f"admin: built in {build_seconds:.0f} s; full rollup of {rows:,} rows in {rollup_seconds:.1f} s")
    return {
        "built_now": True,
        "build_seconds": round(build_seconds, 1),
        "rollup_seconds": round(rollup_seconds, 2),
        "newest": now,
    }


def _busy_today(conn: Connection) -> int:
    """Today's usage_daily rows as at the end of a day as busy as the busiest generated one: what the overview
    reads live past the rollups (the most it ever reads live while the daily rollup keeps up)."""
    conn.execute("DELETE FROM usage_daily WHERE day = (now() AT TIME ZONE 'UTC')::date")
    busiest = conn.execute(
        "SELECT day FROM usage_daily GROUP BY day ORDER BY sum(requests + rejected) DESC LIMIT 1"
    ).fetchone()
    assert busiest is not None
    return conn.execute(
        """INSERT INTO usage_daily (api_key_id, day, endpoint, requests, rejected, ok, client_errors, limited,
                                    server_errors)
           SELECT api_key_id, (now() AT TIME ZONE 'UTC')::date, endpoint, requests, rejected, ok, client_errors,
                  limited, server_errors
           FROM usage_daily WHERE day = %s""",
        (busiest["day"],),
    ).rowcount


def _raw_overview(conn: Connection, days: int) -> None:
    """The overview's per-day and per-endpoint totals summed from usage_daily on every read: what the rollups spare
    (longer than the request statement timeout at this size, so run without it)."""
    conn.execute("SET statement_timeout = 0")
    conn.execute(
        """SELECT day, endpoint, sum(requests + rejected), sum(client_errors), sum(limited)
           FROM usage_daily WHERE day > (now() AT TIME ZONE 'UTC')::date - %s
           GROUP BY GROUPING SETS ((day), (endpoint))""",
        (days,),
    ).fetchall()
    conn.execute("RESET statement_timeout")


def _export(conn: Connection, folder: Path, limit_rows: int) -> dict[str, Any]:
    """Export the newest `limit_rows` requests (a time range holding that many) and measure memory."""
    since_row = conn.execute(
        'SELECT "timestamp" FROM usage_logs ORDER BY "timestamp" DESC OFFSET %s LIMIT 1', (limit_rows - 1,)
    ).fetchone()
    assert since_row is not None
    query = RequestQuery(since=since_row["timestamp"])
    store = FolderExportStore(folder, "http://127.0.0.1/exports")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    stored = requests.export_requests(
        conn, Actor.cli(), store, query=query, sort="timestamp.desc", statement_timeout_ms=0
    )
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    path = folder / stored.name
    with path.open("rb") as exported:
        lines = sum(1 for _ in exported)
    path.unlink()
    # Baseline: the same rows as bare COPY text, read and dropped (no join, no CSV quoting, no file).
    started = time.perf_counter()
    raw_bytes = sum(
        len(chunk)
        for chunk in copy_out(
            conn,
            'COPY (SELECT * FROM usage_logs WHERE "timestamp" >= %s ORDER BY "timestamp" DESC) TO STDOUT',
            (since_row["timestamp"],),
            statement_timeout_ms=0,
        )
    )
    raw_seconds = time.perf_counter() - started
    return {
        "rows": lines - 1,
        "bytes": stored.bytes,
        "seconds": seconds,
        "peak_traced_bytes": peak,
        "max_rss_growth_kib": max(rss_after - rss_before, 0),
        "raw_copy_seconds": raw_seconds,
        "raw_copy_bytes": raw_bytes,
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    rows = 200_000 if quick else ROWS
    export_rows = 20_000 if quick else EXPORT_ROWS
    n = 20 if quick else QUERIES
    database = f"{DATABASE}_quick" if quick else DATABASE
    common.use_database(common.database_url(database))
    data = ensure_generated(rows=rows, database=database)
    conn = connect(data.url)  # Marquee's session settings, the request statement timeout included
    live_rows = _busy_today(conn)
    rng = random.Random(20261130)
    key_ids = [r["id"] for r in conn.execute("SELECT id FROM api_keys ORDER BY id").fetchall()]
    owners = [r["id"] for r in conn.execute("SELECT id FROM users ORDER BY id").fetchall()]

    calls: dict[str, Callable[[], Any]] = {
        OVERVIEW_30: lambda: analytics.overview(conn, days=30),
        OVERVIEW_90: lambda: analytics.overview(conn, days=90),
        PK: lambda: keys.get_key(conn, key_id=rng.choice(key_ids)),
        REQUESTS_PAGE: lambda: requests.list_requests(
            conn, query=RequestQuery(), sort="timestamp.desc", per_page=50, cursor=None
        ),
        REQUESTS_FILTERED: lambda: requests.list_requests(
            conn,
            query=RequestQuery(owner_id=rng.choice(owners[:2000]), status_class="4xx"),
            sort="timestamp.desc",
            per_page=50,
            cursor=None,
        ),
        KEYS_PAGE: lambda: keys.list_keys(conn, filters=KeyFilters(), sort="usage_today.desc", page=1, per_page=50),
        DEVELOPERS_PAGE: lambda: developers.list_developers(
            conn, filters=DeveloperFilters(search=f"dev{rng.randrange(1, 999)}"), sort="created.desc", page=1,
            per_page=50,
        ),
    }  # fmt: skip
    first = analytics.overview(conn, days=90)  # also rolls up what the cached data left open
    assert sum(d.requests for d in first.days) >= rows * 0.95, "the overview must see the generated traffic"
    for _ in range(WARMUP):
        for call in calls.values():
            call()
    jobs = [kind for kind in calls for _ in range(n)]
    rng.shuffle(jobs)
    samples: dict[str, list[int]] = {kind: [] for kind in calls}
    started = time.perf_counter()
    for kind in jobs:
        t0 = time.perf_counter_ns()
        calls[kind]()
        samples[kind].append(time.perf_counter_ns() - t0)
    timing_seconds = time.perf_counter() - started
    stats = {kind: common.summarize_ns(values) for kind, values in samples.items()}

    raw_ms = []
    for _ in range(1 if quick else 3):
        t0 = time.perf_counter_ns()
        _raw_overview(conn, 30)
        raw_ms.append((time.perf_counter_ns() - t0) / 1e6)
    raw_30 = common.percentile(raw_ms, 50)

    folder = common.REPO / ".marquee" / "bench" / "exports"
    export = _export(conn, folder, export_rows)
    conn.close()

    pk = stats[PK]["median_ms"]
    figures = [
        common.Figure(
            f"{LABELS[kind]}, p95",
            stats[kind]["p95_ms"],
            "ms",
            pk,
            "primary-key lookup, median",
            budget=150,
            budget_text="≤ 150 ms",
            note=f"p50 {stats[kind]['median_ms']:.2f} ms, p99 {stats[kind]['p99_ms']:.2f} ms",
        )
        for kind in (OVERVIEW_30, OVERVIEW_90)
    ]
    figures.append(
        common.Figure(
            "the same 30-day totals summed from usage_daily on each read (no day totals), median",
            round(raw_30, 1),
            "ms",
            stats[OVERVIEW_30]["median_ms"],
            "overview from the rollups, median",
            note=f"{len(raw_ms)} runs; what the day totals save",
        )
    )
    figures += [
        common.Figure(
            f"{LABELS[kind]}, p95",
            stats[kind]["p95_ms"],
            "ms",
            pk,
            "primary-key lookup, median",
            note=f"p50 {stats[kind]['median_ms']:.2f} ms",
        )
        for kind in (REQUESTS_PAGE, REQUESTS_FILTERED, KEYS_PAGE, DEVELOPERS_PAGE)
    ]
    figures += [
        common.Figure(
            f"request-log CSV export of {export['rows']:,} rows",
            round(export["seconds"], 2),
            "s",
            round(export["raw_copy_seconds"], 2),
            "bare COPY of the same rows, read and dropped",
            note=f"{export['bytes'] / 1e6:.0f} MB written; {export['rows'] / export['seconds']:,.0f} rows/s",
        ),
        common.Figure(
            "export: peak Python memory traced (tracemalloc)",
            round(export["peak_traced_bytes"] / 1e6, 2),
            "MB",
            round(export["bytes"] / 1e6, 1),
            "size of the CSV, MB",
            budget=5,
            budget_text="≤ 5 MB (flat)",
            note=f"max RSS grew by {export['max_rss_growth_kib'] / 1024:.1f} MiB",
        ),
        common.Figure(
            f"closing all {DAYS} days of usage_daily into day totals (marquee_roll_up_usage)",
            round(data.rollup_seconds, 1),
            "s",
            note=f"{'cached from an earlier run; ' if data.cached else ''}data built in {data.build_seconds:.0f} s",
        ),
    ]
    return {
        "benchmark": "admin",
        "title": (
            f"Admin analytics over {rows:,} usage-log rows, admin lists, CSV export (budgets: docs/architecture.md §8)"
        ),
        "parameters": {
            "rows": rows,
            "developers": DEVELOPERS,
            "keys": KEYS,
            "days": DAYS,
            "database": database,
            "queries_per_kind": n,
            "generator_version": GENERATOR_VERSION,
            "usage_daily_rows_today": live_rows,
        },
        "figures": [f.as_dict() for f in figures],
        "tables": [
            {
                "title": "Latency per call (ms), all interleaved on one connection",
                "columns": ["call", "p50", "p95", "p99", "max", "n"],
                "rows": [
                    [LABELS[k], s["median_ms"], s["p95_ms"], s["p99_ms"], s["max_ms"], s["n"]] for k, s in stats.items()
                ],
            }
        ],
        "details": {
            "latency": stats,
            "export": export,
            "usage_logs_size": data.log_size,
            "data_newest": data.newest.isoformat(),
            "timing_seconds": round(timing_seconds, 1),
            "raw_overview_ms": raw_ms,
        },
        "notes": [
            f"{rows:,} usage-log rows over {DAYS} days (monthly partitions) from {KEYS:,} keys of {DEVELOPERS:,} "
            "developers, key popularity skewed (rank = K·u³), endpoints and statuses in fixed shares; usage_daily (by "
            "outcome) and the key counters built from them; the day totals brought up to date as a deploy would.",
            f"Before timing, today's usage_daily holds {live_rows:,} rows, a copy of the busiest generated day: the "
            "overview reads today live from usage_daily, past the day totals.",
            f"Each call goes through the admin service (movie_admin.services) on a movie_common.database.connect "
            f"connection; the {len(calls)} kinds run {n} times each, shuffled together, after {WARMUP} warm-up rounds.",
            "The export streams COPY output into a file in 64 KiB chunks (the S3 store streams multipart parts the "
            "same way); tracemalloc's peak covers every Python allocation during the export.",
        ],
    }
