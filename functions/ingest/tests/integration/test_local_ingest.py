"""The one-machine stack's ingest: `marquee ingest FILE` and the drop folder, both through IngestFunction's handler
with S3-shaped events, against a database of their own (they commit)."""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from marquee_local import cli, dropfolder, run
from marquee_local.lambda_context import LocalLambdaContext
from movie_ingest.storage import metadata_path

# The one-machine stack's own tooling (the drop folder and `marquee ingest`): the full run's tier, not the inner loop's.
pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path: Path, scratch_database: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh $MARQUEE_HOME whose database is the scratch one."""
    monkeypatch.setenv("MARQUEE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("UPLOADS_LOCAL_ROOT", raising=False)  # the CLI sets it; undone after the test
    return tmp_path / "home"


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = cli.main(["ingest", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def _titles(url: str, prefix: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [
            r[0] for r in conn.execute("SELECT title FROM movies WHERE title LIKE %s ORDER BY title", (prefix + "%",))
        ]


@pytest.mark.slow
@pytest.mark.commit
def test_marquee_ingest_prints_the_job_as_json(
    home: Path, scratch_database: str, imdb_top_1000: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, job = _cli(capsys, str(imdb_top_1000))
    assert code == 0
    assert {
        k: job[k] for k in ("status", "rows", "valid", "invalid", "inserted", "updated", "unchanged", "deleted")
    } == {
        "status": "done",
        "rows": 1000,
        "valid": 999,
        "invalid": 1,
        "inserted": 999,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
    }
    assert job["errors"] == [
        {
            "line": 968,
            "column": "Released_Year",
            "value": "PG",
            "reason": "a year is a number such as 1994",
            "code": "not_a_number",
        }
    ]
    assert (job["origin"], job["ran"], job["key"]) == ("cli", True, "incoming/imdb_top_1000.csv")
    report = Path(job["report"])
    assert report == home / "uploads" / "reports" / f"incoming/imdb_top_1000.csv.job-{job['id']}.errors.csv"
    assert report.read_text(encoding="utf-8-sig").splitlines()[1].startswith("968,Released_Year,PG,")
    # The copy, its metadata and its report are the user's only, in folders only the user may enter.
    copy = home / "uploads" / "incoming" / "imdb_top_1000.csv"
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in (copy, metadata_path(copy), report)} == {"0o600"}
    folders = [home / "uploads", copy.parent, report.parent, home / "uploads" / "reports"]
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in folders} == {"0o700"}

    again_code, again = _cli(capsys, str(imdb_top_1000))
    assert (again_code, again["id"], again["ran"]) == (0, job["id"], False)


@pytest.mark.commit
def test_marquee_ingest_says_when_it_did_nothing(
    home: Path, scratch_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same content again, with the same options, prints the earlier job (inserted: 1) and exits 0: stderr says
    that nothing ran now, since its movie may be gone since. Other reading options (--delimiter, --encoding) are a
    job of their own, which runs (migration 0025): they used to be refused as already ingested, so a file failed by
    a wrong delimiter could not be loaded with the right one unless renamed."""
    path = tmp_path / "again.csv"
    path.write_text("title,year\nAgain Cli,2001\n")
    assert cli.main(["ingest", str(path)]) == 0
    assert "nothing was done" not in capsys.readouterr().err
    assert cli.main(["ingest", str(path)]) == 0
    captured = capsys.readouterr()
    assert (json.loads(captured.out)["ran"], json.loads(captured.out)["inserted"]) == (False, 1)
    assert "marquee ingest: nothing was done now: this content was already ingested as incoming/again.csv" in (
        captured.err
    )
    assert cli.main(["ingest", str(path), "--delimiter", "semicolon"]) == 1  # read as one column: no title
    captured = capsys.readouterr()
    assert json.loads(captured.out)["ran"] is True and "nothing was done" not in captured.err
    assert cli.main(["ingest", str(path), "--delimiter", ";"]) == 1  # the same option, spelled otherwise
    captured = capsys.readouterr()
    assert json.loads(captured.out)["ran"] is False and "nothing was done now" in captured.err


