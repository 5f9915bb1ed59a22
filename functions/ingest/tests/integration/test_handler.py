"""IngestFunction's real handler driven by real-shaped S3 ObjectCreated events, with moto standing in for S3."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from marquee_local import events
from marquee_local.lambda_context import LocalLambdaContext

BUCKET = "marquee-uploads"
GOOD = "title,year,genre\nHandler Film One,2001,Drama\nHandler Film Two,2002,Comedy\n"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's S3 with a versioned uploads bucket; the handler's cached client is made inside the mock."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.delenv("UPLOADS_LOCAL_ROOT", raising=False)
    _fresh_clients()
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield client
    _fresh_clients()


Upload = Callable[..., dict[str, Any]]


@pytest.fixture
def upload(s3: Any) -> Upload:
    """Put an object and return the ObjectCreated event S3 would send for it (key URL-encoded, as S3 does)."""

    def put(
        key: str, body: str | bytes, *, metadata: dict[str, str] | None = None, bucket: str = BUCKET
    ) -> dict[str, Any]:
        data = body.encode() if isinstance(body, str) else body
        response = s3.put_object(Bucket=bucket, Key=key, Body=data, Metadata=metadata or {})
        return events.s3_object_created_event(
            bucket, key, size=len(data), etag=response["ETag"].strip('"'), version_id=response.get("VersionId")
        )

    return put


def _invoke(event: dict[str, Any]) -> dict[str, Any]:
    from movie_ingest.handler import handler

    result: dict[str, Any] = handler(event, LocalLambdaContext(function_name="IngestFunction"))
    return result


def _count(conn: Any, prefix: str) -> int:
    return int(conn.execute("SELECT count(*) AS n FROM movies WHERE title LIKE %s", (prefix + "%",)).fetchone()["n"])


@pytest.mark.slow
def test_an_upload_is_ingested_and_its_error_report_written_beside_it(conn: Any, s3: Any, upload: Upload) -> None:
    event = upload("incoming/movies.csv", GOOD + "Handler Bad Year,PG,Drama\n")
    [job] = _invoke(event)["jobs"]
    assert (job["status"], job["ran"], job["origin"], job["mode"]) == ("done", True, "s3", "upsert")
    assert (job["rows"], job["inserted"], job["invalid"], job["bucket"], job["key"]) == (
        3,
        2,
        1,
        BUCKET,
        "incoming/movies.csv",
    )
    assert _count(conn, "Handler Film") == 2
    assert job["report_key"] == f"reports/incoming/movies.csv.job-{job['id']}.errors.csv"
    report = s3.get_object(Bucket=BUCKET, Key=job["report_key"])
    assert report["ContentType"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(report["Body"].read().decode("utf-8-sig"))))
    assert rows == [
        ["line", "column", "value", "reason", "code"],
        ["4", "year", "PG", "a year is a number such as 1994", "not_a_number"],
    ]


@pytest.mark.slow
def test_a_nul_byte_in_an_upload_is_one_reported_row_and_the_rest_loads(conn: Any, s3: Any, upload: Upload) -> None:
    event = upload("incoming/nul.csv", GOOD.encode() + b"Handler Dam\x00aged,2003,Drama\n")
    [job] = _invoke(event)["jobs"]
    assert (job["status"], job["rows"], job["inserted"], job["invalid"]) == ("done", 3, 2, 1)
    assert _count(conn, "Handler Film") == 2 and _count(conn, "Handler Dam") == 0
    report = s3.get_object(Bucket=BUCKET, Key=job["report_key"])["Body"].read().decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(report)))[1] == [
        "4",
        "title",
        "Handler Dam\\x00aged",
        "the value holds a NUL byte (shown as \\x00): the file is damaged here; the row was not loaded",
        "nul_byte",
    ]


@pytest.mark.slow
def test_a_binary_upload_fails_as_a_whole_and_changes_nothing(conn: Any, upload: Upload) -> None:
    [job] = _invoke(upload("incoming/utf16.csv", GOOD.encode("utf-16-le")))["jobs"]
    assert (job["status"], job["error"]["code"], job["rows"]) == ("failed", "not_text", 0)
    assert "UTF-16 or UTF-32 text without a byte-order mark" in job["error"]["detail"]
    assert _count(conn, "Handler Film") == 0


@pytest.mark.slow
def test_the_same_event_twice_is_processed_once(conn: Any, upload: Upload) -> None:
    event = upload("incoming/twice.csv", GOOD)
    [first] = _invoke(event)["jobs"]
    conn.execute("DELETE FROM movies WHERE title LIKE 'Handler Film%'")  # a second run would put them back
    [second] = _invoke(event)["jobs"]
    assert (first["ran"], second["ran"], second["id"], second["status"]) == (True, False, first["id"], "done")
    assert _count(conn, "Handler Film") == 0
    jobs = conn.execute("SELECT count(*) AS n FROM ingest_jobs WHERE object_key = 'incoming/twice.csv'").fetchone()
    assert jobs["n"] == 1


@pytest.mark.slow
def test_new_content_under_the_same_key_is_a_new_job(conn: Any, upload: Upload) -> None:
    [first] = _invoke(upload("incoming/again.csv", GOOD))["jobs"]
    [second] = _invoke(upload("incoming/again.csv", GOOD + "Handler Film Three,2003,\n"))["jobs"]
    assert second["id"] != first["id"] and second["version"] != first["version"]
    assert (second["ran"], second["inserted"], second["unchanged"]) == (True, 1, 2)


@pytest.mark.slow
def test_without_versioning_the_etag_tells_contents_apart(conn: Any, s3: Any, upload: Upload) -> None:
    s3.create_bucket(Bucket="plain-uploads")
    [first] = _invoke(upload("incoming/a.csv", GOOD, bucket="plain-uploads"))["jobs"]
    [again] = _invoke(upload("incoming/a.csv", GOOD, bucket="plain-uploads"))["jobs"]
    [changed] = _invoke(upload("incoming/a.csv", GOOD + "Handler Film Four,2004,\n", bucket="plain-uploads"))["jobs"]
    assert first["version"] == again["version"] != changed["version"]
    assert (again["ran"], changed["ran"]) == (False, True)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("wrong", "corrected", "same_again"),
    [
        ({"delimiter": "tab"}, {"delimiter": "comma"}, {"delimiter": ","}),
        ({"encoding": "utf-16"}, {"encoding": "utf-8"}, {"encoding": "UTF8"}),
        ({"mode": "replase"}, {"mode": "upsert"}, {"mode": "upsert"}),
    ],
)
def test_metadata_that_failed_a_job_can_be_corrected_in_place_and_is_then_read_once(
    conn: Any,
    s3: Any,
    upload: Upload,
    wrong: dict[str, str],
    corrected: dict[str, str],
    same_again: dict[str, str],
) -> None:
    # A tester's upload with a wrong x-amz-meta-delimiter failed; the same object copied in place with the right
    # metadata (same key, same ETag in an unversioned bucket) was "already processed", so it could never load.
    s3.create_bucket(Bucket="plain-uploads")
    key = "incoming/options.csv"
    [failed] = _invoke(upload(key, GOOD, metadata=wrong, bucket="plain-uploads"))["jobs"]
    assert (failed["status"], failed["ran"]) == ("failed", True)

    def copy_in_place(metadata: dict[str, str]) -> dict[str, Any]:
        source = {"Bucket": "plain-uploads", "Key": key}
        copied = s3.copy_object(
            Bucket="plain-uploads", Key=key, CopySource=source, Metadata=metadata, MetadataDirective="REPLACE"
        )
        etag = copied["CopyObjectResult"]["ETag"].strip('"')
        return events.s3_object_created_event("plain-uploads", key, size=len(GOOD), etag=etag)

    fixed = copy_in_place(corrected)
    assert fixed["Records"][0]["s3"]["object"]["eTag"] == failed["version"]  # the same object, other metadata
    [loaded] = _invoke(fixed)["jobs"]
    assert (loaded["ran"], loaded["status"], loaded["inserted"]) == (True, "done", 2)
    assert loaded["id"] != failed["id"] and _count(conn, "Handler Film") == 2
    conn.execute("DELETE FROM movies WHERE title LIKE 'Handler Film%'")  # a second run would put them back
    [again] = _invoke(fixed)["jobs"]
    [spelled_otherwise] = _invoke(copy_in_place(same_again))["jobs"]
    assert (again["ran"], again["id"], spelled_otherwise["ran"], spelled_otherwise["id"]) == (
        False,
        loaded["id"],
        False,
        loaded["id"],
    )
    [wrong_again] = _invoke(copy_in_place(wrong))["jobs"]
    assert (wrong_again["ran"], wrong_again["id"], wrong_again["status"]) == (False, failed["id"], "failed")
    assert _count(conn, "Handler Film") == 0


@pytest.mark.slow
def test_a_key_with_spaces_and_plus_signs(conn: Any, upload: Upload) -> None:
    key = "incoming/My Movies + More (v2).csv"
    event = upload(key, GOOD)
    assert event["Records"][0]["s3"]["object"]["key"] == "incoming/My+Movies+%2B+More+%28v2%29.csv"
    [job] = _invoke(event)["jobs"]
    assert (job["status"], job["key"], job["file_name"], job["inserted"]) == (
        "done",
        key,
        "My Movies + More (v2).csv",
        2,
    )


@pytest.mark.slow
def test_the_mode_comes_from_the_key_folder_or_the_metadata(conn: Any, upload: Upload) -> None:
    [validate] = _invoke(upload("incoming/validate/check.csv", GOOD))["jobs"]
    assert (validate["mode"], validate["inserted"]) == ("validate", 2)
    assert _count(conn, "Handler Film") == 0
    metadata = {"mode": "validate", "requested-by": "admin@example.com", "origin": "upload", "delimiter": ";"}
    [by_metadata] = _invoke(upload("incoming/portal.csv", GOOD.replace(",", ";"), metadata=metadata))["jobs"]
    assert (by_metadata["mode"], by_metadata["origin"], by_metadata["requested_by"], by_metadata["delimiter"]) == (
        "validate",
        "upload",
        "admin@example.com",
        "semicolon",
    )


@pytest.mark.slow
def test_replace_with_too_many_bad_rows_through_the_handler_changes_nothing(conn: Any, upload: Upload) -> None:
    before = conn.execute("SELECT count(*) AS n, max(updated_at) AS at FROM movies").fetchone()
    body = "title,year\nOnly Good,2001\nBad One,PG\nBad Two,PG\n"
    [job] = _invoke(upload("incoming/replace-all/catalogue.csv", body))["jobs"]
    assert (job["mode"], job["keep_tmdb"], job["status"]) == ("replace", False, "failed")
    assert job["error"]["code"] == "too_many_bad_rows"
    assert conn.execute("SELECT count(*) AS n, max(updated_at) AS at FROM movies").fetchone() == before


@pytest.mark.slow
def test_unusable_metadata_fails_the_job_with_a_reason(conn: Any, upload: Upload) -> None:
    [job] = _invoke(upload("incoming/x.csv", GOOD, metadata={"mode": "replase"}))["jobs"]
    assert (job["status"], job["error"]["code"]) == ("failed", "unreadable_file")
    assert "Unknown mode 'replase'" in job["error"]["detail"]


@pytest.mark.slow
def test_an_object_gone_before_it_is_read_is_skipped(conn: Any, s3: Any, upload: Upload) -> None:
    event = upload("incoming/gone.csv", GOOD)
    s3.delete_object(Bucket=BUCKET, Key="incoming/gone.csv", VersionId=event["Records"][0]["s3"]["object"]["versionId"])
    assert _invoke(event) == {"jobs": []}


def _fresh_clients() -> None:
    """The handler's settings, store and boto3 client are made once per process; made again for this S3."""
    from movie_ingest import handler, storage
    from movie_ingest.settings import ingest_settings

    for cached in (ingest_settings, handler.object_store, storage._s3_client):
        cached.cache_clear()


