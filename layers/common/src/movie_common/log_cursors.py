"""Keyset cursors over a request log (usage_logs), shared by the admin's request log and the developer's own:
a page continues strictly after the (timestamp, id) of the previous page's last row, so rows logged meanwhile
never shift it (as an OFFSET would)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from movie_common.errors import InvalidParameter, RequestValidationError


def encode_cursor(timestamp: datetime, row_id: int) -> str:
    """An opaque cursor for the row at (timestamp, id): URL-safe base64 of `<ISO time>|<id>`."""
    return base64.urlsafe_b64encode(f"{timestamp.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (timestamp, id) inside a cursor; RequestValidationError (`cursor`, query) when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, row_id = text.partition("|")
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            raise ValueError("naive time")
        number = int(row_id)
        if not 0 < number < 2**63:  # a bigint id, or PostgreSQL would refuse the comparison
            raise ValueError("not a row id")
        return moment, number
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise RequestValidationError(
            "The cursor is not valid; use the next_cursor of a previous page.",
            [InvalidParameter("cursor", "query", "not a cursor returned by this API")],
        ) from None