@pytest.mark.commit
def test_marquee_ingest_exits_non_zero_when_the_job_fails(
    home: Path, scratch_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("title,year\nGood Cli,2001\nBad Cli,PG\n")
    code, job = _cli(capsys, str(path), "--mode", "replace")
    assert (code, job["status"], job["mode"], job["error"]["code"]) == (1, "failed", "replace", "too_many_bad_rows")
    assert job["key"] == "incoming/replace/bad.csv"
    assert _titles(scratch_database, "Good Cli") == []
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    code, job = _cli(capsys, str(binary))
    assert (code, job["status"], job["error"]["code"]) == (1, "failed", "not_text")


@pytest.mark.commit
def test_marquee_ingest_keeps_a_files_letters_and_reports_a_nul_row(
    home: Path, scratch_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`marquee ingest` of a file named in letters without an ASCII form, holding one row with a NUL byte: the job
    shows the name, the NUL row is reported (line, column, escaped value, code) and the other rows load."""
    path = tmp_path / "Søren Kierkegård \u2013 東京物語.csv"
    path.write_bytes(b"title,year\nNul Cli One,2001\nNul Cli \x00Two,2002\nNul Cli Three,2003\n")
    code, job = _cli(capsys, str(path))
    assert (code, job["status"], job["inserted"], job["invalid"]) == (0, "done", 2, 1)
    assert (job["key"], job["file_name"]) == (
        "incoming/Søren Kierkegård \u2013 東京物語.csv",
        "Søren Kierkegård \u2013 東京物語.csv",
    )
    assert [(e["line"], e["column"], e["value"], e["code"]) for e in job["errors"]] == [
        (3, "title", "Nul Cli \\x00Two", "nul_byte")
    ]
    assert Path(job["report"]).name == f"Søren Kierkegård \u2013 東京物語.csv.job-{job['id']}.errors.csv"
    assert _titles(scratch_database, "Nul Cli") == ["Nul Cli One", "Nul Cli Three"]


@pytest.mark.commit
def test_marquee_ingest_reads_a_windows_1252_file_with_undefined_bytes_as_windows_1252(
    home: Path, scratch_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tester's command: 0x81 and 0x9D made the job say cp775 and store `...cafķ`."""
    path = tmp_path / "f.csv"
    path.write_bytes(b"title,year,plot\nBreaker Undef,2001,bad \x81 byte and \x9d here and caf\xe9\n")
    code, job = _cli(capsys, str(path))
    assert (code, job["status"], job["encoding"], job["inserted"], job["warnings"]) == (
        0,
        "done",
        "Windows-1252",
        1,
        [],
    )
    with psycopg.connect(scratch_database) as conn:
        plot = conn.execute("SELECT plot FROM movies WHERE title = 'Breaker Undef'").fetchone()
    assert plot == ("bad byte and here and café",)


@pytest.mark.slow
@pytest.mark.commit
def test_an_admin_upload_named_in_any_script_lands_and_loads_through_the_local_s3_and_drop_folder(
    home: Path, scratch_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The admin portal's path on one machine: a queued job and a presigned POST (the sanitised name in its key),
    the browser's POST to the S3 stand-in, which writes the file into the drop folder, the watcher's S3-shaped
    event to IngestFunction's handler (a row with a NUL byte reported, not the file failed), and the report
    downloaded under the name. `Søren.csv` used to become `Sren.csv`."""
    import boto3
    import httpx
    from botocore.config import Config
    from psycopg.rows import dict_row

    from marquee_local.local_s3 import LocalS3
    from marquee_local.server import ServerThread
    from marquee_local.sigv4 import LocalCredentials
    from movie_common import ingest_uploads

    cli.main(["migrate"])
    root = dropfolder.configure(home)
    credentials = LocalCredentials.generate()
    bucket = ingest_uploads.LOCAL_BUCKET
    s3 = LocalS3(root, bucket=bucket, credentials=credentials, cors_origin=None, report=lambda _: None)
    with ServerThread("127.0.0.1", 0, name="s3-names") as server:
        server.start(s3.app(), lifespan="off")
        client = boto3.client(
            "s3",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            config=Config(signature_version="s3v4", retries={"max_attempts": 1}),
        )
        presigner = ingest_uploads.S3UploadPresigner(bucket, client)
        with psycopg.connect(scratch_database, row_factory=dict_row, autocommit=True) as conn:
            ticket = ingest_uploads.create_upload(
                conn,
                presigner,
                mode="upsert",
                file_name="C:\\films\\Søren \u2013 東京物語.csv",
                requested_by="a@example.com",
            )
        assert ticket.key.startswith("incoming/") and ticket.key.endswith("-Søren - 東京物語.csv")
        assert ticket.job.file_name == "Søren - 東京物語.csv"
        content = b"title,year\nUpload Named One,2001\nUpload Named Bad,PG\nUpload Named \x00Nul,2003\n"
        sent = httpx.post(ticket.upload.url, data=ticket.upload.fields, files={"file": ("Søren.csv", content)})
        assert sent.status_code == 204, sent.text
        assert (root / ticket.key).read_bytes() == content

        watcher = dropfolder.DropFolderWatcher(root, report=lambda _: None)
        watcher.scan()
        [job] = watcher.scan()
        assert (job["id"], job["status"], job["origin"], job["key"], job["file_name"]) == (
            ticket.job.id,
            "done",
            "upload",
            ticket.key,
            "Søren - 東京物語.csv",
        )
        assert (job["inserted"], job["invalid"]) == (1, 2)
        assert _titles(scratch_database, "Upload Named") == ["Upload Named One"]

        with psycopg.connect(scratch_database, row_factory=dict_row, autocommit=True) as conn:
            link = ingest_uploads.report_link(conn, presigner, job_id=job["id"])
        assert link.file_name == f"Søren - 東京物語.job-{job['id']}.errors.csv"
        got = httpx.get(link.url)
        assert got.status_code == 200, got.text
        assert got.headers["content-disposition"] == (
            f'attachment; filename="S_ren - _.job-{job["id"]}.errors.csv"; '
            f"filename*=UTF-8''S%C3%B8ren%20-%20%E6%9D%B1%E4%BA%AC%E7%89%A9%E8%AA%9E.job-{job['id']}.errors.csv"
        )
        report = got.content.decode("utf-8-sig").splitlines()
        assert report[1].startswith("3,year,PG,") and report[2].startswith("4,title,Upload Named \\x00Nul,")
        assert report[2].endswith(",nul_byte")


def test_the_drop_folder_has_its_mode_subfolders_from_the_start(home: Path) -> None:
    # The banner says "drop CSVs; replace/, replace-all/, validate/ for those modes", but on a first start only
    # incoming/ existed: `cp movies.csv .marquee/uploads/incoming/replace/` failed (found by the ninth tester).
    root = dropfolder.configure(home)
    assert root == home / "uploads"
    assert sorted(p.name for p in (root / "incoming").iterdir()) == ["replace", "replace-all", "validate"]
    assert dropfolder.configure(home) == root  # again: nothing to do


def test_the_drop_folder_says_once_that_a_name_that_is_not_utf8_cannot_be_a_key(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    (root / "incoming").mkdir(parents=True)
    (root / "incoming" / os.fsdecode(b"S\xf8ren.csv")).write_text("title\nLatin-1 Name\n")  # a Latin-1 name
    lines: list[str] = []
    invoked: list[dict[str, Any]] = []
    watcher = dropfolder.DropFolderWatcher(root, invoked.append, report=lines.append)  # type: ignore[arg-type]
    for _ in range(3):
        assert watcher.scan() == []
    assert invoked == []
    assert lines == [
        "drop folder: 'incoming/S\\udcf8ren.csv': the file name is not UTF-8; rename the file to ingest it"
    ]


@pytest.mark.commit
def test_a_mistyped_delimiter_or_encoding_is_refused_before_the_file_becomes_a_job(
    home: Path, scratch_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--delimiter colon` used to make a failed job of the file; the corrected command then did nothing ("already
    ingested … its options stand, not this run's") until the file was renamed."""
    path = tmp_path / "typo.csv"
    path.write_text("title;year\nTypo Option Cli;2001\n")
    for option, value, says in [
        ("--delimiter", "colon", "Unknown delimiter 'colon': use comma, semicolon, tab or pipe."),
        ("--encoding", "klingon", "Unknown encoding 'klingon'."),
        ("--encoding", "rot13", "'rot13' is not a text encoding; give one such as utf-8 or cp1252."),
    ]:
        assert cli.main(["ingest", str(path), option, value]) == 2
        captured = capsys.readouterr()
        assert (captured.out, captured.err) == ("", f"marquee ingest: {says} Nothing was ingested.\n")
    code, job = _cli(capsys, str(path), "--delimiter", "semicolon", "--encoding", "CP1252")
    assert (code, job["ran"], job["inserted"], job["encoding"]) == (0, True, 1, "Windows-1252")
    assert _titles(scratch_database, "Typo Option") == ["Typo Option Cli"]
    with psycopg.connect(scratch_database) as conn:  # the refused commands made no job
        assert conn.execute("SELECT count(*) FROM ingest_jobs WHERE file_name = 'typo.csv'").fetchone() == (1,)


@pytest.mark.commit
def test_marquee_ingest_passes_delimiter_and_validate_mode(
    home: Path, scratch_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "semi.txt"
    path.write_text("title;year\nSemi, Colon Cli;2001\n")
    code, job = _cli(capsys, str(path), "--mode", "validate", "--delimiter", "semicolon")
    assert (code, job["mode"], job["delimiter"], job["inserted"]) == (0, "validate", "semicolon", 1)
    assert _titles(scratch_database, "Semi") == []
    # The job says it was asked to be read so (the admin's job view shows it): it said nothing, as if detected.
    assert job["read_options"] == "delimiter=semicolon"
    code, job = _cli(capsys, str(path), "--delimiter", "semicolon")
    assert (code, job["inserted"]) == (0, 1)
    assert _titles(scratch_database, "Semi") == ["Semi, Colon Cli"]


@pytest.mark.commit
def test_a_file_in_the_drop_folder_is_ingested_once_when_it_holds_still(
    home: Path, scratch_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.main(["migrate"])
    root = dropfolder.configure(home)
    lines: list[str] = []
    watcher = dropfolder.DropFolderWatcher(root, report=lines.append)
    assert (root / "incoming" / "replace").is_dir()  # made by configure
    dropped = root / "incoming" / "Drop Folder + Films.csv"
    dropped.write_text("title,year\nDropped Film One,2001\nDropped Film Two,PG\n")
    (root / "incoming" / "half-written.csv.part").write_text("title\nNever\n")
    assert watcher.scan() == []  # seen once: it may still be being written
    [job] = watcher.scan()
    assert (job["status"], job["origin"], job["key"], job["inserted"], job["invalid"]) == (
        "done",
        "drop_folder",
        "incoming/Drop Folder + Films.csv",
        1,
        1,
    )
    assert (root / job["report_key"]).is_file()
    assert _titles(scratch_database, "Dropped Film") == ["Dropped Film One"]
    assert watcher.scan() == []  # unchanged: not handed over again

    dropped.write_text("title,year\nDropped Film One,2001\nDropped Film Three,2003\n")
    watcher.scan()
    [changed] = watcher.scan()
    assert (changed["id"] != job["id"], changed["inserted"], changed["unchanged"]) == (True, 1, 1)

    # A new watcher (the stack restarted) recognises what was done.
    restarted = dropfolder.DropFolderWatcher(root, report=lines.append)
    restarted.scan()
    [recognised] = restarted.scan()
    assert (recognised["id"], recognised["ran"]) == (changed["id"], False)
    assert any("already ingested" in line for line in lines)
    assert not metadata_path(dropped).exists()


@pytest.mark.commit
def test_a_copy_that_stalls_is_not_read_until_its_writer_closes_it(home: Path, scratch_database: str) -> None:
    cli.main(["migrate"])
    root = dropfolder.configure(home)
    watcher = dropfolder.DropFolderWatcher(root, report=lambda _: None)
    path = root / "incoming" / "slow copy.csv"
    with path.open("w", encoding="utf-8") as writer:
        writer.write("title,year\nStalled Copy One,2001\nStalled Copy Tw")  # cut mid-row, and the copy stalls
        writer.flush()
        for _ in range(3):  # its size holds still for polls on end, but it is still open for writing
            assert watcher.scan() == []
        writer.write("o,2002\n")
    watcher.scan()  # closed: seen once more at its final size
    [job] = watcher.scan()
    assert (job["status"], job["rows"], job["inserted"], job["invalid"]) == ("done", 2, 2, 0)
    assert _titles(scratch_database, "Stalled Copy") == ["Stalled Copy One", "Stalled Copy Two"]


def test_the_committed_event_file_drives_the_handler_on_the_local_folder(
    conn: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, load_event: Callable[..., dict[str, Any]]
) -> None:
    from movie_ingest.handler import handler

    monkeypatch.setenv("UPLOADS_LOCAL_ROOT", str(tmp_path))
    _fresh_settings()
    body = b"title,year\nCommitted Event Film,2011\n"
    (tmp_path / "incoming").mkdir()
    (tmp_path / "incoming" / "movies.csv").write_bytes(body)
    try:
        event = load_event("ingest", "object_created", size=len(body))
        [job] = handler(event, LocalLambdaContext(function_name="IngestFunction"))["jobs"]
    finally:
        monkeypatch.undo()
        _fresh_settings()
    assert (job["status"], job["bucket"], job["key"], job["inserted"]) == (
        "done",
        "marquee-uploads",
        "incoming/movies.csv",
        1,
    )
    assert job["version"] == event["Records"][0]["s3"]["object"]["versionId"]


def test_a_drop_folder_file_written_over_after_its_event_fails_and_loads_nothing(
    conn: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `cp new.csv incoming/a.csv` onto a file a job is reading rewrites it in place: the job read the start of the
    # old content and the rest of the new one and loaded the mix as done (found by the ninth tester: 47,999 old
    # rows and 95,380 new ones, bytes_read short of size_bytes, no warning). The content must be the announced one.
    from movie_ingest.handler import handler

    monkeypatch.setenv("UPLOADS_LOCAL_ROOT", str(tmp_path))
    _fresh_settings()
    (tmp_path / "incoming").mkdir()
    path = tmp_path / "incoming" / "overwritten.csv"
    path.write_bytes(b"title,year\n" + b"".join(b"Announced Film %d,2001\n" % i for i in range(50)))
    event = dropfolder.upload_event(tmp_path, "incoming/overwritten.csv")
    path.write_bytes(b"title,year\n" + b"".join(b"Overwriting Film %d,2002\n" % i for i in range(50)))
    try:
        [job] = handler(event, LocalLambdaContext(function_name="IngestFunction"))["jobs"]
    finally:
        monkeypatch.undo()
        _fresh_settings()
    assert (job["status"], job["error"]["code"]) == ("failed", "unreadable_file")
    assert "changed while it was being read" in job["error"]["detail"]
    assert (
        conn.execute(
            "SELECT count(*) AS n FROM movies WHERE title LIKE 'Announced Film%' OR title LIKE 'Overwriting Film%'"
        ).fetchone()["n"]
        == 0
    )


def _fresh_settings() -> None:
    from movie_ingest import handler
    from movie_ingest.settings import ingest_settings

    ingest_settings.cache_clear()
    handler.object_store.cache_clear()


@pytest.mark.slow
@pytest.mark.commit
def test_marquee_run_ingests_the_drop_folder_through_the_local_ingest_function(
    home: Path, scratch_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole stack: `marquee run` loads the bundled catalogue through the ingest on first start, and its drop
    folder hands a new file to IngestFunction in the function's own local environment (template environment)."""
    seen: dict[str, Any] = {}

    class DropAndWait:
        name = "drop and wait"

        def __init__(self, context: run.RunContext) -> None:
            self.context = context

        def start(self) -> None:
            folder = self.context.home / "uploads" / "incoming" / "validate"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "run check.csv").write_text("title,year\nRun Drop Film,2001\nThe Godfather,1972\n")
            deadline = time.monotonic() + 120
            with psycopg.connect(scratch_database, autocommit=True) as conn:
                while time.monotonic() < deadline:
                    row = conn.execute(
                        "SELECT status, origin, mode, inserted, unchanged, updated FROM ingest_jobs "
                        "WHERE object_key = 'incoming/validate/run check.csv'"
                    ).fetchone()
                    if row and row[0] in ("done", "failed"):
                        seen["job"] = row
                        break
                    time.sleep(0.5)
                seen["catalogue"] = conn.execute(
                    "SELECT origin, status, inserted FROM ingest_jobs WHERE origin = 'catalogue'"
                ).fetchall()
            threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()

        def stop(self) -> None:
            pass

        def describe(self) -> list[str]:
            return []

    module = types.ModuleType("fake_service_drop_and_wait")
    module.service = DropAndWait  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(cli, "SERVICE_MODULES", ("marquee_local.dropfolder", module.__name__))

    assert cli.main(["run", "--port", "0", "--quiet", "--environments", "1"]) == 0
    out = capsys.readouterr().out
    assert f"Uploads    {home / 'uploads' / 'incoming'}/" in out
    assert seen["catalogue"] == [("catalogue", "done", 36_243)]
    # validate mode: the new film would be inserted, The Godfather (in the bundled catalogue) is unchanged.
    assert seen["job"] == ("done", "drop_folder", "validate", 1, 1, 0)
    assert "drop folder: incoming/validate/run check.csv validate done" in out
