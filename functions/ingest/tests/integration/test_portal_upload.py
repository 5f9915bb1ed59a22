"""The admin portal's upload, end to end without FastAPI: a queued job and a presigned POST, the browser's upload to
S3 (moto's server on loopback), the ObjectCreated event to the real handler, then the job pages and the report."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from marquee_local import events
from marquee_local.lambda_context import LocalLambdaContext
from movie_common import ingest_uploads
from movie_common.errors import NotFoundError, RequestValidationError
from movie_common.ingest_uploads import S3UploadPresigner

BUCKET = "marquee-uploads-portal"
FILE = "title,year,genre\nPortal Film One,2001,Drama\nPortal Film Two,PG,Drama\nPortal Film Three,2003,\n"


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A client of moto's S3 server; the handler's own boto3 client goes there too (AWS_ENDPOINT_URL_S3)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": s3_server,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("UPLOADS_LOCAL_ROOT", raising=False)
    _fresh_clients()
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield client
    _fresh_clients()


def _event_for(s3: Any, key: str) -> dict[str, Any]:
    """The ObjectCreated event S3 sends for `key` as it stands in the bucket (the event toolkit encodes the key)."""
    head = s3.head_object(Bucket=BUCKET, Key=key)
    return events.s3_object_created_event(
        BUCKET, key, size=head["ContentLength"], etag=head["ETag"].strip('"'), version_id=head.get("VersionId")
    )


@pytest.mark.slow
def test_an_admin_upload_runs_its_queued_job(conn: Any, s3: Any) -> None:
    from movie_ingest.handler import handler

    ticket = ingest_uploads.create_upload(
        conn,
        S3UploadPresigner(BUCKET, s3),
        mode="validate",
        file_name="C:\\Users\\me\\Mes Films été.csv",
        requested_by="admin@example.com",
    )
    assert ticket.key.startswith("incoming/validate/") and ticket.key.endswith("-Mes Films été.csv")
    assert (ticket.job.status, ticket.job.origin, ticket.job.object_key) == ("queued", "upload", ticket.key)
    upload = ticket.as_dict()["upload"]
    assert upload["method"] == "POST" and upload["fields"]["x-amz-meta-requested-by"] == "admin@example.com"

    # The signed policy binds the key, the metadata and a size range, so S3 refuses any other key, mode or size
    # (moto does not enforce presigned POST policies, so the policy itself is what is checked here).
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    conditions = policy["conditions"]
    assert {"key": ticket.key} in conditions and {"bucket": BUCKET} in conditions
    assert {"x-amz-meta-mode": "validate"} in conditions and {"x-amz-meta-keep-tmdb": "true"} in conditions
    assert ["content-length-range", 1, ingest_uploads.MAX_UPLOAD_BYTES] in conditions
    sent = httpx.post(upload["url"], data=upload["fields"], files={"file": ("Mes Films été.csv", FILE.encode())})
    assert sent.status_code == 204, sent.text

    [job] = handler(_event_for(s3, ticket.key), LocalLambdaContext(function_name="IngestFunction"))["jobs"]
    assert (job["id"], job["ran"], job["status"], job["mode"], job["requested_by"]) == (
        ticket.job.id,
        True,
        "done",
        "validate",
        "admin@example.com",
    )
    assert (job["rows"], job["valid"], job["invalid"], job["inserted"]) == (3, 2, 1, 2)

    page = ingest_uploads.list_jobs(conn, page=1, per_page=5).as_dict()
    assert page["results"][0]["id"] == ticket.job.id and page["total_results"] >= 1
    detail = ingest_uploads.job_with_errors(conn, job_id=ticket.job.id, errors_per_page=10)
    assert [(e["line"], e["column"], e["value"]) for e in detail["errors"]] == [(3, "year", "PG")]
    assert detail["errors_page"] == {"page": 1, "per_page": 10, "total_pages": 1}
    report = io.StringIO()
    assert ingest_uploads.write_report(conn, job_id=ticket.job.id, out=report) == 1
    stored = s3.get_object(Bucket=BUCKET, Key=job["report_key"])["Body"].read().decode("utf-8-sig")
    assert stored.splitlines() == report.getvalue().splitlines()


@pytest.mark.slow
def test_bad_upload_requests_name_the_parameter(conn: Any, s3: Any) -> None:
    with pytest.raises(RequestValidationError) as raised:
        ingest_uploads.create_upload(
            conn, S3UploadPresigner(BUCKET, s3), mode="merge", file_name="movies.xlsx", requested_by="a@example.com"
        )
    assert [(e.name, e.location) for e in raised.value.errors] == [("mode", "body"), ("file_name", "body")]
    with pytest.raises(NotFoundError):
        ingest_uploads.job_with_errors(conn, job_id=987654321)


def _fresh_clients() -> None:
    """The handler's settings, store and boto3 client are made once per process; made again for this S3."""
    from movie_ingest import handler, storage
    from movie_ingest.settings import ingest_settings

    for cached in (ingest_settings, handler.object_store, storage._s3_client):
        cached.cache_clear()


@pytest.mark.slow
def test_the_upload_form_posted_twice_makes_one_job_and_a_refused_one(conn: Any, s3: Any) -> None:
    """The browser's form (a presigned POST valid 15 minutes) sent again with another file: the second object under
    the granted key is refused (a failed job that read nothing), the first job stands; the first file sent once
    more (the same ETag) is that first job again."""
    from movie_ingest.handler import handler

    def ingest() -> dict[str, Any]:
        [job] = handler(_event_for(s3, ticket.key), LocalLambdaContext(function_name="IngestFunction"))["jobs"]
        return dict(job)

    ticket = ingest_uploads.create_upload(
        conn, S3UploadPresigner(BUCKET, s3), mode="upsert", file_name="once.csv", requested_by="admin@example.com"
    )
    form = ticket.as_dict()["upload"]
    assert httpx.post(form["url"], data=form["fields"], files={"file": ("once.csv", FILE.encode())}).status_code == 204
    first = ingest()
    assert (first["id"], first["ran"], first["status"], first["inserted"]) == (ticket.job.id, True, "done", 2)

    other = b"title,year\nPosted Twice Film,2020\n"
    assert httpx.post(form["url"], data=form["fields"], files={"file": ("other.csv", other)}).status_code == 204
    second = ingest()
    assert (second["ran"], second["status"], second["error"]["code"]) == (False, "failed", "upload_already_used")
    assert second["id"] != ticket.job.id and second["requested_by"] == "admin@example.com"
    assert conn.execute("SELECT 1 FROM movies WHERE title = 'Posted Twice Film'").fetchone() is None

    assert httpx.post(form["url"], data=form["fields"], files={"file": ("once.csv", FILE.encode())}).status_code == 204
    third = ingest()
    assert (third["id"], third["ran"], third["status"]) == (ticket.job.id, False, "done")
    listed = ingest_uploads.list_jobs(conn, per_page=100, status="failed").jobs
    assert [job.id for job in listed if job.object_key == ticket.key] == [second["id"]]
