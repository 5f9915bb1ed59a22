"""Where CSV exports go: a folder on the one-machine stack, an S3 object in AWS; either way a download URL.

API Gateway (REST) and Lambda cannot return tens of megabytes in one response (Lambda's response limit is 6 MB),
so an export is not returned in the response: it is streamed from PostgreSQL's COPY into the store in flat memory
(64 KiB chunks locally; S3 multipart parts of 8 MiB through boto3's managed transfer), and the client is sent to a
short-lived download URL (an S3 presigned GET in AWS; a random, unguessable file name served by the local stack).
"""

from __future__ import annotations

import io
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

CSV_TYPE = "text/csv; charset=utf-8"
LOCAL_EXPORT_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class StoredExport:
    """A finished export: its file name, size in bytes, where to download it, and until when that URL works."""

    name: str
    bytes: int
    url: str
    expires_at: datetime


class ExportStore(Protocol):
    def store(self, name: str, chunks: Iterable[bytes]) -> StoredExport:
        """Write the chunks as one CSV object named after `name` (made unique); return where to download it."""
        ...


def unique_name(name: str) -> str:
    """`name` with a random 128-bit prefix: the URL of an export cannot be guessed from another's."""
    return f"{secrets.token_urlsafe(16)}-{name}"


class FolderExportStore:
    """Exports as files in a folder, downloaded from `base_url` (AdminFunction's /admin/exports/ on the one-machine
    stack); files older than `ttl` are removed whenever a new export is stored. The folder (0700) and the files
    (0600) are their owner's only, whatever the umask: the names are the URLs' secret, and the rows are users'."""

    def __init__(self, folder: Path, base_url: str, *, ttl: timedelta = LOCAL_EXPORT_TTL) -> None:
        self.folder = folder
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl

    def store(self, name: str, chunks: Iterable[bytes]) -> StoredExport:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.folder.stat().st_mode & 0o077:
            self.folder.chmod(0o700)
        self._remove_expired()
        final = self.folder / unique_name(name)
        partial = final.with_name(final.name + ".partial")
        size = 0
        try:
            with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
                os.fchmod(out.fileno(), 0o600)
                for chunk in chunks:
                    out.write(chunk)
                    size += len(chunk)
            partial.replace(final)
        finally:
            partial.unlink(missing_ok=True)
        return StoredExport(final.name, size, f"{self.base_url}/{final.name}", datetime.now(UTC) + self.ttl)

    def _remove_expired(self) -> None:
        cutoff = time.time() - self.ttl.total_seconds()
        for entry in self.folder.iterdir():
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                entry.unlink(missing_ok=True)


class ChunkReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks, so boto3's managed upload can pull from a generator."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        view = memoryview(buffer)
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        self.size += count
        return count


class S3ExportStore:
    """Exports as objects under `prefix` in a private bucket (a lifecycle rule expires them), downloaded through
    presigned GET URLs valid for `url_ttl`. `client` is a boto3 S3 client."""

    def __init__(
        self, client: Any, bucket: str, *, prefix: str = "exports/", url_ttl: timedelta = timedelta(minutes=15)
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.url_ttl = url_ttl

    def store(self, name: str, chunks: Iterable[bytes]) -> StoredExport:
        object_name = unique_name(name)
        key = self.prefix + object_name
        reader = ChunkReader(chunks)
        # upload_fileobj splits the stream into multipart parts (8 MiB by default) as it reads: memory stays flat.
        self.client.upload_fileobj(
            io.BufferedReader(reader, buffer_size=1 << 20),
            self.bucket,
            key,
            ExtraArgs={"ContentType": CSV_TYPE, "ContentDisposition": f'attachment; filename="{name}"'},
        )
        url = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=int(self.url_ttl.total_seconds()),
        )
        return StoredExport(object_name, reader.size, url, datetime.now(UTC) + self.url_ttl)
