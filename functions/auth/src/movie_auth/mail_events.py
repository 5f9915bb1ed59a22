"""The portal's EventBridge client (boto3, imported on first use; the key authorizer never imports this): puts the
"Portal Mail Requested" events of movie_common.portal_mail on the default bus. On one machine the same client talks
to `marquee run`'s EventBridge stand-in (AWS_ENDPOINT_URL_EVENTBRIDGE), which delivers them back to AuthFunction."""

from __future__ import annotations

import functools
import logging
from typing import Any

from movie_common.errors import MailUnavailableError

logger = logging.getLogger("movie_auth")

UNAVAILABLE = "We could not send the email just now. Ask again in a few minutes."


@functools.cache
def events_client() -> Any:
    import boto3

    return boto3.client("events")


class EventBridgePublisher:
    """PutEvents of one entry; MailUnavailableError (503 `mail_unavailable`) when the call fails or the entry is
    refused: nothing was asked for, and the person can ask again."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client  # None: this environment's events client, made on the first put

    def put(self, entry: dict[str, Any]) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            client = self._client or events_client()
            answer = client.put_events(Entries=[entry])
        except (BotoCoreError, ClientError) as error:
            logger.error("PutEvents failed", extra={"error": type(error).__name__})
            raise MailUnavailableError(UNAVAILABLE) from None
        [result] = answer.get("Entries") or [{}]
        if answer.get("FailedEntryCount") or "EventId" not in result:
            logger.error("PutEvents refused the entry", extra={"error": result.get("ErrorCode", "unknown")})
            raise MailUnavailableError(UNAVAILABLE)
        return str(result["EventId"])


@functools.cache
def event_publisher() -> EventBridgePublisher:
    return EventBridgePublisher()
