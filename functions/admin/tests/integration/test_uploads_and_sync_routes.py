"""The admin routes for CSV uploads and the TMDB sync through AdminFunction's real handler, on the real PostgreSQL,
with boto3 against moto's S3 and EventBridge server on loopback (AWS_ENDPOINT_URL_S3 / _EVENTBRIDGE, as the
one-machine stack points them at its stand-ins): an upload signed, sent, ingested by IngestFunction's real handler,
then its job, its reported rows and its report; a sync requested (202, audited), refused without a token (409),
while a run is running (409), and when EventBridge refuses it (503, nothing audited)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from marquee_local import events
from marquee_local.lambda_context import LocalLambdaContext
from movie_common.db import sync_runs

BUCKET = "marquee-uploads-admin"
FILE = b"title,year,genre\nAdmin Upload One,2001,Drama\nAdmin Upload Two,PG,Drama\nAdmin Upload Three,2003,\n"


@pytest.fixture(scope="module")
def aws_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _fresh_clients() -> None:
    """Settings and boto3 clients are made once per execution environment; made again for this test's AWS."""
    from movie_admin import aws
    from movie_admin.settings import admin_settings
    from movie_ingest import handler, storage
    from movie_ingest.settings import ingest_settings

    for cached in (admin_settings, aws.s3_client, aws.events_client, ingest_settings, handler.object_store):
        cached.cache_clear()
    storage._s3_client.cache_clear()


