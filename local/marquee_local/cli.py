"""`marquee`: the one-machine stack's command line. Core commands live here (run, migrate, seed, create-key);
other modules add theirs by being listed in COMMAND_MODULES (each defines `register(commands)`, where `commands`
is argparse's subparsers object), and add background services to `marquee run` by being listed in SERVICE_MODULES
(see marquee_local.run for that contract)."""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from marquee_local import run, stack

# Modules that add subcommands: `def register(commands: argparse._SubParsersAction) -> None`.
COMMAND_MODULES: tuple[str, ...] = (
    "marquee_local.sync_commands",
    "marquee_local.ingest_commands",
    "marquee_local.admin_commands",
)
# Modules that add services to `marquee run`, started in this order after the gateway, stopped in reverse.
SERVICE_MODULES: tuple[str, ...] = (
    "marquee_local.site_server",
    "marquee_local.scheduler",
    "marquee_local.dropfolder",
    "marquee_local.admin_service",
)


def _modules(names: tuple[str, ...]) -> list[ModuleType]:
    return [importlib.import_module(name) for name in names]


def _database() -> tuple[stack.Database, str]:
    db = stack.open_database()
    stack.configure_environment(db.url)
    return db, db.url


def cmd_run(args: argparse.Namespace) -> int:
    home = stack.marquee_home()
    services = _modules(SERVICE_MODULES)
    for module in services:
        # Optional: work before anything starts, e.g. the portal binds its socket: its origin is the gateway's CORS.
        before = getattr(module, "before_run", None)
        if before is not None:
            before(args)
    db, url = _database()
    with stack.connect_admin(url) as conn:
        applied, loaded = stack.prepare(conn)
        key = stack.demo_key(conn, home)
    if applied:
        print(f"migrations applied: {', '.join(applied)}")
    if loaded:
        print(f"catalogue loaded: {loaded} movies from {stack.CATALOGUE.relative_to(stack.REPO_ROOT)}")
    context = run.RunContext(args=args, home=home, database_url=url)
    where = "embedded PostgreSQL in " + str(home / "pgdata") if db.embedded else "DATABASE_URL"

    def banner(services: list[run.Service]) -> None:
        lines = [line for service in services for line in service.describe()]
        lines.append(f"Your key   {key}   (pro plan; saved in {home / 'demo-key'})")
        print(f"\nMarquee is running ({where}).\n")
        print("\n".join(f"  {line}" for line in lines))
        print(f'\nTry it:\n  curl -H "X-API-KEY: {key}" "{context.api_url}/search?title=godfather"\n')
        print("Ctrl-C stops the stack.", flush=True)

    factories: list[Callable[[], run.Service | None]] = [lambda: run.GatewayService(context)]
    factories += [functools.partial(module.service, context) for module in services]
    return run.serve_until_stopped(factories, banner=banner, log=print)


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
        written = movies.upsert_movies(conn, read_seed_csv(Path(args.file))).written
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="marquee", description="Marquee's one-machine stack.")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser(
        "run", help="start PostgreSQL, migrate, seed, and serve the API (and the other local services)"
    )
    run.add_run_arguments(run_parser)
    for module in _modules(SERVICE_MODULES):
        add_arguments = getattr(module, "add_run_arguments", None)
        if add_arguments is not None:
            add_arguments(run_parser)
    run_parser.set_defaults(func=cmd_run)
    commands.add_parser("migrate", help="apply pending SQL migrations").set_defaults(func=cmd_migrate)
    seed = commands.add_parser("seed", help="upsert movies from a seed CSV (default: the bundled catalogue)")
    seed.add_argument("--file", default=str(stack.CATALOGUE))
    seed.set_defaults(func=cmd_seed)
    create = commands.add_parser("create-key", help="create an API key and print it once")
    create.add_argument("--plan", default="free", help="free, pro, unlimited or another plan id")
    create.add_argument("--owner", required=True, help="owner's email address")
    create.set_defaults(func=cmd_create_key)
    for module in _modules(COMMAND_MODULES):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
