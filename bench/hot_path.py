"""Hot-path benchmark (bench/): GET /movies/{id} through the Lambda handler, beside a constant and an unkeyed route."""

import copy
import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Header, Response

from bench import common
from marquee_local import stack
from marquee_local.events import adjust as adjust_event
from marquee_local.lambda_context import LocalLambdaContext
from movie_api import services
from movie_api.params import MovieId
from movie_api.routes.movies import CACHE_CONTROL
from movie_common import access
from movie_common.database import connect, get_connection
from movie_common.db import movies

DATABASE = "marquee_bench"
EVENT = common.REPO / "functions" / "api" / "events" / "get_movie.json"
CONSTANT = b'{"ok":true}'
BENCH_PLAN = """INSERT INTO plans (id, name, daily_quota, per_minute, gateway_tier)
                VALUES ('bench', 'Bench', NULL, 1000000000, 'unlimited')"""
# Names of the timed variants: the three through Mangum + FastAPI, then context measured on the same connection.
KEYED, UNKEYED, CONSTANT_ROUTE = "keyed", "unkeyed", "constant"
SELECT1, MOVIE_SQL, ADMIT_SQL, ADMIT_DURABLE = "select1", "movie_sql", "admit_sql", "admit_sql_durable_commit"
VARIANTS = (KEYED, UNKEYED, CONSTANT_ROUTE, SELECT1, MOVIE_SQL, ADMIT_SQL, ADMIT_DURABLE)
ADMITTING = (KEYED, ADMIT_SQL, ADMIT_DURABLE)
LABELS = {
    KEYED: "GET /movies/{id} (keyed: key checked, quota counted, request logged)",
    UNKEYED: "/bench/movie/{id}: same work without the key dependency",
    CONSTANT_ROUTE: '/bench/constant: constant {"ok":true} through the same stack',
    SELECT1: "SELECT 1 round trip on the handler's connection",
    MOVIE_SQL: "movies.get_movie_json alone (one primary-key SELECT)",
    ADMIT_SQL: "access.admit alone (the one-statement key check, count and log; ApiFunction's session)",
    ADMIT_DURABLE: "access.admit alone, synchronous_commit on (another connection)",
}


def _event(base: dict[str, Any], *, path: str, resource: str, key: str) -> dict[str, Any]:
    """The sample REST event with another route and the benchmark key, rebuilt by the event toolkit."""
    return adjust_event(base, key=key, resource=resource, path=path)


