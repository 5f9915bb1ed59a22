"""The one-machine stand-in for the uploads bucket: `$MARQUEE_HOME/uploads/incoming/` is watched by `marquee run`
(a service: see marquee_local.run), and a file placed there is ingested by IngestFunction, in its local execution
environment, with an S3-shaped ObjectCreated event from the event toolkit, as S3 would send it in AWS."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from marquee_local import events, first_start, stack
from marquee_local.lambda_context import LocalLambdaContext
from marquee_local.run import RunContext

INCOMING = "incoming"
FUNCTION = "IngestFunction"
# Files still being written, or that are not uploads (editors' and downloaders' temporary names).
_IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".swp", "~")

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def configure(home: Path) -> Path:
    """Make the drop folder and its mode subfolders (the banner and the README name them: a `cp` into a missing
    `replace/` makes a file of that name instead); returns the uploads folder (IngestFunction reads
    UPLOADS_LOCAL_ROOT, which stack.configure_environment sets). Uploads and their error reports are their owner's
    only, like the outbox and the demo key: these folders are made, or put back, 0700 (the files written there are
    0600: movie_ingest.storage.LocalFolderStore)."""
    from movie_ingest.storage import PRIVATE_FOLDER, private_folder

    root = stack.uploads_root(home)
    modes = [root / INCOMING / name for name in ("replace", "replace-all", "validate")]
    for folder in modes:
        private_folder(folder)
    for folder in (root, root / INCOMING, root / "reports", *modes):
        if folder.is_dir() and not folder.is_symlink() and folder.stat().st_mode & 0o077:
            folder.chmod(PRIVATE_FOLDER)  # a tree made by an earlier version, open to other users
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
    from movie_ingest.storage import LocalFolderStore, write_metadata

    folder = {"upsert": "", "validate": "validate/", "replace": "replace/" if keep_tmdb else "replace-all/"}[mode]
    key = f"{INCOMING}/{folder}{source.name}"
    store = LocalFolderStore(root)
    if source.resolve() == store.path(key):  # already where it belongs: only its metadata changes
        write_metadata(source.resolve(), metadata)
    else:
        with source.open("rb") as content:
            store.put_object(key, content, metadata=metadata)
    return key


@dataclass
class _Seen:
    size: int
    mtime_ns: int


class DropFolderWatcher:
    """Polls the drop folder; a file whose size and modification time held still for one poll, and that no process
    holds open for writing, is ingested once.

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
            if not _is_utf8(key):  # an S3 key is UTF-8: this name cannot be one (said once per content)
                self._done[key] = seen
                self.report(f"drop folder: {key!r}: the file name is not UTF-8; rename the file to ingest it")
                continue
            if self._pending.get(key) != seen:
                self._pending[key] = seen  # still being written, perhaps: wait one poll
                continue
            if _open_for_writing(path):  # a copy that stalled: its size holds still, but its writer is not done
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


_WRITING_MODES = frozenset(("w", "a", "r+", "w+", "a+"))


def _open_for_writing(path: Path) -> bool:
    """Whether a process this user may inspect holds `path` open for writing (psutil reads /proc on Linux; where a
    platform reports no modes, only the size check applies)."""
    target = str(path.resolve())
    for process in psutil.process_iter():
        try:
            files = process.open_files()
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        if any(f.path == target and getattr(f, "mode", None) in _WRITING_MODES for f in files):
            return True
    return False


def _is_utf8(name: str) -> bool:
    """False for a name whose bytes are not UTF-8 (Python holds those as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
            if not first_start.wait_for_catalogue(self.run, self._stop):  # files dropped meanwhile wait for it
                return
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