@pytest.mark.slow
def test_an_event_for_content_since_replaced_fails_and_the_newer_upload_loads(
    conn: Any, s3: Any, upload: Upload
) -> None:
    s3.create_bucket(Bucket="plain-uploads")
    stale = upload("incoming/raced.csv", GOOD, bucket="plain-uploads")
    fresh = upload("incoming/raced.csv", GOOD + "Handler Film Five,2005,\n", bucket="plain-uploads")
    [late] = _invoke(stale)["jobs"]
    assert (late["status"], late["error"]["code"], late["inserted"]) == ("failed", "upload_gone", 0)
    [newer] = _invoke(fresh)["jobs"]
    assert (newer["status"], newer["inserted"]) == ("done", 3)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("code", "runs_again"), [("catalogue_busy", True), ("internal_error", True), ("empty_file", False)]
)
def test_the_same_event_after_a_failure_that_may_pass_runs_again(
    conn: Any, upload: Upload, code: str, runs_again: bool
) -> None:
    # A tester's job failed as catalogue_busy and the same file could never be ingested again (only renamed).
    event = upload("incoming/retry.csv", GOOD)
    [first] = _invoke(event)["jobs"]
    conn.execute("DELETE FROM movies WHERE title LIKE 'Handler Film%'")
    conn.execute("UPDATE ingest_jobs SET status = 'failed', error_code = %s WHERE id = %s", (code, first["id"]))
    [again] = _invoke(event)["jobs"]
    assert (again["id"], again["ran"]) == (first["id"], runs_again)
    assert again["status"] == ("done" if runs_again else "failed")
    assert _count(conn, "Handler Film") == (2 if runs_again else 0)


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["validating", "loading"])
def test_a_job_whose_run_died_is_run_again_by_the_next_delivery_and_a_live_one_is_not(
    conn: Any, database_url: str, upload: Upload, stage: str
) -> None:
    # A tester killed the local stack while a job was loading: after the restart its file was announced again and
    # answered "already ingested (job 7, loading)", and the job stayed loading for good, its rows never loaded. In
    # AWS, Lambda's retries of a timed-out run come within minutes, before the 16 minutes that made a job stale.
    import psycopg

    from movie_common.db.ingest_jobs import JOB_LEASE

    event = upload("incoming/died.csv", GOOD)
    [first] = _invoke(event)["jobs"]
    conn.execute("DELETE FROM movies WHERE title LIKE 'Handler Film%'")
    conn.execute("UPDATE ingest_jobs SET status = %s, updated_at = now() WHERE id = %s", (stage, first["id"]))
    with psycopg.connect(database_url, autocommit=True) as runner:  # a live run holds the job's lease
        runner.execute("SELECT pg_advisory_lock(%s, %s)", (JOB_LEASE, first["id"]))
        [live] = _invoke(event)["jobs"]
        assert (live["id"], live["ran"], live["status"]) == (first["id"], False, stage)
    # The run is gone (its session ended, and its lease with it): the next delivery takes the job over.
    [again] = _invoke(event)["jobs"]
    assert (again["id"], again["ran"], again["status"], again["inserted"]) == (first["id"], True, "done", 2)
    assert _count(conn, "Handler Film") == 2


