"""`marquee keys …`, `marquee create-admin` and `marquee reset-admin-password`: the admin's key actions and admin
accounts from the command line, through the same services (and audit entries) as the admin API."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from marquee_local import arguments, stack
from movie_common.errors import MarqueeError

KEY_ACTIONS = ("suspend", "reactivate", "revoke", "reset-usage")
# What each action does, for `marquee keys --help` ("reset usage a key" read as a typo).
KEY_ACTION_HELP = {
    "suspend": "suspend a key",
    "reactivate": "reactivate a key",
    "revoke": "revoke a key",
    "reset-usage": "reset a key's usage: today's and this minute's counts start over",
}


def register(sub: Any) -> None:
    """Add the `keys`, `create-admin` and `reset-admin-password` commands to the `marquee` parser's subcommands."""
    from movie_admin.services import keys

    parser = sub.add_parser("keys", help="list and manage API keys (suspend, reactivate, revoke, reset usage, plan)")
    commands = parser.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    listing = commands.add_parser("list", help="list keys, newest first (masked: last four characters only)")
    listing.add_argument("--owner", help="only the keys of this owner (email)")
    listing.add_argument("--plan", help="only keys on this plan")
    listing.add_argument("--status", choices=keys.STATUSES, help="only keys with this status")
    listing.add_argument("--never-used", action="store_true", help="only keys that never made a request")
    listing.add_argument("--search", help="owner email or name (substring), last four characters, or key id")
    listing.add_argument(
        "--sort", default="created.desc", choices=keys.SORTS, help="order of the list (default created.desc: newest)"
    )
    listing.add_argument("--page", type=arguments.int_at_least(1), default=1, help="page number (default 1)")
    listing.add_argument(
        "--per-page", type=arguments.int_between(1, 1000), default=50, help="keys a page, 1 to 1000 (default 50)"
    )
    listing.add_argument("--json", action="store_true", help="one JSON object per key instead of a table")
    listing.set_defaults(func=cmd_keys_list)
    for action in KEY_ACTIONS:
        command = commands.add_parser(action, help=f"{KEY_ACTION_HELP[action]} (by id or by the key itself)")
        command.add_argument("key", help="the key's id (see `marquee keys list`) or the API key")
        command.set_defaults(func=cmd_key_action, action=action)
    set_plan = commands.add_parser("set-plan", help="move a key to another plan (effective on its next request)")
    set_plan.add_argument("key", help="the key's id or the API key")
    set_plan.add_argument("plan", help="free, pro, unlimited or another plan id")
    set_plan.set_defaults(func=cmd_key_action, action="set-plan")

    admin = sub.add_parser("create-admin", help="create an admin account for the admin portal")
    admin.add_argument("--email", required=True, help="the new admin's email address (how they sign in)")
    admin.add_argument(
        "--password",
        help="at least 12 characters; omitted: one is generated and printed once",
    )
    admin.set_defaults(func=cmd_create_admin)

    reset = sub.add_parser(
        "reset-admin-password",
        help="give an admin a new password, lift a lockout and end the admin's sessions",
    )
    reset.add_argument("--email", required=True, help="the email address of the admin whose password is reset")
    reset.add_argument("--password", help="at least 12 characters; omitted: one is generated and printed once")
    reset.set_defaults(func=cmd_reset_admin_password)


def _run(work: Callable[[Any], int]) -> int:
    """Open the database (embedded or DATABASE_URL), migrate, and run `work`; a user's mistake is one line on
    stderr and exit status 1, never a traceback."""
    from movie_common.migrations import migrate

    try:
        db = stack.open_database()
        stack.configure_environment(db.url)
        with stack.connect_admin(db.url) as conn:
            migrate(conn)
            return work(conn)
    except MarqueeError as error:
        print(f"marquee: {error.detail}", file=sys.stderr)
        return 1


