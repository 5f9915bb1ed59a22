"""The one-machine stand-in for the uploads bucket: `$MARQUEE_HOME/uploads/incoming/` is watched by `marquee run`,
and a file placed there is ingested by IngestFunction's real handler with an S3-shaped ObjectCreated event from the
event toolkit, as in AWS; `marquee ingest FILE` does the same at once and prints the job. (A `marquee run` service
and a command module: see marquee_local.run and marquee_local.cli.)"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marquee_local import events, stack
from marquee_local.lambda_context import LocalLambdaContext
from marquee_local.run import RunContext

INCOMING = "incoming"
FUNCTION = "IngestFunction"
# Files still being written, or that are not uploads (editors' and downloaders' temporary names).
_IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".swp", "~")

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def configure(home: Path) -> Path:
    """Make the drop folder; returns the uploads folder (IngestFunction reads UPLOADS_LOCAL_ROOT, which
    stack.configure_environment sets)."""
    root = stack.uploads_root(home)
    (root / INCOMING).mkdir(parents=True, exist_ok=True)
    return root


def upload_event(root: Path, key: str) -> dict[str, Any]:
    """The ObjectCreated event S3 would send for the object `key` of the local uploads folder (no version id, as
    from an unversioned bucket: the ETag, the MD5 of the content, tells contents apart)."""
    from movie_ingest.settings import LOCAL_BUCKET
    from movie_ingest.storage import file_etag

    path = root / key
    return events.s3_object_created_event(LOCAL_BUCKET, key, size=path.stat().st_size, etag=file_etag(path))


def invoke_in_process(event: dict[str, Any]) -> dict[str, Any]:
    """IngestFunction's handler called in this process (`marquee ingest`, tests)."""
    from movie_ingest.handler import handler

    result: dict[str, Any] = handler(event, LocalLambdaContext(function_name=FUNCTION, timeout_seconds=900))
    return result


def place_upload(
    source: Path, root: Path, *, mode: str, keep_tmdb: bool, metadata: dict[str, str] | None = None
) -> str:
    """Copy a file into the drop folder where its mode says (`incoming/replace/...`), with its metadata (what S3
    calls x-amz-meta-*: delimiter, encoding, origin, requested-by) written first; returns its key."""
    from movie_ingest.storage import metadata_path

    folder = {"upsert": "", "validate": "validate/", "replace": "replace/" if keep_tmdb else "replace-all/"}[mode]
    key = f"{INCOMING}/{folder}{source.name}"
    target = root / key
    target.parent.mkdir(parents=True, exist_ok=True)
    sidecar = metadata_path(target)
    if metadata:
        sidecar.write_text(json.dumps(metadata), encoding="utf-8")
    else:
        sidecar.unlink(missing_ok=True)
    if source.resolve() != target.resolve():
        partial = target.with_name(target.name + ".part")
        shutil.copyfile(source, partial)
        partial.replace(target)
    return key


@dataclass
class _Seen:
    size: int
    mtime_ns: int


class DropFolderWatcher:
    """Polls the drop folder; a file whose size and modification time held still for one poll is ingested once.

    Files ingested in an earlier run are handed over again at start and recognised by their job (same key and
    content), so nothing is loaded twice. A file changed in place is new content, hence a new job.
    """

    def __init__(
        self, root: Path, invoke: Invoke = invoke_in_process, *, report: Callable[[str], None] = print
    ) -> None:
        self.root = root
        self.invoke = invoke
        self.report = report
        self._pending: dict[str, _Seen] = {}
        self._done: dict[str, _Seen] = {}

    def scan(self) -> list[dict[str, Any]]:
        """One poll: ingest the files that are ready; returns the jobs that ran or were recognised."""
        jobs: list[dict[str, Any]] = []
        incoming = self.root / INCOMING
        if not incoming.is_dir():
            return jobs
        for path in sorted(p for p in incoming.rglob("*") if p.is_file()):
            if path.name.startswith(".") or path.name.endswith(_IGNORED_SUFFIXES):
                continue
            key = path.relative_to(self.root).as_posix()
            stat = path.stat()
            seen = _Seen(stat.st_size, stat.st_mtime_ns)
            if self._done.get(key) == seen:
                continue
            if self._pending.get(key) != seen:
                self._pending[key] = seen  # still being written, perhaps: wait one poll
                continue
            del self._pending[key]
            self._done[key] = seen
            try:
                result = self.invoke(upload_event(self.root, key))
            except Exception as error:  # the stack keeps running; the next change of the file tries again
                self.report(f"drop folder: {key}: {type(error).__name__}: {error}")
                del self._done[key]
                continue
            for job in result["jobs"]:
                jobs.append(job)
                self.report(_summary(job))
        return jobs