@pytest.mark.slow
def test_the_admin_views_close_a_job_whose_run_died_as_interrupted(
    conn: Any, database_url: str, upload: Upload
) -> None:
    import psycopg

    from movie_common import ingest_uploads
    from movie_common.db.ingest_jobs import JOB_LEASE

    died, alive = upload("incoming/died.csv", GOOD), upload("incoming/alive.csv", GOOD)
    ids = [_invoke(event)["jobs"][0]["id"] for event in (died, alive)]
    conn.execute("DELETE FROM movies WHERE title LIKE 'Handler Film%'")
    conn.execute("UPDATE ingest_jobs SET status = 'loading' WHERE id = ANY(%s)", (ids,))
    with psycopg.connect(database_url, autocommit=True) as runner:
        runner.execute("SELECT pg_advisory_lock(%s, %s)", (JOB_LEASE, ids[1]))
        listed = {job.id: job for job in ingest_uploads.list_jobs(conn, per_page=100).jobs}
        shown = ingest_uploads.job_with_errors(conn, job_id=ids[1])
    assert (listed[ids[0]].status, listed[ids[0]].error_code) == ("failed", "interrupted")
    assert "all of this file's changes or none of them" in (listed[ids[0]].error_detail or "")
    assert listed[ids[0]].finished_at is not None
    assert listed[ids[1]].status == shown["status"] == "loading"  # its run is alive
    # Delivered again, the interrupted job runs again.
    [again] = _invoke(died)["jobs"]
    assert (again["id"], again["ran"], again["status"], again["error"]) == (ids[0], True, "done", None)
    assert _count(conn, "Handler Film") == 2


