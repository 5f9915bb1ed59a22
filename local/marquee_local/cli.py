"""`marquee`: the one-machine stack's command line (run, migrate, seed, create-key, sync, purge-tmdb)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from marquee_local import stack


def _database() -> tuple[stack.Database, str]:
    db = stack.open_database()
    stack.configure_environment(db.url)
    return db, db.url


def cmd_run(args: argparse.Namespace) -> int:
    from marquee_local.gateway import GatewayServer

    home = stack.marquee_home()
    db, url = _database()
    with stack.connect_admin(url) as conn:
        applied, loaded = stack.prepare(conn)
        key = stack.demo_key(conn, home)
    if applied:
        print(f"migrations applied: {', '.join(applied)}")
    if loaded:
        print(f"catalogue loaded: {loaded} movies from {stack.CATALOGUE.relative_to(stack.REPO_ROOT)}")
    gateway = stack.local_gateway()
    server = GatewayServer(
        (args.host, args.port), gateway, workers=args.workers, access_log=None if args.quiet else print
    )
    where = "embedded PostgreSQL in " + str(home / "pgdata") if db.embedded else "DATABASE_URL"
    print(
        f"""
Marquee is running ({where}).

  API        {server.url}
  API docs   {server.url}/docs
  OpenAPI    {server.url}/openapi.json
  Your key   {key}   (pro plan; saved in {home / "demo-key"})

Try it:
  curl -H "X-API-KEY: {key}" "{server.url}/search?title=godfather"

Ctrl-C stops the stack.""",
        flush=True,
    )
    daily_sync = _start_daily_sync(url)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        if daily_sync is not None:
            daily_sync.stop()
        server.server_close()
    return 0


def _start_daily_sync(url: str) -> Any:
    """With TMDB_API_TOKEN set, the TMDB sync runs daily (and now, when none succeeded in the last day), through
    the real sync handler and a real-shaped scheduled event, as EventBridge runs it in AWS."""
    import os

    if not os.environ.get("TMDB_API_TOKEN", "").strip():
        print("TMDB sync off (set TMDB_API_TOKEN to a TMDB v3 API read access token to turn it on)", flush=True)
        return None
    from marquee_local.scheduler import DAILY_AT, DailySync
    from movie_common.db.sync_runs import last_successful_start
    from movie_sync.handler import handler

    with stack.connect_admin(url) as conn:
        last = last_successful_start(conn)
    due = last is None or datetime.now(UTC) - last > timedelta(days=1)

    def report(summary: dict[str, Any]) -> None:
        titles = summary.get("titles") or {}
        print(
            f"TMDB sync {summary.get('status')}: {titles.get('new', 0)} new, {titles.get('updated', 0)} updated, "
            f"{summary.get('error_count', 0)} errors" + (f" ({summary['message']})" if summary.get("message") else ""),
            flush=True,
        )

    print(f"TMDB sync daily at {DAILY_AT:%H:%M} UTC" + (", and now" if due else ""), flush=True)
    return DailySync(handler, report=report, due_at_start=due).start()


def cmd_migrate(args: argparse.Namespace) -> int:
    from movie_common.migrations import migrate

    _, url = _database()
    with stack.connect_admin(url) as conn:
        applied = migrate(conn)
    print(f"applied: {', '.join(applied)}" if applied else "schema is up to date")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from movie_common.catalogue import read_seed_csv
    from movie_common.db import movies
    from movie_common.migrations import migrate

    _, url = _database()
    with stack.connect_admin(url) as conn:
        migrate(conn)
        written = movies.upsert_movies(conn, read_seed_csv(Path(args.file)))
        conn.execute("ANALYZE movies")
        print(f"upserted {written} movies from {args.file}; catalogue now holds {movies.count_movies(conn)}")
    return 0


def cmd_create_key(args: argparse.Namespace) -> int:
    from movie_common.db.plans import plan_ids
    from movie_common.migrations import migrate

    _, url = _database()
    with stack.connect_admin(url) as conn:
        migrate(conn)
        if args.plan not in plan_ids(conn):
            print(f"unknown plan {args.plan!r}; plans: {', '.join(plan_ids(conn))}", file=sys.stderr)
            return 2
        issued = stack.create_key(conn, owner_email=args.owner, plan=args.plan)
    print(f"New {issued.plan} key for {args.owner} (shown once; only its SHA-256 is stored):")
    print(issued.raw_key)
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    """One TMDB sync now; prints the run as one JSON object; exit 1 if it failed, 2 if it could not start."""
    import json

    from movie_common.errors import SyncAlreadyRunningError, TmdbNotConfiguredError
    from movie_common.migrations import migrate
    from movie_sync.services import run_sync
    from movie_sync.settings import get_settings

    _, url = _database()
    with stack.connect_admin(url) as conn:
        migrate(conn)
        try:
            run = run_sync(conn, settings=get_settings(), triggered_by="cli")
        except (TmdbNotConfiguredError, SyncAlreadyRunningError) as refused:
            print(refused.detail, file=sys.stderr)
            return 2
    print(json.dumps(run.as_json(), indent=2 if args.pretty else None))
    return 1 if run.status == "failed" else 0


def cmd_purge_tmdb(args: argparse.Namespace) -> int:
    from movie_common.errors import SyncAlreadyRunningError
    from movie_common.migrations import migrate
    from movie_sync.services import purge_tmdb_data

    if not args.yes:
        print("purge-tmdb deletes every TMDB-only movie and TMDB's fields on the others; add --yes", file=sys.stderr)
        return 2
    _, url = _database()
    with stack.connect_admin(url) as conn:
        migrate(conn)
        try:
            result = purge_tmdb_data(conn)
        except SyncAlreadyRunningError as refused:
            print(refused.detail, file=sys.stderr)
            return 2
    print(f"deleted {result.deleted} TMDB movies; cleared TMDB fields from {result.cleared} others")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="marquee", description="Marquee's one-machine stack.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start PostgreSQL, migrate, seed, and serve the API on 127.0.0.1:8000")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=8, help="warm 'Lambda environments' (threads)")
    run.add_argument("--quiet", action="store_true", help="no access log")
    run.set_defaults(func=cmd_run)
    sub.add_parser("migrate", help="apply pending SQL migrations").set_defaults(func=cmd_migrate)
    seed = sub.add_parser("seed", help="upsert movies from a seed CSV (default: the bundled catalogue)")
    seed.add_argument("--file", default=str(stack.CATALOGUE))
    seed.set_defaults(func=cmd_seed)
    create = sub.add_parser("create-key", help="create an API key and print it once")
    create.add_argument("--plan", default="free", help="free, pro, unlimited or another plan id")
    create.add_argument("--owner", required=True, help="owner's email address")
    create.set_defaults(func=cmd_create_key)
    sync = sub.add_parser(
        "sync", help="run one TMDB sync now (needs TMDB_API_TOKEN); prints the run as JSON, exit 1 if it failed"
    )
    sync.add_argument("--pretty", action="store_true", help="indent the JSON")
    sync.set_defaults(func=cmd_sync)
    purge = sub.add_parser("purge-tmdb", help="delete TMDB-only movies and TMDB's fields (TMDB's terms)")
    purge.add_argument("--yes", action="store_true", help="really purge")
    purge.set_defaults(func=cmd_purge_tmdb)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
