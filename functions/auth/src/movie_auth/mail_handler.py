"""AuthFunction's handler of "Portal Mail Requested" events (plain, no FastAPI): the asynchronous half of "resend
confirmation" and "forgot password" (movie_auth.accounts.deliver_requested_mail). A failed send raises, so that
Lambda's asynchronous invocation retries the event; the address is never logged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from movie_auth import accounts
from movie_auth.routes.common import portal
from movie_common.database import get_connection
from movie_common.portal_mail import read_mail_request


def mail_handler(logger: Any) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    @logger.inject_lambda_context(clear_state=True)  # type: ignore[untyped-decorator]
    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        request = read_mail_request(event)
        if request is None:
            logger.warning("not a portal mail request", extra={"event_id": event.get("id")})
            return {"status": "ignored"}
        logger.append_keys(event_id=event.get("id"), purpose=request.purpose)
        sent = accounts.deliver_requested_mail(get_connection(), portal(), request)
        logger.info("portal mail request handled", extra={"sent": sent})
        return {"status": "handled"}

    result: Callable[[dict[str, Any], Any], dict[str, Any]] = handle
    return result
