"""An on-demand TMDB sync as an EventBridge event: what the admin function puts on the bus (PutEvents), what the
template's SyncRequested rule matches, and what SyncFunction's handler receives ("Sync Requested")."""

from __future__ import annotations

import json
from typing import Any

SOURCE = "marquee.admin"
DETAIL_TYPE = "Sync Requested"


def sync_requested_entry(*, requested_by: str, event_bus: str = "default") -> dict[str, Any]:
    """One PutEvents entry (boto3 `events.put_events(Entries=[...])`) asking for a sync now; `requested_by` names
    the admin (an email or id) and is kept in the event's detail for the logs."""
    return {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps({"requested_by": requested_by}),
        "EventBusName": event_bus,
    }
