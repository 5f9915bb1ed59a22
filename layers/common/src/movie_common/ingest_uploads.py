"""The admin portal's CSV upload screen, framework-free (AdminFunction's routes call it): a queued job with a
presigned upload for it, pages of jobs, one job with its reported rows, and the error report as CSV.

Presigning is handed in (`UploadPresigner`, `DownloadSigner`; S3UploadPresigner over a boto3 S3 client, which the
caller makes: boto3 stays in the functions that call AWS). The upload lands under incoming/, where IngestFunction's
S3 event finds the queued job by its key and runs it (movie_common.db.ingest_jobs.claim_object_job). On one machine
the same client talks to `marquee run`'s S3 stand-in, which writes the upload into the drop folder.
"""

from __future__ import annotations

import csv
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any, Protocol
from urllib.parse import quote

from movie_common.database import Connection
from movie_common.db import ingest_jobs as jobs
from movie_common.db.ingest_jobs import IngestJob
from movie_common.errors import (
    InvalidParameter,
    JobInterruptedError,
    NotFoundError,
    RequestValidationError,
    UploadNotReceivedError,
)

# The bucket name the one-machine stack's uploads carry (its objects live in $MARQUEE_HOME/uploads, the drop folder's
# parent): in the S3-shaped events of the drop folder, the jobs of the admin portal's uploads, and its S3 stand-in.
LOCAL_BUCKET = "marquee-uploads-local"
UPLOAD_EXPIRES_S = 900
REPORT_LINK_EXPIRES_S = 900
MAX_UPLOAD_BYTES = 2 * 1024**3  # 2 GiB: far beyond the 1,000,000-row budget file (~450 MB)
FILE_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz", ".gz")
# Spreadsheet files people pick instead of the CSV they export: the refusal names the format and says what to do.
SPREADSHEET_SUFFIXES = {
    ".xlsx": "an Excel workbook",
    ".xlsm": "an Excel workbook",
    ".xls": "an old Excel workbook",
    ".ods": "an OpenDocument spreadsheet",
    ".numbers": "a Numbers spreadsheet",
}
MODE_FOLDERS = {("upsert", True): "", ("upsert", False): "", ("validate", True): "validate/"}
MODE_FOLDERS |= {("validate", False): "validate/", ("replace", True): "replace/", ("replace", False): "replace-all/"}
REPORT_COLUMNS = ("line", "column", "value", "reason", "code")
# A file name's UTF-8 bytes, at most. Local objects are files (at most 255 bytes a name on common file systems), and
# beside `<12 hex>-<name>` come its `.<name>.metadata.json` sidecar and its report `<name>.job-<id>.errors.csv`.
MAX_FILE_NAME_BYTES = 150
_KEPT_PUNCTUATION = frozenset("._()+- ")
_KEPT_FORMAT = frozenset("\u200c\u200d")  # zero-width (non-)joiners: part of the spelling of Persian, Indic ... words
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9._()+ -]+")
_SUFFIX = re.compile(r"(?:\.[^.\s]{1,8}){1,2}$")


@dataclass(frozen=True)
class PresignedUpload:
    """How the browser sends the file: a POST of `fields` then the file (S3's presigned POST), or a PUT with
    `headers`; valid for `expires_in` seconds."""

    url: str
    method: str
    fields: dict[str, str]
    headers: dict[str, str]
    expires_in: int


class UploadPresigner(Protocol):
    """Signs one upload of at most `max_bytes` to `key` in `bucket`, carrying `metadata` (x-amz-meta-*)."""

    bucket: str

    def presign(self, *, key: str, metadata: dict[str, str], max_bytes: int, expires_in: int) -> PresignedUpload: ...


class DownloadSigner(Protocol):
    """Signs a short-lived GET of the object `key` in `bucket`, downloaded under the name `file_name`."""

    bucket: str

    def download_url(self, *, key: str, file_name: str, expires_in: int) -> str: ...