class _Presigner:
    """Signs nothing: the test sends the file itself, as S3 would deliver it."""

    bucket = BUCKET

    def presign(self, *, key: str, metadata: dict[str, str], max_bytes: int, expires_in: int) -> Any:
        from movie_common.ingest_uploads import PresignedUpload

        return PresignedUpload(url="https://uploads.example/", method="POST", fields={}, headers={}, expires_in=1)


@pytest.mark.slow
def test_an_upload_whose_file_never_came_is_closed_and_a_late_file_still_loads(conn: Any, upload: Upload) -> None:
    from movie_common import ingest_uploads

    ticket = ingest_uploads.create_upload(
        conn, _Presigner(), mode="upsert", file_name="late.csv", requested_by="admin@example.com"
    )
    fresh = ingest_uploads.create_upload(
        conn, _Presigner(), mode="upsert", file_name="fresh.csv", requested_by="admin@example.com"
    )
    conn.execute("UPDATE ingest_jobs SET created_at = now() - interval '2 hours' WHERE id = %s", (ticket.job.id,))
    listed = {job.id: job for job in ingest_uploads.list_jobs(conn, per_page=100).jobs}
    assert (listed[ticket.job.id].status, listed[ticket.job.id].error_code) == ("failed", "upload_not_received")
    assert "Upload the file again" in (listed[ticket.job.id].error_detail or "")
    assert listed[fresh.job.id].status == "queued"  # its form has not expired
    # The file arrives after all: it is ingested as a job of its own.
    [late] = _invoke(upload(ticket.key, GOOD))["jobs"]
    assert (late["ran"], late["status"], late["inserted"]) == (True, "done", 2) and late["id"] != ticket.job.id