def _summary(job: dict[str, Any]) -> str:
    if not job.get("ran", True):
        return f"drop folder: {job['key']} was already ingested (job {job['id']}, {job['status']})"
    if job["status"] == "failed":
        return f"drop folder: {job['key']} failed (job {job['id']}): {job['error']['detail']}"
    report = f"; report {job['report_key']}" if job.get("report_key") else ""
    return (
        f"drop folder: {job['key']} {job['mode']} done (job {job['id']}): {job['rows']:,} rows, "
        f"{job['inserted']:,} inserted, {job['updated']:,} updated, {job['unchanged']:,} unchanged, "
        f"{job['deleted']:,} deleted, {job['invalid']:,} bad{report}"
    )


# ---------------------------------------------------------------------------------------------------- marquee run


class DropFolderService:
    """`marquee run`'s watcher: polls every `interval` seconds in a thread; files go to IngestFunction in its
    local execution environment (the template's environment), as S3 events do in AWS."""

    name = "drop folder"

    def __init__(self, run: RunContext, *, interval: float = 1.0) -> None:
        self.run = run
        self.root = configure(run.home)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.run.lambdas.invoke_threadsafe(FUNCTION, event)
        return result

    def start(self) -> None:
        watcher = DropFolderWatcher(self.root, self._invoke, report=self.run.log)

        def poll() -> None:
            while not self._stop.is_set():
                watcher.scan()
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=poll, name="drop-folder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def describe(self) -> list[str]:
        return [f"Uploads    {self.root / INCOMING}/  (drop CSVs; replace/, replace-all/, validate/ for those modes)"]


def service(run: RunContext) -> DropFolderService:
    return DropFolderService(run)


# ---------------------------------------------------------------------------------------------------- marquee ingest


def cmd_ingest(args: argparse.Namespace) -> int:
    from movie_common.db import ingest_jobs, usage
    from movie_common.migrations import migrate

    source = Path(args.file)
    if not source.is_file():
        print(f"marquee ingest: {source} is not a file", file=sys.stderr)
        return 2
    database = stack.open_database()
    stack.configure_environment(database.url)
    uploads = configure(stack.marquee_home())
    with stack.connect_admin(database.url) as conn:
        migrate(conn)
        usage.ensure_partitions(conn)
    metadata = {"origin": "cli", "requested-by": "marquee ingest"}
    if args.delimiter:
        metadata["delimiter"] = args.delimiter
    if args.encoding:
        metadata["encoding"] = args.encoding
    key = place_upload(source, uploads, mode=args.mode, keep_tmdb=not args.drop_tmdb, metadata=metadata)
    _logs_to_stderr()
    result = invoke_in_process(upload_event(uploads, key))
    if not result["jobs"]:
        print(f"marquee ingest: {key} could not be read from {uploads}", file=sys.stderr)
        return 1
    with stack.connect_admin(database.url) as conn:
        job = ingest_jobs.get_job(conn, job_id=result["jobs"][0]["id"], errors_limit=args.max_errors)
    if job is None:  # the handler just reported it; only a concurrent delete could do this
        print("marquee ingest: the job vanished", file=sys.stderr)
        return 1
    output = job.as_dict()
    output["ran"] = result["jobs"][0]["ran"]  # False: this very content was ingested before (that job is shown)
    output["errors_truncated"] = job.error_count > len(job.errors)
    if job.report_key:
        output["report"] = str(uploads / job.report_key)
    print(json.dumps(output, ensure_ascii=False, indent=2))
    return 0 if job.status == "done" else 1


def _logs_to_stderr() -> None:
    """IngestFunction's Powertools logger writes JSON lines to stdout, as in Lambda; here stdout holds the job."""
    from movie_ingest.handler import logger

    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.stream = sys.stderr  # not setStream: it flushes the old stream, which may be closed


def register(commands: Any) -> None:
    """`marquee ingest FILE [--mode upsert|replace|validate]`."""
    ingest = commands.add_parser(
        "ingest",
        help="ingest a CSV through IngestFunction's handler and print the job as JSON (exit 1 when it fails)",
        description="Copies FILE into the drop folder ($MARQUEE_HOME/uploads/incoming/, in the mode's subfolder) and "
        "runs IngestFunction's handler on it with an S3-shaped event. The same file content under the same name is "
        "ingested once; the job it made is printed again.",
    )
    ingest.add_argument("file", help="a CSV file (.csv, .tsv, .txt; gzip allowed)")
    ingest.add_argument("--mode", choices=("upsert", "replace", "validate"), default="upsert")
    ingest.add_argument(
        "--drop-tmdb", action="store_true", help="replace mode: delete rows that came from TMDB too (kept otherwise)"
    )
    ingest.add_argument("--delimiter", help="comma, semicolon, tab or pipe (default: sniffed)")
    ingest.add_argument("--encoding", help="a Python codec name such as cp1252 (default: detected)")
    ingest.add_argument("--max-errors", type=int, default=1000, help="reported rows to print (all are in the report)")
    ingest.set_defaults(func=cmd_ingest)
