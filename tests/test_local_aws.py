"""`marquee run`'s S3 and EventBridge stand-ins (marquee_local.local_aws) on loopback, called by boto3 as the admin
function calls them: a presigned POST lands in the drop folder with its metadata, a presigned GET downloads a report,
PutEvents is routed by the template's rules; and every request signed wrongly, for another key, or too late is
refused as AWS refuses it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from marquee_local import stack
from marquee_local.local_aws import LocalAwsApp
from marquee_local.local_eventbridge import LocalEventBridge, template_rules
from marquee_local.local_s3 import LocalS3
from marquee_local.server import ServerThread
from marquee_local.sigv4 import LocalCredentials, SignatureError, verify_post
from movie_common import sync_requests
from movie_common.ingest_uploads import LOCAL_BUCKET, S3UploadPresigner

# The one-machine stack's own tooling (the local S3 and EventBridge stand-ins): the full run's tier, not the
# inner loop's.
pytestmark = pytest.mark.slow

PORTAL = "http://127.0.0.1:8089"
FILE = b"title,year\nLocal Film,2001\n"


class Stand:
    def __init__(self, url: str, root: Path, credentials: LocalCredentials, delivered: list[tuple[str, Any]]) -> None:
        self.url, self.root, self.credentials, self.delivered = url, root, credentials, delivered

    def client(self, service: str, credentials: LocalCredentials | None = None) -> Any:
        creds = credentials or self.credentials
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key,
            config=Config(signature_version="s3v4", retries={"max_attempts": 1}),
        )

    def presigned_post(self, credentials: LocalCredentials | None = None, *, expires_in: int = 900) -> Any:
        signer = S3UploadPresigner(LOCAL_BUCKET, self.client("s3", credentials))
        return signer.presign(
            key="incoming/upsert/job-1-movies.csv",
            metadata={"job-id": "1", "mode": "upsert"},
            max_bytes=1024,
            expires_in=expires_in,
        )


@pytest.fixture
def stand(tmp_path: Path) -> Iterator[Stand]:
    credentials = LocalCredentials.generate()
    delivered: list[tuple[str, Any]] = []
    s3 = LocalS3(tmp_path, bucket=LOCAL_BUCKET, credentials=credentials, cors_origin=PORTAL, report=lambda _: None)
    rules = template_rules(stack.local_template())
    eventbridge = LocalEventBridge(
        rules, lambda fn, event: delivered.append((fn, event)), credentials=credentials, report=lambda _: None
    )
    with ServerThread("127.0.0.1", 0, name="aws-test") as server:
        server.start(LocalAwsApp(s3, eventbridge), lifespan="off")
        yield Stand(server.url, tmp_path, credentials, delivered)


def _post(upload: Any, content: bytes = FILE, **changes: str) -> httpx.Response:
    fields = {**upload.fields, **changes}
    return httpx.post(upload.url, data=fields, files={"file": ("movies.csv", content)}, headers={"Origin": PORTAL})


def test_a_presigned_post_lands_in_the_drop_folder_with_its_metadata(stand: Stand) -> None:
    upload = stand.presigned_post()
    assert upload.url == f"{stand.url}/{LOCAL_BUCKET}"  # path-style: the stand-in is the endpoint boto3 was given
    sent = _post(upload)
    assert sent.status_code == 204, sent.text
    assert sent.headers["access-control-allow-origin"] == PORTAL and sent.headers["etag"].strip('"')
    landed = stand.root / "incoming/upsert/job-1-movies.csv"
    assert landed.read_bytes() == FILE
    sidecar = json.loads((landed.parent / ".job-1-movies.csv.metadata.json").read_text())
    assert sidecar == {"job-id": "1", "mode": "upsert"}
    assert not list(landed.parent.glob("*.part"))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"x-amz-signature": "0" * 64}, "SignatureDoesNotMatch"),  # a forged signature
        ({"key": "incoming/replace/job-1-movies.csv"}, "AccessDenied"),  # another key than the one signed
        ({"x-amz-meta-mode": "replace"}, "AccessDenied"),  # another mode than the one signed
        ({"x-amz-meta-extra": "1"}, "AccessDenied"),  # a field the policy does not cover
    ],
)
def test_a_tampered_post_is_refused_and_nothing_lands(stand: Stand, change: dict[str, str], code: str) -> None:
    sent = _post(stand.presigned_post(), **change)
    assert sent.status_code == 403, sent.text
    assert f"<Code>{code}</Code>" in sent.text
    assert not (stand.root / "incoming").exists()


def test_a_post_signed_with_other_credentials_is_refused(stand: Stand) -> None:
    sent = _post(stand.presigned_post(LocalCredentials.generate()))
    assert sent.status_code == 403 and "<Code>InvalidAccessKeyId</Code>" in sent.text
    assert not (stand.root / "incoming").exists()


def test_an_expired_policy_and_a_file_too_large_are_refused(stand: Stand) -> None:
    upload = stand.presigned_post()
    later = datetime.now(UTC) + timedelta(seconds=901)
    with pytest.raises(SignatureError) as expired:
        verify_post(
            upload.fields, bucket=LOCAL_BUCKET, file_name="m.csv", size=10, credentials=stand.credentials, now=later
        )
    assert (expired.value.code, expired.value.message) == (
        "AccessDenied",
        "Invalid according to Policy: Policy expired.",
    )
    too_large = _post(upload, b"x" * 1025)
    assert too_large.status_code == 400 and "<Code>EntityTooLarge</Code>" in too_large.text
    assert not (stand.root / "incoming").exists()


def test_cors_preflight_answers_the_portal_only(stand: Stand) -> None:
    asked = {"Access-Control-Request-Method": "POST"}
    ok = httpx.options(f"{stand.url}/{LOCAL_BUCKET}", headers={"Origin": PORTAL, **asked})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == PORTAL
    other = httpx.options(f"{stand.url}/{LOCAL_BUCKET}", headers={"Origin": "https://evil.example", **asked})
    assert other.status_code == 403 and "access-control-allow-origin" not in other.headers


def test_a_presigned_get_downloads_a_report_and_a_tampered_or_unsigned_one_is_refused(stand: Stand) -> None:
    report = stand.root / "reports" / "job 1 errors.csv"
    report.parent.mkdir(parents=True)
    report.write_text("line,column,value,reason,code\n3,year,PG,not a year,invalid_year\n", encoding="utf-8")
    signer = S3UploadPresigner(LOCAL_BUCKET, stand.client("s3"))
    url = signer.download_url(key="reports/job 1 errors.csv", file_name="job-1-errors.csv", expires_in=60)
    got = httpx.get(url)
    assert got.status_code == 200, got.text
    assert got.text.splitlines()[1] == "3,year,PG,not a year,invalid_year"
    assert got.headers["content-disposition"] == 'attachment; filename="job-1-errors.csv"'
    assert got.headers["content-type"].startswith("text/csv")

    tampered = httpx.get(url.replace("reports/job%201", "reports/job%202"))
    assert tampered.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in tampered.text
    unsigned = httpx.get(f"{stand.url}/{LOCAL_BUCKET}/reports/job%201%20errors.csv")
    assert unsigned.status_code == 403 and "<Code>AccessDenied</Code>" in unsigned.text
    outside = signer.download_url(key="../../etc/passwd", file_name="x", expires_in=60)
    assert httpx.get(outside).status_code in (403, 404)


def test_put_events_runs_the_template_rules_target(stand: Stand) -> None:
    events = stand.client("events")
    answer = events.put_events(Entries=[sync_requests.sync_requested_entry(requested_by="ops@marquee.test")])
    assert answer["FailedEntryCount"] == 0
    event_id = answer["Entries"][0]["EventId"]
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while not stand.delivered and datetime.now(UTC) < deadline:  # delivered on a thread, as EventBridge is async
        time.sleep(0.01)
    [(function, event)] = stand.delivered
    assert function == "SyncFunction"
    assert (event["id"], event["source"], event["detail-type"]) == (event_id, "marquee.admin", "Sync Requested")
    assert event["detail"] == {"requested_by": "ops@marquee.test"}

    other = events.put_events(Entries=[{"Source": "marquee.other", "DetailType": "Sync Requested", "Detail": "{}"}])
    assert other["FailedEntryCount"] == 0 and len(stand.delivered) == 1  # no rule matches: nobody is invoked
    refused = events.put_events(Entries=[{"Source": "marquee.admin", "DetailType": "X", "Detail": "[1]"}])
    assert refused["Entries"][0]["ErrorCode"] == "MalformedDetail"


def test_put_events_with_a_wrong_secret_is_refused(stand: Stand) -> None:
    from botocore.exceptions import ClientError

    wrong = LocalCredentials(stand.credentials.access_key_id, "not-the-secret")
    with pytest.raises(ClientError) as refused:
        stand.client("events", wrong).put_events(Entries=[sync_requests.sync_requested_entry(requested_by="x")])
    assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert stand.delivered == []


def test_one_uploads_folder_for_the_watcher_the_s3_stand_in_and_the_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IngestFunction reads UPLOADS_LOCAL_ROOT; the drop-folder watcher and the S3 stand-in used $MARQUEE_HOME/uploads
    whatever it said, so with it set a portal upload landed where the ingest did not look."""
    from marquee_local import dropfolder, stack

    monkeypatch.setenv("UPLOADS_LOCAL_ROOT", str(tmp_path / "elsewhere"))
    assert dropfolder.configure(tmp_path / "home") == (tmp_path / "elsewhere").resolve()
    assert (tmp_path / "elsewhere" / "incoming").is_dir()
    monkeypatch.delenv("UPLOADS_LOCAL_ROOT")
    assert stack.uploads_root(tmp_path / "home") == tmp_path / "home" / "uploads"
