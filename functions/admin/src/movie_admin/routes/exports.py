"""Downloading an export on the one-machine stack, where there is no S3: the file's random name is the
credential, as a presigned URL's signature is, and it expires like one. In AWS this route answers 404."""

from __future__ import annotations

import re
import time
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import FileResponse

from movie_admin.exports import CSV_TYPE, LOCAL_EXPORT_TTL
from movie_admin.settings import admin_settings
from movie_common.errors import NotFoundError
from movie_web.schemas import problem_response

public = APIRouter(prefix="/admin", tags=["exports"])
# unique_name(): 22 URL-safe characters of randomness, a dash, then the export's own name.
_NAME = re.compile(r"^[A-Za-z0-9_-]{22}-([a-z]+-\d{8}T\d{6}Z\.csv)$")
ExportName = Annotated[str, Path(max_length=80, description="The file name of a download_url.")]


@public.get(
    "/exports/{name}",
    name="download_export",
    summary="Download an export (one-machine stack only)",
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}}}, 404: problem_response("No such export, or it expired.")},
)
async def download_export(name: ExportName) -> FileResponse:
    """The CSV file a `download_url` names, for an hour after the export; no session needed, as with S3's
    presigned URLs. 404 in AWS, where exports are downloaded from S3."""
    settings = admin_settings()
    match = _NAME.match(name)
    path = settings.export_folder / name
    if settings.export_bucket or match is None or not path.is_file():
        raise NotFoundError("There is no such export, or it has expired.")
    if path.stat().st_mtime < time.time() - LOCAL_EXPORT_TTL.total_seconds():
        raise NotFoundError("There is no such export, or it has expired.")
    return FileResponse(path, media_type=CSV_TYPE, filename=match.group(1))