class S3UploadPresigner:
    """Presigned POSTs into the uploads bucket (UploadPresigner): the key, the metadata and a size range are signed
    conditions, so the browser can send only that file there; and presigned GETs of its error reports
    (DownloadSigner). `client` is a boto3 S3 client (in AWS the function's role signs; on one machine it points at
    the S3 stand-in of `marquee run` through AWS_ENDPOINT_URL_S3)."""

    def __init__(self, bucket: str, client: Any) -> None:
        self.bucket = bucket
        self.client = client

    def presign(self, *, key: str, metadata: dict[str, str], max_bytes: int, expires_in: int) -> PresignedUpload:
        fields = {f"x-amz-meta-{name}": value for name, value in metadata.items()}
        conditions: list[Any] = [{name: value} for name, value in fields.items()]
        conditions.append(["content-length-range", 1, max_bytes])
        post = self.client.generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in
        )
        return PresignedUpload(
            url=post["url"], method="POST", fields=dict(post["fields"]), headers={}, expires_in=expires_in
        )

    def download_url(self, *, key: str, file_name: str, expires_in: int) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": attachment_disposition(file_name),
                "ResponseContentType": "text/csv; charset=utf-8",
            },
            ExpiresIn=expires_in,
        )
        return url


@dataclass(frozen=True)
class UploadTicket:
    """A queued job and where to upload its file."""

    job: IngestJob
    key: str
    upload: PresignedUpload

    def as_dict(self) -> dict[str, Any]:
        return {
            "job": self.job.as_dict(),
            "key": self.key,
            "upload": {
                "url": self.upload.url,
                "method": self.upload.method,
                "fields": self.upload.fields,
                "headers": self.upload.headers,
                "expires_in": self.upload.expires_in,
            },
        }


def safe_file_name(name: str) -> str:
    """The last path part of a browser's file name, readable and safe in an S3 key, a local file name and a report's
    name: `C:\\Users\\me\\Søren \u2013 東京物語.csv` (an en dash) gives `Søren - 東京物語.csv`.

    Letters, marks and digits of any script are kept (NFC), as are space and `._()+-` (other spaces and dashes
    become ASCII ones); every other character (path separators, control and format characters such as a
    right-to-left override, quotes, `%`, `#`, `?`, `*`, `:`, symbols) becomes `_`, a run of them one `_`. Runs of
    dots become one (no `..`); leading and trailing dots and spaces go (no hidden files). A name longer than
    MAX_FILE_NAME_BYTES bytes of UTF-8 is cut before its suffix (`.csv.gz` stays). Returns "" when nothing is
    left."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    kept = []
    for ch in base:
        category = unicodedata.category(ch)
        if ch in _KEPT_PUNCTUATION or category[0] in "LMN" or ch in _KEPT_FORMAT:
            kept.append(ch)
        else:
            kept.append({"Zs": " ", "Pd": "-"}.get(category, "_"))  # other spaces and dashes as ASCII ones
    text = re.sub(r"\.{2,}", ".", re.sub(r"_{2,}", "_", "".join(kept))).strip(" .")
    return cut_file_name(text, MAX_FILE_NAME_BYTES)


def cut_file_name(name: str, max_bytes: int) -> str:
    """`name` cut to at most `max_bytes` bytes of UTF-8 at a character boundary, before its suffix (`.csv`,
    `.csv.gz`), which stays; a name that fits is returned as is."""
    if len(name.encode()) <= max_bytes:
        return name
    match = _SUFFIX.search(name)
    suffix = match.group() if match and len(match.group().encode()) <= max_bytes // 2 else ""
    stem = name[: len(name) - len(suffix)]
    room = max_bytes - len(suffix.encode())
    stem = stem.encode()[:room].decode("utf-8", errors="ignore").rstrip(" .")
    return stem + suffix


def attachment_disposition(file_name: str) -> str:
    """A Content-Disposition value that downloads under `file_name`: an ASCII `filename` for old clients, and the
    name itself as `filename*` (RFC 6266, UTF-8) when it is not plain ASCII."""
    plain = unicodedata.normalize("NFKD", file_name)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).encode("ascii", "replace").decode()
    plain = _ASCII_UNSAFE.sub("_", plain).strip(" .")
    if plain == file_name:
        return f'attachment; filename="{plain}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def _not_a_csv_reason(name: str) -> str:
    """Why a file name is refused: a spreadsheet is named as one, with how to export the CSV the ingest reads."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = SPREADSHEET_SUFFIXES.get(suffix)
    if kind:
        return (
            f"{name} is {kind} ({suffix}), not a CSV file; save the sheet as CSV (File > Save As or Download, "
            "CSV UTF-8) and upload that"
        )
    return "must name a .csv, .tsv or .txt file (gzip allowed)"


