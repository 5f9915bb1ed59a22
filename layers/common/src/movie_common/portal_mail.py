"""The developer portal's "resend confirmation" and "forgot password" emails as EventBridge events: what the auth
function's routes put on the bus (PutEvents), what the template's PortalMailRequested rule matches, and what the
same function receives back, asynchronously, to look the address up, issue the link and send the mail.

The request path does the same thing for every address (one PutEvents entry with the canonical address), so its
work and its time cannot tell an address with an account from one without: the lookup, the token's write and the
mail send all happen after the answer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

SOURCE = "marquee.auth"
DETAIL_TYPE = "Portal Mail Requested"

Purpose = Literal["verification", "password_reset"]
PURPOSES: tuple[Purpose, ...] = get_args(Purpose)


@dataclass(frozen=True)
class MailRequest:
    purpose: Purpose
    address: str  # the canonical mailbox (movie_common.email_rules), or the lower-cased address when it has none


def mail_requested_entry(request: MailRequest, *, event_bus: str = "default") -> dict[str, Any]:
    """One PutEvents entry (boto3 `events.put_events(Entries=[...])`) asking for the portal's email."""
    return {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps({"purpose": request.purpose, "address": request.address}),
        "EventBusName": event_bus,
    }


def read_mail_request(event: Mapping[str, Any]) -> MailRequest | None:
    """The request of a "Portal Mail Requested" event as a rule target receives it; None for any other event or a
    malformed detail."""
    if event.get("source") != SOURCE or event.get("detail-type") != DETAIL_TYPE:
        return None
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        return None
    purpose, address = detail.get("purpose"), detail.get("address")
    if purpose not in PURPOSES or not isinstance(address, str) or not address:
        return None
    return MailRequest(purpose=purpose, address=address)


def is_portal_mail_event(event: Any) -> bool:
    """Whether a Lambda event is one of these (and not an API Gateway proxy event)."""
    return isinstance(event, Mapping) and event.get("source") == SOURCE and event.get("detail-type") == DETAIL_TYPE
