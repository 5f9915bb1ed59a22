"""Lambda entry point of IngestFunction: S3 ObjectCreated events from the uploads bucket -> one ingest job per
object version (a plain handler: Powertools, movie_common and boto3, never FastAPI)."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event

from movie_common.database import get_connection
from movie_ingest import services, storage
from movie_ingest.settings import LOCAL_BUCKET, ingest_settings

logger = Logger(service="marquee-ingest")
ingest_settings()  # fails at cold start when configuration is missing, not on the first upload


@functools.cache
def object_store() -> storage.ObjectStore:
    """The uploads bucket (S3), or on one machine the folder standing in for it (UPLOADS_LOCAL_ROOT)."""
    root = ingest_settings().uploads_local_root
    return storage.LocalFolderStore(root) if root else storage.S3Store()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Ingest every object the event names; returns {"jobs": [{id, key, status, ran, counts...}]}.

    Keys arrive URL-encoded (a space as `+`, a plus as `%2B`) and are decoded per record. A file that cannot be
    ingested ends its job as failed (recorded, not raised); only an unreachable database, or a claim that waited past
    lock_timeout on a concurrent delivery (LockTimeoutError) or lost to it (TransactionConflictError), raises, so
    that Lambda's retry delivers the event again, and the job's idempotence keeps that safe.
    """
    s3_event = S3Event(event)
    settings = ingest_settings()
    store = object_store()
    conn = get_connection()
    summaries = []
    for record in s3_event.records:
        obj = record.s3.get_object
        bucket, key = record.s3.bucket.name, unquote_plus(obj.key)
        logger.append_keys(bucket=bucket, key=key)
        outcome = services.ingest_object(
            conn,
            store,
            bucket=bucket,
            key=key,
            version_id=obj.version_id,
            etag=obj.etag or None,
            size=obj.size,
            default_origin="drop_folder" if bucket == LOCAL_BUCKET else "s3",
            settings=settings,
        )
        if outcome is None:
            logger.warning("object gone before it was read; nothing to do")
            continue
        summary = {name: value for name, value in outcome.job.as_dict().items() if name != "errors"}
        summary["ran"] = outcome.ran
        if outcome.ran:
            logger.info("ingest job finished", extra={"job": summary})
        else:  # every start of the local stack re-announces the drop folder's files: one short line each
            brief = {name: summary[name] for name in ("id", "status", "key", "version")}
            logger.info("object already processed", extra={"job": brief})
        summaries.append(summary)
    return {"jobs": summaries}