def create_upload(
    conn: Connection,
    presigner: UploadPresigner,
    *,
    mode: str,
    file_name: str,
    requested_by: str,
    keep_tmdb: bool = True,
    expires_in: int = UPLOAD_EXPIRES_S,
) -> UploadTicket:
    """Queue a job for a file the admin is about to upload, and sign its upload.

    The key is `incoming/<mode folder>/<random>-<file name>`, so two uploads of one file never share a key.
    RequestValidationError names the bad parameter: an unknown mode, a file name that is empty or not a CSV
    (.csv, .tsv, .txt, optionally .gz), or keep_tmdb false outside replace mode (where it would mean nothing).
    """
    errors = []
    if mode not in jobs.MODES:
        errors.append(InvalidParameter("mode", "body", "must be upsert, replace or validate"))
    name = safe_file_name(file_name)
    if not name or not name.lower().endswith(FILE_SUFFIXES):
        errors.append(InvalidParameter("file_name", "body", _not_a_csv_reason(name)))
    if not keep_tmdb and mode in ("upsert", "validate"):
        errors.append(InvalidParameter("keep_tmdb", "body", "applies to replace only: an upsert deletes nothing"))
    if errors:
        raise RequestValidationError("The upload cannot be prepared; see each parameter.", errors)
    key = f"incoming/{MODE_FOLDERS[(mode, keep_tmdb)]}{secrets.token_hex(6)}-{name}"
    job = jobs.create_job(
        conn,
        mode=mode,
        origin="upload",
        keep_tmdb=keep_tmdb,
        file_name=name,
        bucket=presigner.bucket,
        object_key=key,
        requested_by=requested_by,
    )
    metadata = {
        "mode": mode,
        "keep-tmdb": "true" if keep_tmdb else "false",
        "origin": "upload",
        "requested-by": requested_by,
    }
    upload = presigner.presign(key=key, metadata=metadata, max_bytes=MAX_UPLOAD_BYTES, expires_in=expires_in)
    return UploadTicket(job, key, upload)


