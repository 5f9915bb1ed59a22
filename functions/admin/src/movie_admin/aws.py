"""The admin function's AWS clients, one per execution environment (boto3 is imported here only, on first use):
S3 for the portal's uploads and error reports, EventBridge for on-demand syncs. On one machine the same clients
talk to `marquee run`'s stand-ins (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_EVENTBRIDGE)."""

from __future__ import annotations

import functools
from typing import Any

from movie_admin.settings import admin_settings
from movie_common.errors import SyncRequestFailedError, UploadsUnavailableError
from movie_common.ingest_uploads import PresignedUpload, S3UploadPresigner


@functools.cache
def s3_client() -> Any:
    """boto3's S3 client with SigV4 signing (presigned URLs must be SigV4 in the newer regions)."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(signature_version="s3v4"))


@functools.cache
def events_client() -> Any:
    import boto3

    return boto3.client("events")


class UploadsBucket:
    """The uploads bucket as the CSV upload screen uses it: presigned POSTs under incoming/ and presigned GETs of
    reports/ (S3UploadPresigner), with missing credentials turned into a 503 `uploads_unavailable` problem."""

    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self.bucket = bucket
        self._client = client  # None: this environment's S3 client, made on first use

    @property
    def _signer(self) -> S3UploadPresigner:
        return S3UploadPresigner(self.bucket, self._client or s3_client())

    def presign(self, *, key: str, metadata: dict[str, str], max_bytes: int, expires_in: int) -> PresignedUpload:
        from botocore.exceptions import BotoCoreError

        try:
            return self._signer.presign(key=key, metadata=metadata, max_bytes=max_bytes, expires_in=expires_in)
        except BotoCoreError as error:  # no credentials, a malformed endpoint: configuration, not the admin's input
            raise UploadsUnavailableError(f"Uploads cannot be signed: {error}.") from None

    def download_url(self, *, key: str, file_name: str, expires_in: int) -> str:
        from botocore.exceptions import BotoCoreError

        try:
            return self._signer.download_url(key=key, file_name=file_name, expires_in=expires_in)
        except BotoCoreError as error:
            raise UploadsUnavailableError(f"The report link cannot be signed: {error}.") from None


def uploads_bucket() -> UploadsBucket:
    """The configured uploads bucket (UPLOADS_BUCKET) through this environment's S3 client."""
    return UploadsBucket(admin_settings().uploads_bucket)


class EventBridgePublisher:
    """Puts one event on an EventBridge bus (PutEvents) and returns its event id. SyncRequestFailedError when the
    call fails or EventBridge refuses the entry (the entry's error code and message are in the detail)."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client  # None: this environment's events client, made on the first put

    def put(self, entry: dict[str, Any]) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            client = self._client or events_client()
            answer = client.put_events(Entries=[entry])
        except (BotoCoreError, ClientError) as error:
            raise SyncRequestFailedError(f"EventBridge could not be reached: {error}. Nothing was requested.") from None
        [result] = answer.get("Entries") or [{}]
        if answer.get("FailedEntryCount") or "EventId" not in result:
            reason = f"{result.get('ErrorCode', 'unknown error')}: {result.get('ErrorMessage', '')}".rstrip(": ")
            raise SyncRequestFailedError(f"EventBridge refused the sync request ({reason}). Nothing was requested.")
        return str(result["EventId"])


def sync_publisher() -> EventBridgePublisher:
    return EventBridgePublisher()
