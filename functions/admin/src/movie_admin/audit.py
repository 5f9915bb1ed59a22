"""Who did an admin action, and its audit entry: written by every admin service inside the action's transaction."""

from __future__ import annotations

import dataclasses
import getpass
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from movie_common.database import Connection
from movie_common.db import admin_audit_log
from movie_common.timestamps import rfc3339

# Names an audit snapshot may never carry (the table's CHECK refuses them too): keys, their hashes, tokens, passwords.
SECRET_FIELDS = frozenset({"key", "raw_key", "api_key", "hashed_password", "password", "token", "access_token"})


@dataclass(frozen=True)
class Actor:
    """Who performs an admin action: a signed-in admin through the admin API, or the operator at the CLI.

    `name` is what the audit log shows (the admin's email, or `cli:<os user>`); `request_id` ties the entry to the
    API request (None at the CLI).
    """

    admin_id: int | None
    name: str
    source: Literal["api", "cli"]
    request_id: str | None = None

    @classmethod
    def cli(cls) -> Actor:
        """The operator running `marquee` on this machine."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (some containers)
            user = "unknown"
        return cls(admin_id=None, name=f"cli:{user}", source="cli")


def _plain(value: Any) -> Any:
    """JSON-ready: dates and times as ISO 8601, decimals as numbers, lists and dicts recursively."""
    if isinstance(value, datetime):
        return rfc3339(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def snapshot(record: Any, *, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A dataclass as an audit snapshot (JSON-ready), limited to `fields` if given; secret names are refused."""
    data = dataclasses.asdict(record)
    if fields is not None:
        data = {name: data[name] for name in fields}
    leaked = SECRET_FIELDS.intersection(data)
    if leaked:
        raise ValueError(f"an audit snapshot may not hold {sorted(leaked)}")
    return {k: _plain(v) for k, v in data.items()}


def record(
    conn: Connection,
    actor: Actor,
    *,
    action: str,
    target_type: str,
    target_id: int | str | None,
    developer_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> int:
    """Write the audit entry of one action; call it inside the action's `conn.transaction()` so that both are
    committed together or not at all. `action` is `<target type>.<verb>` (e.g. `api_key.suspend`)."""
    for name, snap in (("before", before), ("after", after)):
        if snap is not None and SECRET_FIELDS.intersection(snap):
            raise ValueError(f"the audit {name} snapshot may not hold {sorted(SECRET_FIELDS.intersection(snap))}")
    return admin_audit_log.insert_entry(
        conn,
        admin_id=actor.admin_id,
        actor=actor.name,
        source=actor.source,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        developer_id=developer_id,
        before=before,
        after=after,
        request_id=actor.request_id,
    )
