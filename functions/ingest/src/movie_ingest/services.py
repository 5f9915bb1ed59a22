"""Ingest use cases (IngestFunction, `marquee ingest`, the drop folder, the admin upload): read, validate, load.

A job reads its file once, start to end, in constant memory: records are checked by the shared movie rules
(movie_common.movie_rules) as they stream by; valid rows are COPYed into a staging table in batches (each batch also
updates the job's progress); bad rows are spooled to a temporary file. Then the staged rows are merged into the
catalogue in one transaction (movie_common.db.movies.merge_staged), and the reported rows are stored with the job.
A job that fails, whatever the reason, changes nothing in the catalogue; it records why.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import heapq
import io
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from movie_common import movie_rules
from movie_common.database import Connection
from movie_common.db import ingest_jobs as jobs
from movie_common.db import movies
from movie_common.db.ingest_jobs import Counts, IngestJob, RowError
from movie_common.errors import (
    DatabaseUnavailableError,
    EmptyFileError,
    IngestFileError,
    MarqueeError,
    MissingTitleColumnError,
    TooManyBadRowsError,
    UploadAlreadyUsedError,
    UploadGoneError,
)
from movie_common.ingest_uploads import cut_file_name, write_report
from movie_ingest import columns, reading, storage
from movie_ingest.settings import IngestSettings, ingest_settings

MODES = jobs.MODES


@dataclass(frozen=True)
class FileOptions:
    """How to read a file when detection is not wanted: a delimiter (`,` `;` `tab` `|`) and a Python codec name."""

    delimiter: str | None = None
    encoding: str | None = None


def read_options(options: FileOptions) -> str:
    """The options as part of a job's identity (claim_object_job): `delimiter=semicolon encoding=cp1252`, '' when the
    file is read by detection. Names are canonical when they are known (`;` and `semicolon`, `latin-1` and `latin1`
    are one option); an unknown one is kept as given (its job fails and says why; a corrected one is another)."""
    parts = []
    if options.delimiter:
        try:
            parts.append(f"delimiter={reading.DELIMITERS[reading.delimiter_from_name(options.delimiter)]}")
        except IngestFileError:
            parts.append(f"delimiter={options.delimiter!r}")
    if options.encoding:
        try:
            parts.append(f"encoding={reading.encoding_from_name(options.encoding)}")
        except IngestFileError:
            parts.append(f"encoding={options.encoding!r}")
    return " ".join(parts)


class _Spool:
    """Reported rows kept in a temporary file (constant memory), in the order they were added, up to `cap`."""

    def __init__(self, cap: int) -> None:
        self._file: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115 - closed
        self._writer = csv.writer(self._file)
        self._cap = cap
        self.count = 0  # every row added
        self.kept = 0  # rows written (at most cap)

    def add(self, error: RowError) -> None:
        self.count += 1
        if self.kept < self._cap:
            value = None if error.value is None else error.value[: jobs.MAX_VALUE_CHARS]
            self._writer.writerow(
                (
                    "" if error.line is None else error.line,
                    error.column or "",
                    value or "",
                    error.reason,
                    error.code,
                    "" if value is None else "1",
                )
            )
            self.kept += 1

    def __iter__(self) -> Iterator[RowError]:
        self._file.flush()
        self._file.seek(0)
        for line, column, value, reason, code, has_value in csv.reader(self._file):
            yield RowError(int(line) if line else None, column or None, value if has_value else None, reason, code)

    def close(self) -> None:
        self._file.close()


@dataclass
class _Progress:
    rows: int = 0
    valid: int = 0
    invalid: int = 0

    def counts(self) -> Counts:
        return Counts(rows=self.rows, valid=self.valid, invalid=self.invalid)


def _check_share(progress: _Progress, *, mode: str, settings: IngestSettings, refused: int = 0) -> None:
    """Refuse an empty file, and in replace mode a file whose bad rows (those the reading found, and `refused`: rows
    the merge's plan refuses against the catalogue) are more than the bad-row share."""
    if progress.rows == 0:
        raise EmptyFileError("The file has a header row but no data rows; nothing was changed.")
    if mode != "replace":
        return
    if progress.valid - refused <= 0:
        raise TooManyBadRowsError(
            f"None of the {progress.rows:,} rows is valid: the catalogue was not replaced; nothing was changed."
        )
    bad = progress.invalid + refused
    share = bad / progress.rows
    if share > settings.max_bad_row_share:
        raise TooManyBadRowsError(
            f"{bad:,} of {progress.rows:,} rows ({share:.1%}) are bad; replace mode accepts at most "
            f"{settings.max_bad_row_share:.0%}. Fix the rows listed in the report and upload again; "
            "nothing was changed."
        )


def _share_allows(progress: _Progress, *, mode: str, settings: IngestSettings) -> Callable[[int], bool]:
    """For merge_staged: whether the rows its plan refuses still keep the file within the bad-row share."""

    def allows(refused: int) -> bool:
        try:
            _check_share(progress, mode=mode, settings=settings, refused=refused)
        except TooManyBadRowsError:
            return False
        return True

    return allows


MAX_ROWS_ABOVE_HEADER = 10  # rows a file may hold above its header (a sheet's title line, a list's description)
_LETTERBOXD_LIST = "letterboxd list export"  # the first line of a Letterboxd list's export (`... v7`)


def _map_header(table: reading.CsvTable, warnings: list[str]) -> columns.ColumnMap:
    """The file's columns, from its first row that is not blank or, when that row names no title column, from the
    first of the next MAX_ROWS_ABOVE_HEADER rows that does: a sheet's title above the header (`My films,,`) as
    spreadsheets export it. A Letterboxd list's export opens with its own description (`Letterboxd list export v7`,
    `Date,Name,Tags,URL,Description`, the list's row), then the films' header (`Position,Name,Year,URL,...`): the
    description is passed over whatever it names. The rows passed over are said in a warning.
    Raises MissingTitleColumnError (the first row's) when no row within reach names a title column."""
    first_line, first_row = table.header_line, table.header
    letterboxd_list = bool(first_row) and first_row[0].casefold().startswith(_LETTERBOXD_LIST)
    if letterboxd_list:
        for _ in range(3):  # past the marker: the list's header, the list's row, then the films' header
            if not table.next_header():
                raise MissingTitleColumnError(
                    "This is a Letterboxd list export without its films: after the list's own rows there is no "
                    "header row (Position, Name, Year, URL...)."
                )
        mapping = columns.map_columns(table.header, list_notes=True)
        return _passed_over(mapping, table, first_line, first_row, warnings)
    try:
        return columns.map_columns(table.header)
    except MissingTitleColumnError as missing:
        for _ in range(MAX_ROWS_ABOVE_HEADER):
            if not table.next_header():
                break
            try:
                mapping = columns.map_columns(table.header)
            except MissingTitleColumnError:
                continue
            return _passed_over(mapping, table, first_line, first_row, warnings)
        raise MissingTitleColumnError(
            f"{missing.detail} Nor does any of the {MAX_ROWS_ABOVE_HEADER} rows below it (a header further down, "
            "under a title line, is found there)."
        ) from None


def _passed_over(
    mapping: columns.ColumnMap, table: reading.CsvTable, first_line: int, first_row: list[str], warnings: list[str]
) -> columns.ColumnMap:
    shown = reading.escape_controls(", ".join(cell for cell in first_row if cell), limit=60)
    last = table.header_line - 1
    above = f"line {first_line} above it was" if last == first_line else f"lines {first_line} to {last} above it were"
    warnings.append(f"The header row is line {table.header_line}; {above} not read as movies (from {shown!r})")
    return mapping


def _read_into_staging(
    conn: Connection,
    job: IngestJob,
    stream: Any,
    *,
    options: FileOptions,
    settings: IngestSettings,
    spool: _Spool,
    progress: _Progress,
    warnings: list[str],
) -> tuple[columns.ColumnMap, reading.TextSource]:
    """Read the file into movie_staging; bad records and rows go to the spool. Raises IngestFileError subclasses."""
    source = reading.open_text(stream, encoding=options.encoding)
    table = reading.CsvTable.open(source, delimiter=options.delimiter, max_record_chars=settings.max_record_chars)
    mapping = _map_header(table, warnings)
    mapping = _with_date_order(mapping, source, table.delimiter, warnings)
    jobs.record_format(
        conn,
        job_id=job.id,
        encoding=source.encoding_label,
        delimiter=reading.DELIMITERS[table.delimiter],
        columns={field: list(names) for field, names in mapping.names.items()},
        unknown_columns=list(mapping.unknown),
    )
    movies.create_staging(conn)
    batch: list[movie_rules.MovieRow] = []
    title_column = mapping.column_of("title")
    try:
        for record in table.records():
            if isinstance(record, reading.BadRecord) and record.code == "repeated_header":
                # Not a row of the file's data (not counted, nor in a replace's share of bad rows), but reported.
                spool.add(RowError(record.line, record.cells[0][0], record.cells[0][1], record.reason, record.code))
                continue
            progress.rows += 1
            if isinstance(record, reading.BadRecord):
                progress.invalid += 1
                for column, value in record.cells or ((None, None),):
                    spool.add(RowError(record.line, column, value, record.reason, record.code))
            else:
                check = movie_rules.check_movie(mapping.values(record.fields), source="csv", line=record.line)
                if check.movie is None:
                    progress.invalid += 1
                    for error in check.errors:
                        column = title_column if error.field == "title" else mapping.column_of(error.field)
                        spool.add(RowError(record.line, column, error.value, error.message, error.code))
                else:
                    progress.valid += 1
                    batch.append(check.movie)
            if len(batch) >= settings.batch_rows or (progress.rows % settings.batch_rows == 0):
                if batch:
                    movies.stage_movies(conn, batch)
                    batch.clear()
                jobs.record_progress(conn, job_id=job.id, counts=progress.counts(), bytes_read=source.bytes_read)
    except (OSError, EOFError, zlib.error) as error:
        # Raised by gzip (or the stream) while reading: the file is damaged past the part already read.
        raise IngestFileError(
            f"The file could not be read past line {table.lines_read:,}: {error}. Nothing was changed."
        ) from None
    if batch:
        movies.stage_movies(conn, batch)
    for number, (count, first_line) in sorted(table.unnamed_values.items()):
        warnings.append(
            f"Column {number} has no name in the header row but holds values in {count:,} rows (the first on line "
            f"{first_line:,}); no field reads it: name it (title, year, director...) to load them"
        )
    if source.utf8_letters:
        warnings.append(
            f"{source.utf8_letters:,} letters or marks of this Windows-1252 file were written in UTF-8 and were read "
            "as UTF-8 (a file saved from two encodings); check accented letters in the rows they are in"
        )
    if source.fallback_bytes:
        warnings.append(
            f"{source.fallback_bytes:,} bytes were not valid UTF-8 and were read as Windows-1252 "
            "(a file saved from two encodings); check accented letters in the rows they are in"
        )
    return mapping, source


def _with_date_order(
    mapping: columns.ColumnMap, source: reading.TextSource, delimiter: str, warnings: list[str]
) -> columns.ColumnMap:
    """Read numeric release dates whose day and month could be either way round (`03/04/2001`) in the order the
    file's other dates in its first SAMPLE_BYTES show (`23/04/2001` is day first), and say so in a warning."""
    positions = mapping.positions.get("release_date")
    if not positions:
        return mapping
    at = positions[0]
    try:
        records = list(csv.reader(io.StringIO(source.sample), delimiter=delimiter))[1:]
    except csv.Error:  # the records themselves are read, and reported, by CsvTable
        return mapping
    if records and not source.sample_complete:
        records.pop()  # the sample may end inside its last record
    dates = [r[at] for r in records if at < len(r)]
    order = columns.infer_date_order(dates)
    if order is None:
        return mapping
    # The warning names a date of the file that shows the order: it used to name 03/04/2001 whatever the file held.
    shown_by = columns.date_order_evidence(dates, order)
    warnings.append(
        f"Dates in {mapping.column_of('release_date')} whose day and month could be either way round (03/04/2001) "
        f"were read {'day' if order == 'dmy' else 'month'} first, as the file's {shown_by} shows"
    )
    return dataclasses.replace(mapping, date_order=order)


def run_job(
    conn: Connection,
    job: IngestJob,
    stream: Any,
    *,
    options: FileOptions | None = None,
    settings: IngestSettings | None = None,
) -> IngestJob:
    """Run one job on `stream` (any object with `.read(n)` returning bytes) and return it finished.

    The job's mode decides the load: `upsert` merges the valid rows into the catalogue, `replace` makes them the
    whole catalogue (rows from TMDB stay unless the job says otherwise; refused above the bad-row share), and
    `validate` writes nothing but reports what an upsert would do. File-level problems (empty, not text, no title
    column, too many bad rows in replace mode, a busy catalogue) end the job as `failed` with a problem code and
    detail, and change nothing. DatabaseUnavailableError propagates when even the failure cannot be recorded.
    """
    options = options or FileOptions()
    settings = settings or ingest_settings()
    jobs.start_job(conn, job_id=job.id)
    spool = _Spool(settings.max_reported_errors)
    notices = _Spool(settings.max_reported_errors)
    progress = _Progress()
    warnings: list[str] = []
    result = movies.UpsertResult()
    failure: MarqueeError | None = None
    bytes_read = 0
    conn.execute("SET statement_timeout = 0")  # bulk work: never under the request-path timeout
    try:
        try:
            mapping, source = _read_into_staging(
                conn,
                job,
                stream,
                options=options,
                settings=settings,
                spool=spool,
                progress=progress,
                warnings=warnings,
            )
            bytes_read = source.bytes_read
            _check_share(progress, mode=job.mode, settings=settings)
            jobs.mark_loading(conn, job_id=job.id, counts=progress.counts(), bytes_read=bytes_read)
            try:
                result = movies.merge_staged(
                    conn,
                    replace=job.mode == "replace",
                    keep_tmdb=job.keep_tmdb,
                    dry_run=job.mode == "validate",
                    lock_timeout_ms=settings.lock_timeout_ms,
                    attempts=settings.lock_attempts,
                    refused_ok=_share_allows(progress, mode=job.mode, settings=settings),
                )
            except movies.TooManyRefusedError as refused:  # nothing written; the plan's refusals are reported
                result = movies.UpsertResult(refused=refused.refused, merged=refused.merged)
                try:
                    _check_share(progress, mode=job.mode, settings=settings, refused=refused.refused)
                except TooManyBadRowsError as error:
                    failure = error
            for notice in movies.iter_notices(conn):
                value = notice.title if notice.value is None else notice.value
                notices.add(RowError(notice.line, mapping.column_of(notice.field), value, notice.reason, notice.code))
        except MarqueeError as error:
            if isinstance(error, DatabaseUnavailableError):
                raise
            failure = error
        counts = Counts(
            rows=progress.rows,
            valid=progress.valid - result.refused,
            invalid=progress.invalid + result.refused,
            duplicates=result.merged,
            inserted=result.inserted,
            updated=result.updated,
            unchanged=result.unchanged,
            deleted=result.deleted,
        )
        reported = spool.count + notices.count
        if spool.kept + notices.kept < reported:
            warnings.append(
                f"{reported:,} rows were reported; the report keeps the first {settings.max_reported_errors:,} "
                "of each kind"
            )
        stored = jobs.add_errors(
            conn,
            job_id=job.id,
            errors=heapq.merge(spool, notices, key=lambda e: e.line or 0),
        )
        jobs.finish_job(
            conn,
            job_id=job.id,
            counts=counts,
            error_count=stored,
            warnings=warnings,
            error_code=failure.code if failure else None,
            error_detail=failure.detail if failure else None,
        )
    except Exception as error:
        _record_crash(conn, job, error)
        raise
    finally:
        spool.close()
        notices.close()
        _cleanup(conn)
    finished = jobs.get_job(conn, job_id=job.id)
    if finished is None:  # the row was there a moment ago; only a concurrent delete could do this
        raise DatabaseUnavailableError("The ingest job vanished while it ran.")
    return finished


def _cleanup(conn: Connection) -> None:
    if conn.closed or conn.broken:
        return
    try:
        movies.drop_staging(conn)
        conn.execute("RESET statement_timeout")
    except MarqueeError:
        pass


def _record_crash(conn: Connection, job: IngestJob, error: Exception) -> None:
    """Mark a job failed after an unexpected error, if the database still answers (the error is re-raised)."""
    if isinstance(error, DatabaseUnavailableError) or conn.closed or conn.broken:
        return
    with contextlib.suppress(Exception):  # the original error is what matters; the caller re-raises it
        jobs.finish_job(
            conn,
            job_id=job.id,
            counts=Counts(),
            error_count=0,
            warnings=[],
            error_code="internal_error",
            error_detail="The job stopped on an unexpected error (see the function's log); nothing was changed.",
        )


def ingest_path(
    conn: Connection,
    path: Path,
    *,
    mode: str = "upsert",
    origin: str = "cli",
    keep_tmdb: bool = True,
    options: FileOptions | None = None,
    requested_by: str | None = None,
    settings: IngestSettings | None = None,
) -> IngestJob:
    """Create a job for a local file and run it (`marquee ingest`, the bundled catalogue, tests)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    job = jobs.create_job(
        conn,
        mode=mode,
        origin=origin,
        keep_tmdb=keep_tmdb,
        file_name=path.name,
        size_bytes=path.stat().st_size,
        requested_by=requested_by,
        read_options=read_options(options) if options is not None else "",
    )
    jobs.take_lease(conn, job_id=job.id)  # a new job: no other session knows it yet
    try:
        with path.open("rb") as stream:
            return run_job(conn, job, stream, options=options, settings=settings)
    finally:
        jobs.release_lease(conn, job_id=job.id)


# ---------------------------------------------------------------------------------------------------- uploads

REPORT_PREFIX = "reports/"
REPORT_CONTENT_TYPE = "text/csv; charset=utf-8"
_PREFIX_MODES = {"upsert": ("upsert", True), "replace": ("replace", True), "validate": ("validate", True)}
_PREFIX_MODES["replace-all"] = ("replace", False)


@dataclass(frozen=True)
class UploadInstructions:
    """How to ingest one uploaded object: from its key (`incoming/<mode>/...`) and its metadata (which wins)."""

    mode: str = "upsert"
    keep_tmdb: bool = True
    options: FileOptions = FileOptions()
    origin: str | None = None
    requested_by: str | None = None


def _flag(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise IngestFileError(f"The object's {name} metadata must be true or false, got {raw!r}.")


def instructions_for(key: str, metadata: dict[str, str]) -> UploadInstructions:
    """Read a key's mode folder and the object's metadata (x-amz-meta-mode, -keep-tmdb, -delimiter, -encoding,
    -origin, -requested-by). `incoming/replace/x.csv` replaces keeping TMDB rows; `incoming/replace-all/x.csv`
    replaces them too; `incoming/validate/x.csv` is a dry run; any other key under incoming/ is an upsert.
    IngestFileError for metadata that names an unknown mode or is not true/false where it must be."""
    parts = key.split("/")
    mode, keep_tmdb = "upsert", True
    if len(parts) > 2 and parts[0] == "incoming":
        mode, keep_tmdb = _PREFIX_MODES.get(parts[1].lower(), (mode, keep_tmdb))
    if "mode" in metadata:
        mode = metadata["mode"].strip().lower()
        if mode not in MODES:
            raise IngestFileError(f"Unknown mode {metadata['mode']!r}: use upsert, replace or validate.")
    if "keep-tmdb" in metadata:
        keep_tmdb = _flag("keep-tmdb", metadata["keep-tmdb"])
    origin = metadata.get("origin")
    return UploadInstructions(
        mode=mode,
        keep_tmdb=keep_tmdb,
        options=FileOptions(delimiter=metadata.get("delimiter") or None, encoding=metadata.get("encoding") or None),
        origin=origin if origin in jobs.ORIGINS else None,
        requested_by=metadata.get("requested-by") or None,
    )


REPORT_NAME_BYTES = 200  # the upload's name in its report's: with `.job-<id>.errors.csv`, a file name that fits 255


def report_key(key: str, job_id: int) -> str:
    """Where a job's error report goes, beside its upload: `reports/<upload key>.job-<id>.errors.csv` (outside
    incoming/, so writing it triggers no ingest); an upload name longer than REPORT_NAME_BYTES of UTF-8 is cut
    before its suffix, so that the report's name is one a local file may have."""
    folder, slash, name = key.rpartition("/")
    return f"{REPORT_PREFIX}{folder}{slash}{cut_file_name(name, REPORT_NAME_BYTES)}.job-{job_id}.errors.csv"