def _bench_handler(logger: Any) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The real app (movie_api.app.create_app) plus two baseline routes, wrapped exactly like the deployed handler
    (movie_web.app.lambda_handler: Mangum inside Powertools' inject_lambda_context, one access log line a request)."""
    from movie_api.app import create_app
    from movie_web.app import lambda_handler

    app = create_app(logger)

    @app.get("/bench/constant", include_in_schema=False)
    async def constant() -> Response:
        return Response(CONSTANT, media_type="application/json")

    @app.get("/bench/movie/{id}", include_in_schema=False)
    async def unkeyed_movie(
        id: MovieId,
        if_none_match: str | None = Header(default=None, include_in_schema=False),
    ) -> Response:
        doc, etag = services.get_movie(get_connection(), id)
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
        if services.etag_matches(if_none_match, etag):
            return Response(status_code=304, headers=headers)
        return Response(doc, media_type="application/json", headers=headers)

    return lambda_handler(app, logger)


def run(*, quick: bool = False) -> dict[str, Any]:
    rounds, per_round, warmup = (3, 100, 100) if quick else (20, 500, 500)
    url = common.fresh_database(DATABASE)
    common.use_database(url, function="ApiFunction")  # before movie_api.handler is imported: read once
    catalogue = common.catalogue_path()
    with connect(url, statement_timeout_ms=0) as setup:  # bulk seeding never runs under the request timeout
        started = time.perf_counter()
        _, loaded = stack.prepare(setup, catalogue=catalogue)
        seed_seconds = time.perf_counter() - started
        setup.execute(BENCH_PLAN)
        key = stack.create_key(setup, owner_email="bench@localhost", plan="bench").raw_key
        movie_row = setup.execute("SELECT id FROM movies ORDER BY id OFFSET 1000 LIMIT 1").fetchone()
        assert movie_row is not None
        movie_id = int(movie_row["id"])
    print(f"hot_path: {loaded:,} movies seeded from {catalogue} in {seed_seconds:.1f} s; movie id {movie_id}")

    import movie_api.handler as deployed_module

    # The access log lines are written (their cost is part of every request) but to /dev/null, not the terminal.
    devnull = Path(os.devnull).open("w")  # noqa: SIM115 - open for the life of the benchmark process
    deployed_module.logger.registered_handler.setStream(devnull)
    handler = _bench_handler(deployed_module.logger)
    base = json.loads(EVENT.read_text(encoding="utf-8"))
    events = {
        KEYED: _event(base, path=f"/movies/{movie_id}", resource="/movies/{id}", key=key),
        UNKEYED: _event(
            base,
            path=f"/bench/movie/{movie_id}",
            resource="/bench/movie/{id}",
            key=key,
        ),
        CONSTANT_ROUTE: _event(base, path="/bench/constant", resource="/bench/constant", key=key),
    }
    context = LocalLambdaContext(function_name="ApiFunction")
    conn = get_connection()  # the handler's own connection: the context rows use it too
    durable_conn = connect(url)  # what the admission would cost if each commit waited for its WAL flush
    durable_conn.execute("SET synchronous_commit = on")

    # Sanity before timing: right statuses and bodies, and the handler leaves its event as it found it.
    pristine = copy.deepcopy(events)
    first = {name: handler(event, context) for name, event in events.items()}
    assert events == pristine, "Mangum changed the event; copy it per call"
    for name, response in first.items():
        assert response["statusCode"] == 200, (name, response)
    assert first[KEYED]["body"] == first[UNKEYED]["body"], "the unkeyed twin must return the same document"
    assert first[KEYED]["headers"]["etag"] == first[UNKEYED]["headers"]["etag"]
    assert first[CONSTANT_ROUTE]["body"] == CONSTANT.decode()
    assert "x-ratelimit-remaining" in first[KEYED]["headers"], "the keyed route must have counted the request"

    calls: dict[str, Callable[[], int]] = {
        KEYED: lambda: handler(events[KEYED], context)["statusCode"],
        UNKEYED: lambda: handler(events[UNKEYED], context)["statusCode"],
        CONSTANT_ROUTE: lambda: handler(events[CONSTANT_ROUTE], context)["statusCode"],
        SELECT1: lambda: 200 if conn.execute("SELECT 1").fetchone() is not None else 500,
        MOVIE_SQL: lambda: 200 if movies.get_movie_json(conn, movie_id=movie_id) else 404,
        ADMIT_SQL: lambda: 200 if access.admit(conn, key, endpoint="/movies/{id}").key_id else 403,
        ADMIT_DURABLE: lambda: 200 if access.admit(durable_conn, key, endpoint="/movies/{id}").key_id else 403,
    }
    logs_before = _usage_logs(conn)
    sent_ahead_before = _sent_ahead(conn)
    keyed_calls = 0
    statuses: dict[str, Counter[int]] = {name: Counter() for name in VARIANTS}

    def timed(name: str, n: int) -> list[int]:
        nonlocal keyed_calls
        call, samples, seen = calls[name], [], statuses[name]
        clock = time.perf_counter_ns
        for _ in range(n):
            t0 = clock()
            status = call()
            samples.append(clock() - t0)
            seen[status] += 1
        if name in ADMITTING:
            keyed_calls += n
        return samples

    started = time.perf_counter()
    for name in VARIANTS:
        timed(name, warmup)
    rng = random.Random(8)
    samples: dict[str, list[int]] = {name: [] for name in VARIANTS}
    round_medians: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for index in range(rounds):
        order = list(VARIANTS)
        rng.shuffle(order)  # no variant always runs first or right after another
        for name in order:
            batch = timed(name, per_round)
            samples[name].extend(batch)
            round_medians[name].append(common.percentile(batch, 50) / 1e6)
        print(f"hot_path: round {index + 1}/{rounds} " + " ".join(f"{n}={round_medians[n][-1]:.3f}" for n in VARIANTS))
    timing_seconds = time.perf_counter() - started

    # The number measures real work: every keyed call answered 200 and left one usage-log row.
    logs_after = _usage_logs(conn)
    for name in VARIANTS:
        assert set(statuses[name]) == {200}, (name, dict(statuses[name]))
    assert logs_after - logs_before == keyed_calls, (logs_after - logs_before, keyed_calls)
    # ...and the keyed route's admissions were sent ahead (movie_web.key_auth.admitting_ahead), as deployed.
    sent_ahead = _sent_ahead(conn) - sent_ahead_before
    keyed_route_calls = sum(statuses[KEYED].values())
    assert sent_ahead == keyed_route_calls, (sent_ahead, keyed_route_calls)
    durable_conn.close()

    stats = {name: common.summarize_ns(samples[name]) for name in VARIANTS}
    keyed, unkeyed, constant = (stats[n]["median_ms"] for n in (KEYED, UNKEYED, CONSTANT_ROUTE))
    round_deltas = [k - u for k, u in zip(round_medians[KEYED], round_medians[UNKEYED], strict=True)]
    figures = [
        common.Figure(
            "keyed GET /movies/{id} ÷ the same route without the key dependency (medians)",
            keyed,
            "ms",
            unkeyed,
            "same route without the key dependency, median",
            budget=1.5,
            budget_on="ratio",
            budget_text=f"≤ 1.5{common.TIMES}",
        ),
        common.Figure(
            "keyed GET /movies/{id} ÷ constant route (medians)",
            keyed,
            "ms",
            constant,
            "constant-JSON route, median",
            budget=7.0,
            budget_on="ratio",
            budget_text=f"≤ 7{common.TIMES}",
        ),
        common.Figure(
            f"key check + quota + log: keyed {common.MINUS} unkeyed median",
            round(keyed - unkeyed, 4),
            "ms",
            unkeyed,
            "same route without the key dependency, median",
            note=f"per-round deltas {min(round_deltas):.3f} to {max(round_deltas):.3f} ms",
        ),
    ]
    for name in (KEYED, UNKEYED, CONSTANT_ROUTE):
        for q in ("p95", "p99"):
            figures.append(
                common.Figure(
                    f"{name} route, {q}", stats[name][f"{q}_ms"], "ms", stats[name]["median_ms"], f"{name} median"
                )
            )
    figures += [
        common.Figure(
            "SELECT 1 round trip, median", stats[SELECT1]["median_ms"], "ms", constant, "constant-JSON route, median"
        ),
        common.Figure(
            "admission statement alone, median",
            stats[ADMIT_SQL]["median_ms"],
            "ms",
            stats[SELECT1]["median_ms"],
            "SELECT 1, median",
        ),
        common.Figure(
            "admission alone with a durable commit (synchronous_commit on), median",
            stats[ADMIT_DURABLE]["median_ms"],
            "ms",
            stats[ADMIT_SQL]["median_ms"],
            "admission alone, median",
        ),
        common.Figure(
            "movie SELECT alone, median",
            stats[MOVIE_SQL]["median_ms"],
            "ms",
            stats[SELECT1]["median_ms"],
            "SELECT 1, median",
        ),
    ]
    return {
        "benchmark": "hot_path",
        "title": "Hot path: GET /movies/{id} through the Lambda handler (budgets: docs/architecture.md §8)",
        "parameters": {
            "rounds": rounds,
            "calls_per_round_per_variant": per_round,
            "warmup_calls_per_variant": warmup,
            "movie_id": movie_id,
            "catalogue": str(catalogue),
            "movies_seeded": loaded,
            "event": str(EVENT.relative_to(common.REPO)),
            "prepare_threshold": conn.prepare_threshold,
        },
        "figures": [f.as_dict() for f in figures],
        "tables": [
            {
                "title": "Per variant (ms)",
                "columns": ["variant", "median", "p95", "p99", "min", "n"],
                "rows": [
                    [
                        LABELS[n],
                        stats[n]["median_ms"],
                        stats[n]["p95_ms"],
                        stats[n]["p99_ms"],
                        stats[n]["min_ms"],
                        stats[n]["n"],
                    ]
                    for n in VARIANTS
                ],
            }
        ],
        "details": {
            "variants": {name: {"label": LABELS[name], **stats[name]} for name in VARIANTS},
            "round_medians_ms": {name: [round(v, 4) for v in values] for name, values in round_medians.items()},
            "checks": {
                "keyed_statuses": dict(statuses[KEYED]),
                "usage_logs_added": logs_after - logs_before,
                "keyed_calls_counted": keyed_calls,
                "keyed_route_admissions_sent_ahead": sent_ahead,
            },
            "timing_seconds": round(timing_seconds, 1),
        },
        "notes": [
            "Every call is timed alone with time.perf_counter_ns around `handler(event, context)`; variants run in "
            f"{rounds} rounds of {per_round} calls, in a shuffled order per round, after {warmup} warm-up calls each.",
            f"Checked in the run: all keyed responses were 200 and usage_logs grew by exactly {keyed_calls:,} rows "
            "(keyed route calls plus direct admissions).",
            f"Every one of the keyed route's {keyed_route_calls:,} calls had its admission sent ahead as the event "
            "arrived (movie_web.key_auth.admitting_ahead: PostgreSQL decides, counts and logs while FastAPI routes), "
            "counted from PostgreSQL's executions of that prepared statement.",
            "Context rows time the pieces alone on the handler's connection: SELECT 1, the movie's SELECT, the "
            "admission statement, and the admission on a second connection with synchronous_commit on.",
            "The handler's session is ApiFunction's (template.yaml's DB_* variables): DB_SYNCHRONOUS_COMMIT=off, so "
            "the admission's commit does not wait for its WAL flush (the durable row shows what that would cost).",
        ],
    }


def _sent_ahead(conn: Any) -> int:
    """Executions of the admission sent ahead on this connection (PostgreSQL counts them by plan kind)."""
    row = conn.execute(
        "SELECT coalesce(sum(generic_plans + custom_plans), 0) AS n FROM pg_prepared_statements"
        " WHERE name = 'marquee_admit_ok'"
    ).fetchone()
    return int(row["n"])


def _usage_logs(conn: Any) -> int:
    row = conn.execute("SELECT count(*) AS n FROM usage_logs").fetchone()
    return int(row["n"])
