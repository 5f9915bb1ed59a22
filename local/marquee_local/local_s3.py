"""The uploads bucket on one machine, as S3 speaks to browsers and boto3 (served by `marquee run`'s AWS stand-in,
marquee_local.local_aws): presigned POST uploads write the object into the folder that stands in for the bucket
($MARQUEE_HOME/uploads, whose incoming/ is the drop folder, so the drop-folder watcher ingests it with an
S3-shaped event, exactly as S3's notification would run IngestFunction), and presigned GETs download objects such
as the error reports IngestFunction writes under reports/. Signatures, policies and expiry are checked as S3
checks them (marquee_local.sigv4); CORS answers the portal's origin, as the template's bucket CorsConfiguration
does. Errors are S3's XML error documents."""

from __future__ import annotations

import os
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from marquee_local.sigv4 import LocalCredentials, SignatureError, verify_post, verify_presigned_url

MAX_FORM_FIELDS = 64
MAX_FIELD_BYTES = 64 * 1024  # S3 caps a POST's form fields (policy included) at 20 KB; files are spooled to disk
CORS_METHODS = "GET, HEAD, POST, PUT"


def error_response(
    code: str, message: str, status: int, *, resource: str = "", headers: dict[str, str] | None = None
) -> Response:
    """S3's XML error document."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>{os.urandom(8).hex().upper()}</RequestId></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml", headers=headers)


class LocalS3:
    """One bucket (`bucket`) whose objects are the files under `root` (`incoming/a.csv` is `<root>/incoming/a.csv`;
    user metadata in the hidden sidecar that IngestFunction's LocalFolderStore reads). `cors_origin` is the portal's
    origin; `report` receives a line per upload."""

    def __init__(
        self,
        root: Path,
        *,
        bucket: str,
        credentials: LocalCredentials,
        cors_origin: str | None,
        report: Callable[[str], None] = print,
    ) -> None:
        self.root = root.resolve()
        self.bucket = bucket
        self.credentials = credentials
        self.cors_origin = cors_origin
        self.report = report

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/{bucket}", self.dispatch, methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]),
                Route("/{bucket}/", self.dispatch, methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]),
                Route(
                    "/{bucket}/{key:path}", self.dispatch, methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]
                ),
            ]
        )

    # ------------------------------------------------------------------------------------------------ plumbing

    def _cors(self, request: Request) -> dict[str, str]:
        origin = request.headers.get("origin")
        if origin is None or self.cors_origin is None or origin != self.cors_origin:
            return {}
        return {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": "ETag", "Vary": "Origin"}

    def _path(self, key: str) -> Path | None:
        """The file of `key`, or None for a key that would leave the folder or name a hidden/partial file."""
        if not key or key.startswith("/") or "\\" in key:
            return None
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            return None
        if any(part.startswith(".") for part in path.relative_to(self.root).parts) or path.name.endswith(".part"):
            return None
        return path

    async def dispatch(self, request: Request) -> Response:
        cors = self._cors(request)
        bucket = request.path_params["bucket"]
        if request.method == "OPTIONS":
            return self._preflight(request)
        if bucket != self.bucket:
            return error_response(
                "NoSuchBucket", "The specified bucket does not exist", 404, resource=bucket, headers=cors
            )
        key = request.path_params.get("key", "")
        try:
            if request.method == "POST" and not key:
                return await self._post_object(request, cors)
            if request.method in ("GET", "HEAD") and key:
                return self._get_object(request, cors)
        except SignatureError as error:
            return error_response(error.code, error.message, error.status, resource=request.url.path, headers=cors)
        return error_response(
            "NotImplemented",
            "The one-machine S3 stand-in serves presigned POST uploads and presigned GETs only.",
            501,
            resource=request.url.path,
            headers=cors,
        )

    def _preflight(self, request: Request) -> Response:
        """CORS preflight as S3 answers it from the bucket's CorsConfiguration (the portal's origin only)."""
        origin = request.headers.get("origin")
        method = request.headers.get("access-control-request-method", "")
        if origin is None or origin != self.cors_origin or method.upper() not in CORS_METHODS.split(", "):
            return error_response("AccessForbidden", "CORSResponse: This CORS request is not allowed.", 403)
        headers = {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": CORS_METHODS,
            "Access-Control-Max-Age": "600",
            "Access-Control-Expose-Headers": "ETag",
            "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
        }
        if request.headers.get("access-control-request-headers"):
            headers["Access-Control-Allow-Headers"] = request.headers["access-control-request-headers"]
        return Response(status_code=200, headers=headers)

    # ------------------------------------------------------------------------------------------------ POST upload

    async def _post_object(self, request: Request, cors: dict[str, str]) -> Response:
        """A browser's presigned POST (multipart/form-data: the signed fields, then `file`), stored atomically:
        metadata first, the file under a `.part` name renamed into place once complete (the drop folder ignores
        partial and hidden names). 204 with the ETag, as S3 answers without success_action_status."""
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise SignatureError(
                "PreconditionFailed", "Bucket POST must be of the enclosure-type multipart/form-data", 412
            )
        form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES)
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise SignatureError("InvalidArgument", "POST requires exactly one file upload per request.", 400)
            fields = {name: value for name, value in form.multi_items() if isinstance(value, str)}
            size = upload.size if upload.size is not None else _size_of(upload)
            accepted = verify_post(
                fields,
                bucket=self.bucket,
                file_name=upload.filename or "",
                size=size,
                credentials=self.credentials,
            )
            if self._path(accepted.key) is None:
                raise SignatureError("InvalidArgument", f"The key {accepted.key!r} cannot be stored here.", 400)
            etag = self._store(accepted.key, upload, accepted.metadata)
        finally:
            await form.close()
        self.report(f"S3: uploaded s3://{self.bucket}/{accepted.key} ({size:,} bytes)")
        location = f"{request.base_url}{self.bucket}/{quote(accepted.key)}"  # a header: the key's UTF-8, %-encoded
        return Response(status_code=204, headers={**cors, "ETag": f'"{etag}"', "Location": location})

    def _store(self, key: str, upload: UploadFile, metadata: dict[str, str]) -> str:
        """Write the upload as IngestFunction's LocalFolderStore reads it; returns its ETag."""
        from movie_ingest.storage import LocalFolderStore

        upload.file.seek(0)
        return LocalFolderStore(self.root).put_object(key, upload.file, metadata=metadata)

    # ------------------------------------------------------------------------------------------------ GET object

    def _get_object(self, request: Request, cors: dict[str, str]) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.url.query
        url = f"{request.url.scheme}://{request.headers.get('host', '')}{raw_path.decode('latin-1')}"
        verify_presigned_url(
            request.method,
            url + (f"?{query}" if query else ""),
            request.headers.get("host", ""),
            credentials=self.credentials,
        )
        key = unquote(request.path_params["key"])
        path = self._path(key)
        if path is None or not path.is_file():
            return error_response("NoSuchKey", "The specified key does not exist.", 404, resource=key, headers=cors)
        from movie_ingest.storage import file_etag

        headers = {
            **cors,
            "ETag": f'"{file_etag(path)}"',
            "Last-Modified": formatdate(path.stat().st_mtime, usegmt=True),
        }
        disposition = request.query_params.get("response-content-disposition")
        if disposition:
            headers["Content-Disposition"] = disposition
        media_type = request.query_params.get("response-content-type") or "binary/octet-stream"
        return FileResponse(path, media_type=media_type, headers=headers)


def _size_of(upload: UploadFile) -> int:
    upload.file.seek(0, os.SEEK_END)
    size = upload.file.tell()
    upload.file.seek(0)
    return size