@pytest.mark.parametrize("mode", ["upsert", "validate"])
def test_keep_tmdb_false_outside_replace_is_refused_not_ignored(conn: Any, mode: str) -> None:
    from movie_common import ingest_uploads
    from movie_common.errors import RequestValidationError

    with pytest.raises(RequestValidationError) as refused:
        ingest_uploads.create_upload(
            conn, _Presigner(), mode=mode, file_name="a.csv", requested_by="admin@example.com", keep_tmdb=False
        )
    assert [(e.name, e.location) for e in refused.value.errors] == [("keep_tmdb", "body")]
    assert conn.execute("SELECT count(*) AS n FROM ingest_jobs WHERE file_name = 'a.csv'").fetchone()["n"] == 0
    replace = ingest_uploads.create_upload(
        conn, _Presigner(), mode="replace", file_name="a.csv", requested_by="admin@example.com", keep_tmdb=False
    )
    assert replace.key.startswith("incoming/replace-all/")


UPLOAD_METADATA = {"mode": "upsert", "keep-tmdb": "true", "origin": "upload", "requested-by": "admin@example.com"}
OTHER = "title,year,genre\nSmuggled Film One,2011,Drama\n"


@pytest.mark.slow
def test_one_upload_form_brings_one_file_and_a_second_one_is_refused_changing_nothing(
    conn: Any, upload: Upload
) -> None:
    """The form of a presigned upload can be posted again while it is valid (15 minutes): the second object under
    the granted key (other content: a new version id and ETag) is a failed job of its own, not read at all."""
    from movie_common import ingest_uploads

    ticket = ingest_uploads.create_upload(
        conn, _Presigner(), mode="upsert", file_name="granted.csv", requested_by="admin@example.com"
    )
    [first] = _invoke(upload(ticket.key, GOOD, metadata=UPLOAD_METADATA))["jobs"]
    assert (first["id"], first["ran"], first["status"], first["inserted"]) == (ticket.job.id, True, "done", 2)

    smuggled = upload(ticket.key, OTHER, metadata=UPLOAD_METADATA)
    [second] = _invoke(smuggled)["jobs"]
    assert second["id"] != ticket.job.id and second["ran"] is False
    assert (second["status"], second["error"]["code"]) == ("failed", "upload_already_used")
    assert f"job {ticket.job.id}" in second["error"]["detail"] and "request a new upload" in second["error"]["detail"]
    assert (second["rows"], second["inserted"], second["updated"]) == (0, 0, 0)
    assert _count(conn, "Smuggled Film") == 0  # not read: nothing changed
    # The same refused object delivered again stays that one refused job.
    [again] = _invoke(smuggled)["jobs"]
    assert (again["id"], again["ran"], again["status"]) == (second["id"], False, "failed")
    assert (
        conn.execute("SELECT count(*) AS n FROM ingest_jobs WHERE object_key = %s", (ticket.key,)).fetchone()["n"] == 2
    )
    granted = ingest_uploads.job_with_errors(conn, job_id=ticket.job.id)
    assert (granted["status"], granted["inserted"]) == ("done", 2)