@dataclass(frozen=True)
class ObjectOutcome:
    """What became of one uploaded object: its job, and whether this call ran it (False: already processed)."""

    job: IngestJob
    ran: bool


def _upload_already_used(grant: IngestJob) -> str:
    by = f" by {grant.requested_by}" if grant.requested_by else ""
    return (
        f"The upload form requested{by} for job {grant.id} was already used for a file; one upload form brings one "
        "file. This other file, sent with the same form under the same key, was not read and changed nothing: "
        "request a new upload for it."
    )


def ingest_object(
    conn: Connection,
    store: storage.ObjectStore,
    *,
    bucket: str,
    key: str,
    version_id: str | None,
    etag: str | None,
    size: int | None = None,
    default_origin: str = "s3",
    instructions: UploadInstructions | None = None,
    settings: IngestSettings | None = None,
) -> ObjectOutcome | None:
    """Ingest one object version once (the S3 handler, the drop folder and `marquee ingest` come here).

    The same (bucket, key, version id or ETag) delivered again with the same reading options (its delimiter and
    encoding metadata) finds its job and does not run it (ran=False); with other options (a wrong delimiter or
    encoding corrected, the content unchanged) it is a job of its own, and runs.
    After a run with reported rows, the error report is written beside the upload (report_key). Returns None
    when the object is gone before it could be read (nothing to do).
    """
    settings = settings or ingest_settings()
    try:
        found = store.head(bucket, key, version_id=version_id)
    except storage.ObjectMissingError:
        return None
    identity = version_id or etag or found.etag
    problem: IngestFileError | None = None
    try:
        chosen = instructions or instructions_for(key, found.metadata)
    except IngestFileError as error:
        chosen, problem = UploadInstructions(), error
    claim = jobs.claim_object_job(
        conn,
        bucket=bucket,
        object_key=key,
        object_version=identity,
        mode=chosen.mode,
        origin=chosen.origin or default_origin,
        keep_tmdb=chosen.keep_tmdb,
        file_name=key.rsplit("/", 1)[-1],
        size_bytes=size if size is not None else found.size,
        requested_by=chosen.requested_by,
        etag=etag or found.etag,
        refused_detail=_upload_already_used,
        refused_code=UploadAlreadyUsedError.code,
        # Unusable metadata fails the job and says why; corrected metadata is then a job of its own, as are other
        # reading options.
        read_options=read_options(chosen.options) if problem is None else f"unusable metadata: {problem.detail}",
    )
    if not claim.run:
        job = claim.job
        if job.status == "done" and job.error_count and job.report_key is None and job.bucket == bucket:
            # Its run ended but the report's write failed (the event is then retried): write it now.
            job = _write_report(conn, store, job, bucket=bucket, key=key)
        return ObjectOutcome(job, ran=False)
    try:  # the claim holds the job's lease while it runs
        return _run_claimed(
            conn,
            store,
            claim.job,
            found,
            bucket=bucket,
            key=key,
            version_id=version_id,
            etag=etag,
            problem=problem,
            chosen=chosen,
            settings=settings,
        )
    finally:
        jobs.release_lease(conn, job_id=claim.job.id)


