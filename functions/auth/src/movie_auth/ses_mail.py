"""The SES mail backend (boto3): only the auth function's portal app imports it, never the key authorizer."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any


class SesSender:
    """Sends the raw MIME message (both parts, as composed) with SES `SendRawEmail`; the IAM policy of the
    function allows it only for the configured sender identity."""

    def __init__(self, *, region: str | None, configuration_set: str | None = None, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("ses", region_name=region)
        self.client = client
        self.configuration_set = configuration_set

    def send(self, message: EmailMessage) -> str:
        """Returns SES's MessageId; botocore's ClientError propagates (the caller decides what the user sees).
        Recipients come from the message's To header, as SES reads them when no Destinations are given."""
        arguments: dict[str, Any] = {
            "Source": str(message["From"]),
            "RawMessage": {"Data": message.as_bytes()},
        }
        if self.configuration_set:
            arguments["ConfigurationSetName"] = self.configuration_set
        response = self.client.send_raw_email(**arguments)
        return str(response["MessageId"])