@pytest.mark.slow
def test_the_same_content_posted_again_under_a_granted_key_stays_one_job(conn: Any, upload: Upload) -> None:
    """In a versioned bucket the same bytes posted again are a new version with the same ETag: still the grant's
    one job, not run again and not refused."""
    from movie_common import ingest_uploads

    ticket = ingest_uploads.create_upload(
        conn, _Presigner(), mode="upsert", file_name="twice.csv", requested_by="admin@example.com"
    )
    once = upload(ticket.key, GOOD, metadata=UPLOAD_METADATA)
    twice = upload(ticket.key, GOOD, metadata=UPLOAD_METADATA)
    versions = [e["Records"][0]["s3"]["object"] for e in (once, twice)]
    assert versions[0]["versionId"] != versions[1]["versionId"] and versions[0]["eTag"] == versions[1]["eTag"]
    [first] = _invoke(once)["jobs"]
    [again] = _invoke(twice)["jobs"]
    assert (first["id"], first["ran"], first["status"]) == (ticket.job.id, True, "done")
    assert (again["id"], again["ran"], again["status"]) == (ticket.job.id, False, "done")
    [redelivered] = _invoke(once)["jobs"]
    assert (redelivered["id"], redelivered["ran"]) == (ticket.job.id, False)
    assert (
        conn.execute("SELECT count(*) AS n FROM ingest_jobs WHERE object_key = %s", (ticket.key,)).fetchone()["n"] == 1
    )


@pytest.mark.slow
def test_a_delivery_that_waits_on_a_concurrent_one_past_lock_timeout_raises_for_a_retry_not_an_outage(
    conn: Any, database_url: str, upload: Upload
) -> None:
    """Another delivery of the same object is claiming it (its row not yet committed): the wait past lock_timeout
    is a LockTimeoutError that Lambda's retry answers, not "the database is unavailable"; nothing was ingested."""
    import psycopg

    from movie_common.errors import LockTimeoutError

    event = upload("incoming/contended.csv", GOOD)
    record = event["Records"][0]["s3"]
    conn.execute("SET LOCAL lock_timeout = '100ms'")
    with psycopg.connect(database_url) as other:
        other.execute(
            """INSERT INTO ingest_jobs (mode, origin, bucket, object_key, object_version)
               VALUES ('upsert', 's3', %s, %s, %s)""",
            (BUCKET, "incoming/contended.csv", record["object"]["versionId"]),
        )
        with pytest.raises(LockTimeoutError) as raised:
            _invoke(event)
        other.rollback()
    assert "unavailable" not in raised.value.detail
    assert _count(conn, "Handler Film") == 0


@pytest.mark.slow
def test_a_report_whose_write_failed_is_written_when_the_event_comes_again(conn: Any, s3: Any, upload: Upload) -> None:
    # A tester's report write failed after the job finished: the event's retry found the job done and returned, so
    # the report stayed unreachable while error_count said rows were reported.
    event = upload("incoming/lost-report.csv", GOOD + "No Year Film,soon,Drama\n")
    [first] = _invoke(event)["jobs"]
    assert first["error_count"] == 1 and first["report_key"]
    s3.delete_object(Bucket=BUCKET, Key=first["report_key"])
    conn.execute("UPDATE ingest_jobs SET report_key = NULL WHERE id = %s", (first["id"],))  # as a failed put leaves it
    [again] = _invoke(event)["jobs"]
    assert (again["id"], again["ran"], again["report_key"]) == (first["id"], False, first["report_key"])
    rows = list(csv.reader(io.StringIO(s3.get_object(Bucket=BUCKET, Key=again["report_key"])["Body"].read().decode())))
    assert [r[:2] for r in rows[1:]] == [["4", "year"]]
