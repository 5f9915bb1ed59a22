"""Where uploads live (IngestFunction): the S3 uploads bucket in AWS (boto3 is imported here only), or a folder
that stands in for it on one machine (`$MARQUEE_HOME/uploads`, the drop folder's parent)."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol


class ObjectMissingError(Exception):
    """The object named by an event is gone (deleted, or expired by the lifecycle rule, before it was read)."""


@dataclass(frozen=True)
class StoredObject:
    """One object version: where it is, its size in bytes, its ETag (no quotes), version id, user metadata."""

    bucket: str
    key: str
    size: int
    etag: str
    version_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


class ObjectStore(Protocol):
    def head(self, bucket: str, key: str, *, version_id: str | None = None) -> StoredObject:
        """The object's size, ETag and metadata; ObjectMissingError when it is not there."""
        ...

    def open(self, obj: StoredObject) -> Any:
        """A stream of the object's bytes (`.read(n)`, `.close()`), of exactly that version or ETag."""
        ...

    def put(self, bucket: str, key: str, body: IO[bytes], *, content_type: str) -> None:
        """Write an object (the error report)."""
        ...


class S3Store:
    """The uploads bucket through boto3 (one client per execution environment, made on first use)."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _s3_client()
        return self._client

    def head(self, bucket: str, key: str, *, version_id: str | None = None) -> StoredObject:
        from botocore.exceptions import ClientError

        options = {"VersionId": version_id} if version_id else {}
        try:
            head = self.client.head_object(Bucket=bucket, Key=key, **options)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NoSuchVersion", "403"):
                raise ObjectMissingError(f"s3://{bucket}/{key} is not there") from error
            raise
        return StoredObject(
            bucket=bucket,
            key=key,
            size=int(head["ContentLength"]),
            etag=str(head["ETag"]).strip('"'),
            version_id=head.get("VersionId") or version_id,
            metadata={str(k).lower(): str(v) for k, v in (head.get("Metadata") or {}).items()},
        )

    def open(self, obj: StoredObject) -> Any:
        from botocore.exceptions import ClientError

        # Exactly the version the event announced: a newer upload under the same key is its own job.
        options = {"VersionId": obj.version_id} if obj.version_id else {"IfMatch": f'"{obj.etag}"'}
        try:
            return self.client.get_object(Bucket=obj.bucket, Key=obj.key, **options)["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in (
                "404",
                "NoSuchKey",
                "NoSuchVersion",
                "PreconditionFailed",
            ):
                raise ObjectMissingError(f"s3://{obj.bucket}/{obj.key} changed or went away") from error
            raise

    def put(self, bucket: str, key: str, body: IO[bytes], *, content_type: str) -> None:
        self.client.upload_fileobj(body, bucket, key, ExtraArgs={"ContentType": content_type})


@functools.cache
def _s3_client() -> Any:
    import boto3

    return boto3.client("s3")


class LocalFolderStore:
    """A folder standing in for the uploads bucket: the object `incoming/a.csv` is the file `<root>/incoming/a.csv`,
    whatever the bucket name. The ETag is the MD5 of the content, as S3 gives it for single-part uploads. User
    metadata (S3's x-amz-meta-*) sits in a hidden JSON file beside the object: `incoming/.a.csv.metadata.json`.
    Like a private bucket, what it writes is its owner's only, whatever the umask: folders 0700, files 0600."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ObjectMissingError(f"{key!r} is outside the uploads folder")
        return path

    def head(self, bucket: str, key: str, *, version_id: str | None = None) -> StoredObject:
        path = self.path(key)
        if not path.is_file():
            raise ObjectMissingError(f"{path} is not there")
        sidecar = metadata_path(path)
        metadata = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.is_file() else {}
        return StoredObject(
            bucket=bucket,
            key=key,
            size=path.stat().st_size,
            etag=file_etag(path),
            metadata={str(k).lower(): str(v) for k, v in metadata.items()},
        )

    def open(self, obj: StoredObject) -> Any:
        """The file's bytes, checked at their end against the object's size and ETag (the MD5 of the content): a
        file written over in place while a job reads it (an editor's Save, `cp` onto it) would otherwise hand the
        job the start of one content and the rest of another. S3 cannot do that (get_object names the version or
        the ETag); here the job fails at the end of the read, before anything is written, and the new content is
        a job of its own."""
        path = self.path(obj.key)
        if not path.is_file():
            raise ObjectMissingError(f"{path} is not there")
        # With no version id (the drop folder's events, as from an unversioned bucket) the ETag names the content,
        # as it does for S3Store's If-Match; an event naming a version is checked on its size alone.
        return _CheckedFile(path.open("rb"), size=obj.size, etag=None if obj.version_id else obj.etag)

    def put(self, bucket: str, key: str, body: IO[bytes], *, content_type: str) -> None:
        self.put_object(key, body)

    def put_object(self, key: str, body: IO[bytes], *, metadata: Mapping[str, str] | None = None) -> str:
        """Write the object `key` from `body` (read to its end, 1 MiB at a time) with its user metadata (none: any
        earlier metadata goes), and return its ETag (the content's MD5). The metadata is written first and the
        content under a `.part` name, renamed when whole: a watcher never sees a half-written object or one without
        its metadata. ObjectMissingError for a key outside the folder."""
        path = self.path(key)
        private_folder(path.parent)
        write_metadata(path, metadata)
        partial = path.with_name(path.name + ".part")
        digest = hashlib.md5(usedforsecurity=False)
        try:
            with _private_file(partial) as out:
                while chunk := body.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        return digest.hexdigest()


class FileChangedError(OSError):
    """The local object's content is not the one its event announced (it was written over while being read)."""


class _CheckedFile:
    """A binary file read to its end, whose bytes must add up to the announced size and MD5 (when an ETag is given
    and is one: 32 hex digits); raises FileChangedError at the end otherwise."""

    def __init__(self, file: IO[bytes], *, size: int, etag: str | None) -> None:
        self._file = file
        self._size = size
        self._etag = (etag or "").strip('"').lower()
        self._digest = hashlib.md5(usedforsecurity=False)
        self._read = 0

    def read(self, n: int = -1) -> bytes:
        data = self._file.read(n)
        if data:
            self._digest.update(data)
            self._read += len(data)
        elif n != 0:
            self._check()
        return data

    def _check(self) -> None:
        md5 = len(self._etag) == 32 and all(c in "0123456789abcdef" for c in self._etag)
        if self._read != self._size or (md5 and self._digest.hexdigest() != self._etag):
            raise FileChangedError(
                "the file was changed while it was being read (it is not the content that was announced: "
                f"{self._read:,} bytes read of {self._size:,}); the new content is ingested as a job of its own"
            )

    def close(self) -> None:
        self._file.close()


def metadata_path(path: Path) -> Path:
    """Where LocalFolderStore keeps an object's user metadata."""
    return path.with_name(f".{path.name}.metadata.json")


def write_metadata(path: Path, metadata: Mapping[str, str] | None) -> None:
    """Set the user metadata of the object file `path` (S3's x-amz-meta-*); none removes what it had."""
    sidecar = metadata_path(path)
    if metadata:
        with _private_file(sidecar) as out:
            out.write(json.dumps(dict(metadata)).encode("utf-8"))
    else:
        sidecar.unlink(missing_ok=True)


PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def private_folder(folder: Path) -> None:
    """Make `folder` and its missing parents readable by their owner only (0700, whatever the umask); a folder that
    exists is left as it is."""
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
        made.chmod(PRIVATE_FOLDER)


def _private_file(path: Path) -> IO[bytes]:
    """`path` opened for writing from its start, readable by its owner only (0600, whatever the umask, also when it
    existed with a wider mode)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE)
    except OSError:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "wb")


def file_etag(path: Path) -> str:
    """The MD5 of a file's content in hex: what S3 reports as the ETag of a single-part upload."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
