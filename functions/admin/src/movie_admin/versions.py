"""Entity tags for the admin's edits (RFC 9110 `ETag` and `If-Match`): a write conditional on the version an admin
read is refused with 412 `precondition_failed` when someone changed the target meanwhile, instead of silently undoing
their change (a lost update)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from movie_common.errors import PreconditionFailedError


def entity_tag(version: Any) -> str:
    """A strong entity tag (`"<32 hex digits>"`) for `version`: JSON-able values (dates as text) that change whenever
    the target changes in a way its editor would see."""
    text = json.dumps(version, default=str, sort_keys=True, ensure_ascii=True)
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def check_if_match(current: str, if_match: str | None, *, what: str) -> None:
    """RFC 9110's If-Match with the strong comparison: None (no header) or `*` passes; otherwise one of the listed
    tags must be `current`, else PreconditionFailedError naming `what` (weak tags, `W/"..."`, never match)."""
    if if_match is None or if_match.strip() == "*":
        return
    if current in (tag.strip() for tag in if_match.split(",")):
        return
    raise PreconditionFailedError(
        f"{what} changed since you read it (If-Match {if_match.strip()[:80]!r} is not its current version "
        f"{current}); nothing was written. Read it again, then make your change to what it is now."
    )