@pytest.fixture
def aws(aws_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's S3 (with the uploads bucket) and EventBridge; the admin and ingest functions' boto3 clients go there."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": aws_server,
        "AWS_ENDPOINT_URL_EVENTBRIDGE": aws_server,
        "UPLOADS_BUCKET": BUCKET,
        "TMDB_SYNC_ENABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("UPLOADS_LOCAL_ROOT", raising=False)
    monkeypatch.delenv("SYNC_EVENT_BUS", raising=False)
    _fresh_clients()
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    yield s3
    monkeypatch.undo()
    _fresh_clients()


def _ingest(s3: Any, key: str) -> dict[str, Any]:
    """IngestFunction's real handler with the ObjectCreated event S3 sends for `key`."""
    from movie_ingest.handler import handler

    head = s3.head_object(Bucket=BUCKET, Key=key)
    event = events.s3_object_created_event(
        BUCKET, key, size=head["ContentLength"], etag=head["ETag"].strip('"'), version_id=head.get("VersionId")
    )
    result: dict[str, Any] = handler(event, LocalLambdaContext(function_name="IngestFunction"))
    return result


def _audited(conn: Any, action: str) -> list[dict[str, Any]]:
    query = "SELECT actor, target_id, after FROM admin_audit_log WHERE action = %s ORDER BY id"
    return [dict(row) for row in conn.execute(query, (action,)).fetchall()]


@pytest.mark.slow
def test_a_jobs_reading_options_are_in_its_answer(
    conn: Any, aws: Any, admin_token: str, admin_api: Callable[..., Any]
) -> None:
    """The delimiter and encoding an upload's metadata asked for are part of the job (its identity: the same object
    with other options is another job); the admin's job view did not say them, so two jobs of one file looked alike."""
    semicolons = "title;year;genre\nReading Options Film;2001;Drama\n".encode("cp1252")
    aws.put_object(
        Bucket=BUCKET,
        Key="incoming/options.csv",
        Body=semicolons,
        Metadata={"delimiter": ";", "encoding": "windows-1252"},
    )
    [asked] = _ingest(aws, "incoming/options.csv")["jobs"]
    aws.put_object(Bucket=BUCKET, Key="incoming/plain.csv", Body=b"title,year\nReading Options Plain,2002\n")
    [plain] = _ingest(aws, "incoming/plain.csv")["jobs"]
    assert (asked["status"], plain["status"]) == ("done", "done")

    job = admin_api("GET", f"/admin/ingest/jobs/{asked['id']}", token=admin_token)
    assert job.status == 200
    assert (job.json["read_options"], job.json["delimiter"], job.json["encoding"]) == (
        "delimiter=semicolon encoding=cp1252",
        "semicolon",
        "Windows-1252",
    )
    assert admin_api("GET", f"/admin/ingest/jobs/{plain['id']}", token=admin_token).json["read_options"] == ""
    listed = admin_api("GET", "/admin/ingest/jobs", token=admin_token, query={"per_page": "100"}).json["results"]
    assert {j["id"]: j["read_options"] for j in listed if j["id"] in (asked["id"], plain["id"])} == {
        asked["id"]: "delimiter=semicolon encoding=cp1252",
        plain["id"]: "",
    }
    conn.execute("DELETE FROM movies WHERE title LIKE 'Reading Options%'")


@pytest.mark.slow
def test_an_upload_is_signed_sent_ingested_and_its_job_and_report_are_served(
    conn: Any, aws: Any, admin_token: str, admin_api: Callable[..., Any]
) -> None:
    asked = admin_api("POST", "/admin/ingest/uploads", token=admin_token, body={"file_name": "new films.csv"})
    assert asked.status == 201, asked.body
    ticket = asked.json
    job_id = ticket["job"]["id"]
    assert (ticket["job"]["status"], ticket["job"]["mode"], ticket["job"]["origin"]) == ("queued", "upsert", "upload")
    assert ticket["job"]["requested_by"] == "ops@marquee.test"
    upload = ticket["upload"]
    assert upload["method"] == "POST" and upload["url"].startswith(aws.meta.endpoint_url)
    assert upload["fields"]["key"] == ticket["key"] and ticket["key"].startswith("incoming/")
    assert _audited(conn, "ingest_job.upload")[-1]["target_id"] == str(job_id)

    sent = httpx.post(upload["url"], data=upload["fields"], files={"file": ("new films.csv", FILE)})
    assert sent.status_code == 204, sent.text
    [ran] = _ingest(aws, ticket["key"])["jobs"]
    assert (ran["id"], ran["status"]) == (job_id, "done")

    job = admin_api("GET", f"/admin/ingest/jobs/{job_id}", token=admin_token)
    assert job.status == 200
    counts = {name: job.json[name] for name in ("rows", "valid", "invalid", "inserted", "updated", "error_count")}
    assert counts == {"rows": 3, "valid": 2, "invalid": 1, "inserted": 2, "updated": 0, "error_count": 1}
    assert [(e["line"], e["column"], e["value"]) for e in job.json["errors"]] == [(3, "year", "PG")]
    listed = admin_api("GET", "/admin/ingest/jobs", token=admin_token, query={"per_page": "5"})
    assert listed.json["results"][0]["id"] == job_id

    described = admin_api(
        "GET", f"/admin/ingest/jobs/{job_id}/report", token=admin_token, headers={"Accept": "application/json"}
    )
    assert described.status == 200 and described.json["error_count"] == 1
    report = httpx.get(described.json["download_url"])
    assert report.status_code == 200
    lines = report.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("line,column,value,reason") and lines[1].startswith("3,year,PG,")
    redirected = admin_api(
        "GET", f"/admin/ingest/jobs/{job_id}/report", token=admin_token, headers={"Accept": "text/csv"}
    )  # a browser's navigation: sent on to the file
    assert redirected.status == 303 and redirected.headers["location"].startswith(aws.meta.endpoint_url)
    assert len(_audited(conn, "ingest_job.download_report")) == 2


@pytest.mark.slow
def test_bad_upload_requests_and_missing_jobs_get_problems(
    conn: Any, aws: Any, admin_token: str, admin_api: Callable[..., Any]
) -> None:
    bad = admin_api("POST", "/admin/ingest/uploads", token=admin_token, body={"file_name": "a.xlsx", "mode": "merge"})
    assert bad.status == 422 and {e["name"] for e in bad.json["errors"]} >= {"mode"}
    wrong_type = admin_api("POST", "/admin/ingest/uploads", token=admin_token, body={"file_name": "films.xlsx"})
    assert wrong_type.status == 422 and [e["name"] for e in wrong_type.json["errors"]] == ["file_name"]
    # A workbook chosen instead of its CSV export is named as one, with what to do (the reason was only "must name a
    # .csv, .tsv or .txt file", which left an admin holding an .xlsx to guess that Excel can write one).
    assert wrong_type.json["errors"][0]["reason"] == (
        "films.xlsx is an Excel workbook (.xlsx), not a CSV file; save the sheet as CSV (File > Save As or Download, "
        "CSV UTF-8) and upload that"
    )
    numbers = admin_api("POST", "/admin/ingest/uploads", token=admin_token, body={"file_name": "Films.NUMBERS"})
    assert "a Numbers spreadsheet (.numbers)" in numbers.json["errors"][0]["reason"]
    other = admin_api("POST", "/admin/ingest/uploads", token=admin_token, body={"file_name": "films.pdf"})
    assert other.json["errors"][0]["reason"] == "must name a .csv, .tsv or .txt file (gzip allowed)"
    assert admin_api("GET", "/admin/ingest/jobs/987654321", token=admin_token).json["code"] == "not_found"
    clean = admin_api("POST", "/admin/ingest/uploads", token=admin_token, body={"file_name": "clean.csv"}).json
    no_report = admin_api("GET", f"/admin/ingest/jobs/{clean['job']['id']}/report", token=admin_token)
    assert no_report.status == 404 and no_report.headers["content-type"] == "application/problem+json"
    assert _audited(conn, "ingest_job.download_report") == []


@pytest.mark.slow
def test_a_sync_request_puts_the_event_and_is_audited(
    conn: Any, aws: Any, admin_token: str, admin_api: Callable[..., Any]
) -> None:
    status = admin_api("GET", "/admin/sync", token=admin_token)
    assert status.status == 200 and status.json["configured"] is True and status.json["running"] is None
    asked = admin_api("POST", "/admin/sync/runs", token=admin_token)
    assert asked.status == 202, asked.body
    assert asked.json["event_id"] and asked.json["requested_by"] == "ops@marquee.test"
    [entry] = _audited(conn, "sync_run.request")
    assert entry["after"] == {"source": "marquee.admin", "detail_type": "Sync Requested", "event_bus": "default"}


@pytest.mark.slow
def test_a_sync_request_without_a_token_or_during_a_run_is_409_and_changes_nothing(
    conn: Any, aws: Any, admin_token: str, admin_api: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = sync_runs.start_run(conn, triggered_by="schedule")
    busy = admin_api("POST", "/admin/sync/runs", token=admin_token)
    assert (busy.status, busy.json["code"]) == (409, "sync_running")
    assert f"Sync run {run.id}" in busy.json["detail"]
    shown = admin_api("GET", "/admin/sync", token=admin_token).json["running"]
    assert shown["id"] == run.id and shown["status"] == "running"
    assert admin_api("GET", f"/admin/sync/runs/{run.id}", token=admin_token).json["triggered_by"] == "schedule"
    assert admin_api("GET", "/admin/sync/runs/987654321", token=admin_token).status == 404

    monkeypatch.setenv("TMDB_SYNC_ENABLED", "false")
    _fresh_clients()
    refused = admin_api("POST", "/admin/sync/runs", token=admin_token)
    assert (refused.status, refused.json["code"]) == (409, "sync_not_configured")
    assert "TMDB" in refused.json["detail"] and refused.headers["content-type"] == "application/problem+json"
    assert admin_api("GET", "/admin/sync", token=admin_token).json["configured"] is False
    assert _audited(conn, "sync_run.request") == []


@pytest.mark.slow
def test_a_sync_request_eventbridge_refuses_is_503_and_not_audited(
    conn: Any, aws: Any, admin_token: str, admin_api: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNC_EVENT_BUS", "no-such-bus")
    _fresh_clients()
    failed = admin_api("POST", "/admin/sync/runs", token=admin_token)
    assert (failed.status, failed.json["code"]) == (503, "sync_request_failed"), failed.body
    assert "Nothing was requested" in failed.json["detail"]
    assert _audited(conn, "sync_run.request") == []
