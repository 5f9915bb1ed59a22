"""The one-machine stand-in for the uploads bucket: `$MARQUEE_HOME/uploads/incoming/` is watched, and a file placed
there is ingested by IngestFunction's real handler with an S3-shaped ObjectCreated event, as in AWS."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from marquee_local.lambda_context import LocalLambdaContext

REPO_ROOT = Path(__file__).resolve().parents[2]
EVENT_TEMPLATE = REPO_ROOT / "functions" / "ingest" / "events" / "object_created.json"
INCOMING = "incoming"
# Files still being written or that are not uploads (editors' and downloaders' temporary names).
_IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".swp", "~")


def uploads_root(home: Path) -> Path:
    return home / "uploads"


def configure(home: Path) -> Path:
    """Point IngestFunction's settings at the local uploads folder (as template.yaml points them at the bucket),
    and make the drop folder. Returns the uploads folder."""
    root = uploads_root(home)
    (root / INCOMING).mkdir(parents=True, exist_ok=True)
    os.environ["UPLOADS_LOCAL_ROOT"] = str(root)
    return root


def object_created_event(bucket: str, key: str, *, size: int, etag: str) -> dict[str, Any]:
    """An S3 ObjectCreated:Put event for one object, shaped like functions/ingest/events/object_created.json (the
    key URL-encoded as S3 sends it; no version id, as in an unversioned bucket, so the ETag identifies content)."""
    event: dict[str, Any] = json.loads(EVENT_TEMPLATE.read_text(encoding="utf-8"))
    record = event["Records"][0]
    record["s3"]["bucket"].update(name=bucket, arn=f"arn:aws:s3:::{bucket}")
    record["s3"]["object"] = {"key": quote_plus(key, safe="/"), "size": size, "eTag": etag, "sequencer": "0"}
    return event


def invoke_ingest(key: str, root: Path) -> dict[str, Any]:
    """Run IngestFunction's handler on the object `key` of the local uploads folder; returns the handler's result."""
    from movie_ingest import storage
    from movie_ingest.handler import handler
    from movie_ingest.settings import LOCAL_BUCKET

    path = root / key
    event = object_created_event(LOCAL_BUCKET, key, size=path.stat().st_size, etag=storage.file_etag(path))
    result: dict[str, Any] = handler(event, LocalLambdaContext(function_name="IngestFunction", timeout_seconds=900))
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


class DropFolderWatcher(threading.Thread):
    """Polls the drop folder; a file whose size and modification time held still for one poll is ingested once.

    Files already ingested in an earlier run are handed over again at start and recognised by their job (same key
    and content), so nothing is loaded twice. A file changed in place is new content, hence a new job.
    """

    def __init__(self, root: Path, *, interval: float = 1.0, report: Callable[[str], None] = print) -> None:
        super().__init__(name="drop-folder", daemon=True)
        self.root = root
        self.interval = interval
        self.report = report
        self._pending: dict[str, _Seen] = {}
        self._done: dict[str, _Seen] = {}
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while not self._stop.is_set():
            self.scan()
            self._stop.wait(self.interval)

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
                result = invoke_ingest(key, self.root)
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
