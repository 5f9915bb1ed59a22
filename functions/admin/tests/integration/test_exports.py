"""Where exports go: an S3 object through boto3's managed multipart upload (moto standing in for S3), or a folder
on the one-machine stack; both take a stream of chunks and never hold the whole file."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from movie_admin.exports import FolderExportStore, S3ExportStore

MIB = 1 << 20


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    line = b"2026-11-30T12:00:00.000000Z,1,2,abcd,3,dev@gmail.com,/movies/{id},200\n"
    sent = 0
    while sent < total:
        chunk = (line * (size // len(line) + 1))[: min(size, total - sent)]
        sent += len(chunk)
        yield chunk


@pytest.fixture
def s3() -> Iterator[object]:
    with mock_aws():
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        client = boto3.client("s3", region_name="us-east-1", config=Config(signature_version="s3v4"))
        client.create_bucket(Bucket="marquee-exports")
        yield client


@pytest.mark.slow
def test_an_s3_export_is_a_multipart_object_behind_a_presigned_url(s3: object) -> None:
    store = S3ExportStore(s3, "marquee-exports", url_ttl=timedelta(minutes=15))
    stored = store.store("requests-20261130T120000Z.csv", _chunks(20 * MIB))
    assert stored.bytes == 20 * MIB and stored.name.endswith("-requests-20261130T120000Z.csv")
    head = s3.head_object(Bucket="marquee-exports", Key="exports/" + stored.name)  # type: ignore[attr-defined]
    assert head["ContentLength"] == 20 * MIB
    assert head["ContentType"] == "text/csv; charset=utf-8"
    assert head["ContentDisposition"] == 'attachment; filename="requests-20261130T120000Z.csv"'
    assert "-" in head["ETag"]  # a multipart object's ETag says how many parts it has: it was never one buffer
    url = urlsplit(stored.url)
    assert url.path.endswith("/exports/" + stored.name)
    assert parse_qs(url.query)["X-Amz-Expires"] == ["900"]
    body = s3.get_object(Bucket="marquee-exports", Key="exports/" + stored.name)["Body"].read()  # type: ignore[attr-defined]
    assert body == b"".join(_chunks(20 * MIB))


def test_two_exports_never_share_a_name(tmp_path: Path) -> None:
    store = FolderExportStore(tmp_path, "http://127.0.0.1:8081/exports")
    first = store.store("audit.csv", [b"a\n"])
    second = store.store("audit.csv", [b"b\n"])
    assert first.name != second.name and first.url == f"http://127.0.0.1:8081/exports/{first.name}"
    assert (tmp_path / first.name).read_bytes() == b"a\n"


def test_a_failed_export_leaves_no_file_and_old_ones_expire(tmp_path: Path) -> None:
    store = FolderExportStore(tmp_path, "/exports", ttl=timedelta(hours=1))
    old = store.store("old.csv", [b"x\n"])
    stale = time.time() - 2 * 3600
    os.utime(tmp_path / old.name, (stale, stale))

    def broken() -> Iterator[bytes]:
        yield b"header\n"
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        store.store("new.csv", broken())
    assert list(tmp_path.iterdir()) == []  # the stale file expired, the broken one was never published