def _run_claimed(
    conn: Connection,
    store: storage.ObjectStore,
    claimed: IngestJob,
    found: storage.StoredObject,
    *,
    bucket: str,
    key: str,
    version_id: str | None,
    etag: str | None,
    problem: IngestFileError | None,
    chosen: UploadInstructions,
    settings: IngestSettings,
) -> ObjectOutcome:
    """Run a claimed job on its object (or fail it with `problem`), then write its error report."""
    wanted = storage.StoredObject(bucket, key, found.size, (etag or found.etag).strip('"'), version_id, found.metadata)
    try:
        if problem is not None:
            raise problem
        try:
            body = store.open(wanted)
        except storage.ObjectMissingError:
            raise UploadGoneError(
                "The object changed or went away before it could be read; a newer upload is a job of its own."
            ) from None
    except IngestFileError as error:
        jobs.start_job(conn, job_id=claimed.id)
        jobs.finish_job(
            conn,
            job_id=claimed.id,
            counts=Counts(),
            error_count=0,
            warnings=[],
            error_code=error.code,
            error_detail=error.detail,
        )
        return ObjectOutcome(_reload(conn, claimed.id), ran=True)
    try:
        job = run_job(conn, claimed, body, options=chosen.options, settings=settings)
    finally:
        body.close()
    if job.error_count:
        job = _write_report(conn, store, job, bucket=bucket, key=key)
    return ObjectOutcome(job, ran=True)


def _write_report(conn: Connection, store: storage.ObjectStore, job: IngestJob, *, bucket: str, key: str) -> IngestJob:
    """Write the job's error report beside its upload (report_key), then record where; returns the job reloaded.
    A failed write raises (the event is retried, and the retry writes it: ingest_object)."""
    target = report_key(key, job.id)
    with tempfile.SpooledTemporaryFile(max_size=4 << 20, mode="w+b") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        write_report(conn, job_id=job.id, out=text)
        text.flush()
        text.detach()
        raw.seek(0)
        store.put(bucket, target, raw, content_type=REPORT_CONTENT_TYPE)
    jobs.set_report_key(conn, job_id=job.id, report_key=target)
    return _reload(conn, job.id)


def _reload(conn: Connection, job_id: int) -> IngestJob:
    job = jobs.get_job(conn, job_id=job_id)
    if job is None:
        raise DatabaseUnavailableError("The ingest job vanished while it ran.")
    return job
