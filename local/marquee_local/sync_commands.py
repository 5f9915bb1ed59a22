"""`marquee sync` and `marquee purge-tmdb`: the TMDB sync on demand in the one-machine stack (the same service
code SyncFunction runs), and TMDB's data removed when the operator must."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from marquee_local import stack


def _database_url() -> str:
    db = stack.open_database()
    stack.configure_environment(db.url)
    return db.url


def cmd_sync(args: argparse.Namespace) -> int:
    """One TMDB sync now; prints the run as one JSON object; exit 1 if it failed, 2 if it could not start."""
    from movie_common.errors import SyncAlreadyRunningError, TmdbNotConfiguredError
    from movie_common.migrations import migrate
    from movie_sync.services import run_sync
    from movie_sync.settings import get_settings

    with stack.connect_admin(_database_url()) as conn:
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
    with stack.connect_admin(_database_url()) as conn:
        migrate(conn)
        try:
            result = purge_tmdb_data(conn)
        except SyncAlreadyRunningError as refused:
            print(refused.detail, file=sys.stderr)
            return 2
    print(f"deleted {result.deleted} TMDB movies; cleared TMDB fields from {result.cleared} others")
    return 0


def register(commands: Any) -> None:
    sync = commands.add_parser(
        "sync", help="run one TMDB sync now (needs TMDB_API_TOKEN); prints the run as JSON, exit 1 if it failed"
    )
    sync.add_argument("--pretty", action="store_true", help="indent the JSON")
    sync.set_defaults(func=cmd_sync)
    purge = commands.add_parser("purge-tmdb", help="delete TMDB-only movies and TMDB's fields (TMDB's terms)")
    purge.add_argument("--yes", action="store_true", help="really purge")
    purge.set_defaults(func=cmd_purge_tmdb)
