"""`marquee`: the one-machine stack's command line (run, migrate, seed, create-key)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        server.server_close()
    return 0


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
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
