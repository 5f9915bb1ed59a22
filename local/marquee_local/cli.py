"""`marquee`: the one-machine stack's command line. Core commands live here (run, stop, migrate, seed, create-key,
reset, psql); other modules add theirs by being listed in COMMAND_MODULES (each defines `register(commands)`, where
`commands` is argparse's subparsers object), and add background services to `marquee run` by being listed in
SERVICE_MODULES (see marquee_local.run for that contract).

A mistake a user can make (a missing file, a malformed setting, an unreachable DATABASE_URL, a port in use) is one
line on stderr saying what is wrong and how to fix it, and exit status 1; never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import faulthandler
import functools
import gzip
import importlib
import os
import shutil
import signal
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType, ModuleType

from marquee_local import arguments, first_start, postgres, postgres_watch, run, runs, stack
from movie_common.errors import ConfigurationError, MarqueeError

# Modules that add subcommands: `def register(commands: argparse._SubParsersAction) -> None`.
COMMAND_MODULES: tuple[str, ...] = (
    "marquee_local.sync_commands",
    "marquee_local.ingest_commands",
    "marquee_local.admin_commands",
)
# Modules that add services to `marquee run`, started in this order after the gateway, stopped in reverse.
SERVICE_MODULES: tuple[str, ...] = (
    "marquee_local.site_server",
    "marquee_local.local_aws",
    "marquee_local.scheduler",
    "marquee_local.usage_rollup",
    "marquee_local.dropfolder",
    "marquee_local.admin_service",
)
# What `marquee reset` keeps in $MARQUEE_HOME: the test suite's and the benchmarks' own databases.
KEPT_BY_RESET = ("test", "bench")


def _modules(names: tuple[str, ...]) -> list[ModuleType]:
    return [importlib.import_module(name) for name in names]


class _StopSignals:
    """SIGTERM (kill, an IDE, a process manager) and SIGHUP (the terminal closed) stop `marquee run` as Ctrl-C
    does, at any point of its start: the first one raises KeyboardInterrupt, later ones are ignored so that the
    stop itself (PostgreSQL included) runs to its end."""

    SIGNALS = (signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.stopping = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if not self.stopping:
            self.stopping = True
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def installed(self) -> Iterator[_StopSignals]:
        previous = {number: signal.signal(number, self._handle) for number in self.SIGNALS}
        try:
            yield self
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


def cmd_run(args: argparse.Namespace) -> int:
    run.check_ports(args)
    run.check_public_host(args)
    stack.check_function_settings()  # before anything starts: a malformed setting is one line, not a traceback
    home = stack.marquee_home()
    # `kill -USR1 <pid>` prints every thread's stack to the terminal: what a stack that will not stop is waiting on.
    # Only when stderr is a real file (not, e.g., a test's in-memory capture).
    with contextlib.suppress(AttributeError, ValueError, OSError):
        faulthandler.register(signal.SIGUSR1, all_threads=True, file=sys.stderr.fileno())
    signals = _StopSignals()
    with signals.installed():
        runs.register(home)
        try:
            services = _modules(SERVICE_MODULES)
            for module in services:
                # Optional: work before anything starts, e.g. the portal binds its socket: its origin is the
                # gateway's CORS.
                before = getattr(module, "before_run", None)
                if before is not None:
                    before(args)
            return _run_stack(args, home, signals, services)
        except KeyboardInterrupt:
            print("\nstopped", flush=True)
            return 130
        finally:
            signals.stopping = True
            runs.unregister(home)


def _run_stack(args: argparse.Namespace, home: Path, signals: _StopSignals, services: list[ModuleType]) -> int:
    with stack.opened_database(home) as db:
        with stack.connect_admin(db.url) as conn:
            applied = stack.migrate_schema(conn)
            stack.check_default_plan(conn)  # the plans are rows: checked once the schema is there
            catalogue = stack.catalogue_path() if stack.catalogue_is_empty(conn) else None
            key = stack.demo_key(conn, home)
        if applied:
            print(f"migrations applied: {', '.join(applied)}")
        context = run.RunContext(args=args, home=home, database_url=db.url)
        where = "embedded PostgreSQL in " + str(home / "pgdata") if db.embedded else "DATABASE_URL"

        def banner(services: list[run.Service]) -> None:
            runs.register(home, api_url=context.api_url)
            lines = [line for service in services for line in service.describe()]
            lines.append(f"Your key   {key}   (pro plan; saved in {home / 'demo-key'})")
            if db.embedded:
                lines.append(f"Logs       this terminal; PostgreSQL's in {home / 'pgdata' / 'log'}")
            print(f"\nMarquee is running ({where}).\n")
            print("\n".join(f"  {line}" for line in lines))
            print(f'\nTry it:\n  curl -H "X-API-KEY: {key}" "{context.api_url}/search?title=godfather"\n')
            print("Ctrl-C (or `marquee stop` from another terminal) stops the stack.", flush=True)

        factories: list[Callable[[], run.Service | None]] = []
        embedded = db.embedded
        if embedded is not None:
            # First, so it stops last: the embedded server is watched, and restarted if it dies, while the stack runs.
            factories.append(lambda: postgres_watch.PostgresWatchService(context, embedded))
        factories.append(lambda: run.GatewayService(context))
        if catalogue is not None:
            factories.append(lambda: first_start.CatalogueLoadService(context, catalogue))
        factories += [functools.partial(module.service, context) for module in services]
        status = run.serve_until_stopped(factories, banner=banner, log=print)
        signals.stopping = True  # from here on only the stop runs: later signals must not interrupt it
        return status


def cmd_stop(args: argparse.Namespace) -> int:
    home = stack.marquee_home()
    stopped = runs.stop_runs(home, timeout=args.timeout)
    for record in stopped:
        print(f"stopped marquee run (pid {record.pid}{', ' + record.api_url if record.api_url else ''})")
    # Whatever a run left behind (killed with -9, say): the embedded server of this folder, with any stale handles.
    pgdata = home / "pgdata"
    if postgres.stop_server(pgdata):
        print(f"stopped PostgreSQL ({pgdata})")
    elif not stopped:
        print(f"nothing was running for {home}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from movie_common.migrations import migrate

    with stack.opened_database() as db, stack.connect_admin(db.url) as conn:
        applied = migrate(conn)
    print(f"applied: {', '.join(applied)}" if applied else "schema is up to date")
    return 0


def _seed_file(given: str | None) -> Path:
    if given is None:
        return stack.catalogue_path()
    path = Path(given)
    if not path.exists():
        raise stack.StackError(f"{given} does not exist; give a seed CSV with --file (the bundled one is "
                               f"{stack.BUNDLED_CATALOGUE.relative_to(stack.REPO_ROOT)})")  # fmt: skip
    if not path.is_file():
        raise stack.StackError(f"{given} is not a file; give a seed CSV with --file")
    return path


def cmd_seed(args: argparse.Namespace) -> int:
    from movie_common.catalogue import SEED_COLUMNS, read_seed_csv
    from movie_common.db import movies

    path = _seed_file(args.file)
    with stack.opened_database() as db, stack.connect_admin(db.url) as conn:
        stack.migrate_schema(conn)
        try:
            written = movies.upsert_movies(conn, read_seed_csv(path, read_titles=True)).written
            conn.execute("ANALYZE movies")
        except (ValueError, UnicodeDecodeError, csv.Error, gzip.BadGzipFile, EOFError, zlib.error, OSError) as error:
            # Nothing was written: the load is one transaction.
            reason = " ".join(str(error).split())
            if isinstance(error, UnicodeDecodeError):
                reason = "it is not UTF-8 text"
            raise stack.StackError(
                f"{path} is not a seed CSV ({reason}); nothing was loaded. A seed CSV is UTF-8 (gzip allowed) with "
                f"the header {','.join(SEED_COLUMNS)} and lists joined by |, like data/movies.csv.gz"
            ) from None
        noun = "movie" if written == 1 else "movies"
        print(f"upserted {written} {noun} from {path}; catalogue now holds {movies.count_movies(conn)}")
    return 0


def _owner_email(given: str) -> str:
    """The owner as email-validator normalises it (syntax only: no DNS); StackError for anything else."""
    from email_validator import EmailNotValidError, validate_email

    example = "e.g. --owner you@example.com"
    if not given.strip():
        raise stack.StackError(f"--owner is empty; a key's owner is an email address, {example}")
    try:
        return str(validate_email(given.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as error:
        raise stack.StackError(f"--owner {given!r} is not a valid email address ({error}); {example}") from None


def cmd_create_key(args: argparse.Namespace) -> int:
    # The admin's use case, as `marquee keys …` and POST /admin/keys use: the owner is found by the mailbox the
    # address reaches (the portal's rules: Gmail's dots and +tags…), so a developer who signed up gets the key on
    # their own account, a suspended one gets none, and the key's creation is in the audit log.
    from movie_admin.audit import Actor
    from movie_admin.services import keys
    from movie_common.db.plans import plan_ids

    owner = _owner_email(args.owner)
    with stack.opened_database() as db, stack.connect_admin(db.url) as conn:
        stack.migrate_schema(conn)
        if args.plan not in plan_ids(conn):
            print(
                f"marquee create-key: unknown plan {args.plan!r}; plans: {', '.join(plan_ids(conn))}", file=sys.stderr
            )
            return 2
        created = keys.create_key(conn, Actor.cli(), plan=args.plan, owner_email=owner)
    print(f"New {created.key.plan} key for {created.key.owner_email} (shown once; only its SHA-256 is stored):")
    print(created.raw_key)
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    home = stack.marquee_home()
    if os.environ.get("DATABASE_URL", "").strip():
        raise stack.StackError(
            "DATABASE_URL is set, and marquee reset only deletes the embedded database; unset DATABASE_URL to "
            "reset that one, or drop the tables of your own database yourself"
        )
    doomed = sorted(path for path in home.iterdir() if path.name not in KEPT_BY_RESET) if home.is_dir() else []
    if not doomed:
        print(f"nothing to reset in {home}")
        return 0
    question = (
        f"Delete the local stack's data in {home} (database, demo key, {len(doomed)} entries; "
        f"keeps {', '.join(name + '/' for name in KEPT_BY_RESET)} and the virtual environments)?"
    )
    if not args.yes:
        if not sys.stdin.isatty():
            raise stack.StackError(f"{question} Run `marquee reset --yes` to confirm (`make reset YES=1`)")
        if input(f"{question} [y/N] ").strip().lower() not in {"y", "yes"}:
            print("nothing deleted")
            return 1
    for record in runs.stop_runs(home):
        print(f"stopped marquee run (pid {record.pid})")
    postgres.stop_server(home / "pgdata")
    for path in sorted(path for path in home.iterdir() if path.name not in KEPT_BY_RESET):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    print(f"reset {home}: the next `marquee run` starts from an empty database and loads the catalogue again")
    return 0


def _psql_arguments(passed_on: list[str]) -> list[str]:
    """The arguments for psql: all of them, less the first `--` (which only kept them from Marquee's parser)."""
    if "--" in passed_on:
        at = passed_on.index("--")
        return passed_on[:at] + passed_on[at + 1 :]
    return passed_on


def cmd_psql(args: argparse.Namespace) -> int:
    psql = postgres.psql_path()
    with stack.opened_database() as db:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to psql (it cancels a query)
        try:
            return subprocess.run([str(psql), db.url, *_psql_arguments(args.passed_on)], check=False).returncode  # noqa: S603
        finally:
            signal.signal(signal.SIGINT, previous)


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
    stop = commands.add_parser(
        "stop", help="stop this folder's `marquee run` and its embedded PostgreSQL (also what a killed run left)"
    )
    stop.add_argument(
        "--timeout", type=arguments.seconds, default=30.0, help="seconds to wait for a run to stop (default 30)"
    )
    stop.set_defaults(func=cmd_stop)
    commands.add_parser("migrate", help="apply pending SQL migrations").set_defaults(func=cmd_migrate)
    seed = commands.add_parser("seed", help="upsert movies from a seed CSV (default: the bundled catalogue)")
    seed.add_argument("--file", default=None, help="a seed CSV (default: MARQUEE_CATALOGUE or data/movies.csv.gz)")
    seed.set_defaults(func=cmd_seed)
    create = commands.add_parser("create-key", help="create an API key and print it once")
    create.add_argument("--plan", default="free", help="free, pro, unlimited or another plan id")
    create.add_argument("--owner", required=True, help="owner's email address")
    create.set_defaults(func=cmd_create_key)
    reset = commands.add_parser(
        "reset", help="stop the stack and delete its data ($MARQUEE_HOME), keeping the virtual environments"
    )
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    reset.set_defaults(func=cmd_reset)
    psql = commands.add_parser(
        "psql",
        help="open psql on the stack's database (the embedded one, or DATABASE_URL); other arguments go to psql",
        description="Opens psql on the stack's database: the embedded PostgreSQL of $MARQUEE_HOME (started for the "
        "session if the stack is not running), or DATABASE_URL when set. Every other argument goes to psql, e.g. "
        "`marquee psql -c 'SELECT count(*) FROM movies'`; arguments after `--` go to psql whatever they are "
        "(`marquee psql -- --help` prints psql's own help).",
        usage="marquee psql [--help] [PSQL ARGUMENTS ...] [-- PSQL ARGUMENTS ...]",
        add_help=False,  # -h is psql's (host)
    )
    psql.add_argument("--help", action="help", help="show this help and exit (psql's: `marquee psql -- --help`)")
    psql.set_defaults(func=cmd_psql, passes_arguments_on=True)
    for module in _modules(COMMAND_MODULES):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, passed_on = parser.parse_known_args(argv)
    if passed_on and not getattr(args, "passes_arguments_on", False):
        parser.error(f"unrecognized arguments: {' '.join(passed_on)}")
    args.passed_on = passed_on
    try:
        return int(args.func(args))
    except (stack.StackError, ConfigurationError, OSError) as error:
        message = str(error)
        if isinstance(error, ConfigurationError):
            message += " (fix it in your environment, or unset it for the default; README: Configuration)"
        elif isinstance(error, OSError) and not isinstance(error, stack.StackError):
            message = f"{error.strerror or error} ({error.filename})" if error.filename else str(error)
    except MarqueeError as error:
        message = error.detail
    except KeyboardInterrupt:
        return 130
    print(f"marquee {args.command}: {' '.join(message.split())}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