def cmd_keys_list(args: argparse.Namespace) -> int:
    from movie_admin.services import keys
    from movie_common.db.api_keys import KeyFilters

    def work(conn: Any) -> int:
        page = keys.list_keys(
            conn,
            filters=KeyFilters(
                owner_email=args.owner,
                plan=args.plan,
                status=args.status,
                never_used=True if args.never_used else None,
                search=args.search,
            ),
            sort=args.sort,
            page=max(args.page, 1),
            per_page=min(max(args.per_page, 1), 1000),
        )
        matches = "1 key matches" if page.total_results == 1 else f"{page.total_results} keys match"
        last = max(page.total_pages, 1)
        if page.page > last:
            # `--page 99` printed "page 99 of 1" over an empty table, as if the keys were gone: a page past the
            # last is a mistake, one line and exit status 1, naming the page to ask for.
            pages = "1 page" if last == 1 else f"{last} pages"
            print(f"marquee: there is no page {page.page}: {matches}, on {pages} (the last is --page {last})",
                  file=sys.stderr)  # fmt: skip
            return 1
        if args.json:
            for key in page.results:
                print(json.dumps(_key_json(key), ensure_ascii=False))
            return 0
        rows = [
            (str(k.id), "…" + k.last4, k.owner_email, k.plan, _status(k), str(k.usage_today), str(k.total_count),
             _when(k.last_used_at), _when(k.created_at))
            for k in page.results
        ]  # fmt: skip
        header = ("ID", "KEY", "OWNER", "PLAN", "STATUS", "TODAY", "TOTAL", "LAST USED", "CREATED")
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
        for row in (header, *rows):
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        print(f"page {page.page} of {last}; {matches}", file=sys.stderr)
        return 0

    return _run(work)


def cmd_key_action(args: argparse.Namespace) -> int:
    from movie_admin.audit import Actor
    from movie_admin.services import keys

    def work(conn: Any) -> int:
        actor = Actor.cli()
        key_id = keys.resolve_key(conn, args.key)
        if args.action == "suspend":
            key = keys.suspend_key(conn, actor, key_id=key_id)
        elif args.action == "reactivate":
            key = keys.reactivate_key(conn, actor, key_id=key_id)
        elif args.action == "revoke":
            key = keys.revoke_key(conn, actor, key_id=key_id)
        elif args.action == "reset-usage":
            key = keys.reset_usage(conn, actor, key_id=key_id)
        else:
            key = keys.set_plan(conn, actor, key_id=key_id, plan=args.plan)
        print(
            f"key {key.id} (…{key.last4}, {key.owner_email}): {_status(key)}, plan {key.plan}, "
            f"{key.usage_today} requests today"
        )
        return 0

    return _run(work)


def cmd_create_admin(args: argparse.Namespace) -> int:
    from movie_admin.audit import Actor
    from movie_admin.services import admins

    def work(conn: Any) -> int:
        created = admins.create_admin(conn, Actor.cli(), email=args.email, password=args.password)
        print(f"admin {created.admin.email} created (id {created.admin.id})")
        _show_once(created.generated_password)
        return 0

    return _run(work)


def cmd_reset_admin_password(args: argparse.Namespace) -> int:
    from movie_admin.audit import Actor
    from movie_admin.services import admins

    def work(conn: Any) -> int:
        reset = admins.reset_password(conn, Actor.cli(), email=args.email, password=args.password)
        print(f"admin {reset.admin.email} (id {reset.admin.id}): new password set, lockout lifted, sessions ended")
        _show_once(reset.generated_password)
        return 0

    return _run(work)


def _show_once(generated: str | None) -> None:
    if generated:
        print("password (shown once; only its bcrypt hash is stored):")
        print(generated)


def _status(key: Any) -> str:
    """The key's own status, and why it is refused when that is not its status (owner suspended, expired)."""
    if key.refusal is not None and key.refusal != f"key_{key.status}":
        return f"{key.status} ({key.refusal.replace('_', ' ')})"
    return str(key.status)


def _when(moment: Any) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def _key_json(key: Any) -> dict[str, Any]:
    from movie_admin.audit import snapshot

    return snapshot(key)