@dataclass(frozen=True)
class JobPage:
    jobs: list[IngestJob]
    page: int
    per_page: int
    total: int

    def as_dict(self) -> dict[str, Any]:
        """TMDB's list envelope, as every list of the API uses."""
        return {
            "page": self.page,
            "per_page": self.per_page,
            "results": [{k: v for k, v in job.as_dict().items() if k != "errors"} for job in self.jobs],
            "total_results": self.total,
            "total_pages": -(-self.total // self.per_page) if self.total else 0,
        }


# An upload form expires after UPLOAD_EXPIRES_S; a file sent at the last moment may take this long to land.
ABANDONED_AFTER_S = UPLOAD_EXPIRES_S + 3600


def close_abandoned_uploads(conn: Connection) -> int:
    """Close as failed (`upload_not_received`) the upload jobs whose file never came; returns how many."""
    return jobs.close_abandoned_uploads(
        conn,
        older_than_s=ABANDONED_AFTER_S,
        code=UploadNotReceivedError.code,
        detail=(
            f"No file arrived within {ABANDONED_AFTER_S // 60} minutes of the upload being requested (the page was "
            "closed or the upload failed). Upload the file again; a file that still arrives is ingested as a new job."
        ),
    )


def close_interrupted(conn: Connection) -> int:
    """Close as failed (`interrupted`) the jobs shown in progress whose run died (a function timeout, a crash, a
    stopped stack: db.ingest_jobs.JOB_LEASE); returns how many. Delivering the file again runs such a job again."""
    again = (
        "Deliver the same file again to run it again (upload it again, or `marquee ingest` it; a drop-folder file "
        "is taken up again when the stack starts)."
    )
    return jobs.close_interrupted(
        conn,
        code=JobInterruptedError.code,
        reading_detail="The job stopped while it read the file: its run ended before it finished (a timeout, a "
        f"crash or a stopped stack), before anything was written. {again}",
        loading_detail="The job stopped while it wrote the catalogue: its run ended before it finished (a timeout, "
        "a crash or a stopped stack). The load is one transaction, so the catalogue holds all of this file's "
        f"changes or none of them. {again}",
    )


def list_jobs(conn: Connection, *, page: int = 1, per_page: int = 20, status: str | None = None) -> JobPage:
    """Jobs newest first, only those in `status` (one of db.ingest_jobs.STATUSES) when given (progress of running
    ones included: rows read so far, bytes read of size_bytes); upload jobs whose file never came, and jobs whose
    run died, are closed first (close_abandoned_uploads, close_interrupted). ValueError for an unknown status."""
    close_abandoned_uploads(conn)
    close_interrupted(conn)
    found, total = jobs.list_jobs(conn, limit=per_page, offset=(page - 1) * per_page, status=status)
    return JobPage(found, page, per_page, total)


def job_with_errors(
    conn: Connection, *, job_id: int, errors_page: int = 1, errors_per_page: int = 100
) -> dict[str, Any]:
    """One job as JSON-ready data with one page of its reported rows (`errors`, `errors_page`, `error_count`).
    NotFoundError when there is no such job."""
    close_abandoned_uploads(conn)
    close_interrupted(conn)
    job = jobs.get_job(conn, job_id=job_id)
    if job is None:
        raise NotFoundError(f"There is no ingest job {job_id}.")
    data = job.as_dict()
    rows = jobs.job_errors(conn, job_id=job_id, limit=errors_per_page, offset=(errors_page - 1) * errors_per_page)
    data["errors"] = [row.as_dict() for row in rows]
    data["errors_page"] = {
        "page": errors_page,
        "per_page": errors_per_page,
        "total_pages": -(-job.error_count // errors_per_page) if job.error_count else 0,
    }
    return data


def write_report(conn: Connection, *, job_id: int, out: IO[str]) -> int:
    """Write the job's reported rows as CSV (line, column, value, reason, code) to `out`, fetched in batches (flat
    memory); returns the rows written. NotFoundError when there is no such job."""
    if jobs.get_job(conn, job_id=job_id) is None:
        raise NotFoundError(f"There is no ingest job {job_id}.")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    n = 0
    for error in jobs.iter_job_errors(conn, job_id=job_id):
        n += 1
        line = "" if error.line is None else error.line
        writer.writerow((line, csv_text(error.column or ""), csv_text(error.value or ""), error.reason, error.code))
    return n


_FORMULA_FIRST = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """A text cell of a CSV an admin opens in a spreadsheet: one that would be read as a formula (=, +, -, @, tab or
    CR first) gets a leading apostrophe, as the admin exports' cells do (marquee_csv_text, migration 0007; OWASP's
    advice on CSV injection). The report quotes the file's own values and column names: whoever made the file."""
    return "'" + value if value.startswith(_FORMULA_FIRST) else value


@dataclass(frozen=True)
class ReportLink:
    """Where to download a job's error report: a short-lived URL, the file name it downloads as, its expiry."""

    job_id: int
    url: str
    file_name: str
    expires_at: datetime
    error_count: int


def report_link(
    conn: Connection, signer: DownloadSigner, *, job_id: int, expires_in: int = REPORT_LINK_EXPIRES_S
) -> ReportLink:
    """A signed download of the error report IngestFunction wrote beside the upload (`reports/...`; CSV with the
    columns line, column, value, reason, code). NotFoundError when there is no such job, when the job reported no
    rows (no report), or when its file sits in another bucket than the signer's."""
    job = jobs.get_job(conn, job_id=job_id)
    if job is None:
        raise NotFoundError(f"There is no ingest job {job_id}.")
    if job.report_key is None:
        if job.finished and job.error_count:
            reason = (
                f"its {job.error_count} reported rows are in the job itself, but the report file could not be written;"
                " it is written when the upload's event is delivered again (S3 retries a failed one; locally,"
                " `marquee ingest` of the same file)."
            )
        else:
            reason = "it is not finished yet." if not job.finished else "it reported no rows."
        raise NotFoundError(f"Ingest job {job_id} has no error report: {reason}")
    if job.bucket not in (None, signer.bucket):
        raise NotFoundError(f"The report of ingest job {job_id} is in another bucket ({job.bucket}).")
    stem = (job.file_name or "upload").rsplit(".", 1)[0] if job.file_name else "upload"
    file_name = safe_file_name(f"{stem}.job-{job_id}.errors.csv") or f"job-{job_id}.errors.csv"
    url = signer.download_url(key=job.report_key, file_name=file_name, expires_in=expires_in)
    return ReportLink(job_id, url, file_name, datetime.now(UTC) + timedelta(seconds=expires_in), job.error_count)
