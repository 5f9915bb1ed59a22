"""The drop folder's store (LocalFolderStore) hands a job exactly the content its event announced."""

from __future__ import annotations

from pathlib import Path

import pytest

from movie_ingest.storage import FileChangedError, LocalFolderStore, StoredObject, file_etag


def _announced(root: Path, key: str, body: bytes, *, version_id: str | None = None) -> StoredObject:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return StoredObject("bucket", key, len(body), file_etag(path), version_id)


def _read_all(stream: object, chunk: int = 4096) -> bytes:
    parts = []
    while data := stream.read(chunk):  # type: ignore[attr-defined]
        parts.append(data)
    return b"".join(parts)


def test_an_unchanged_file_reads_whole(tmp_path: Path) -> None:
    body = b"title,year\n" + b"".join(b"Film %d,2001\n" % i for i in range(5000))
    obj = _announced(tmp_path, "incoming/a.csv", body)
    stream = LocalFolderStore(tmp_path).open(obj)
    try:
        assert _read_all(stream) == body
        assert stream.read(10) == b""  # reading past the end again is still fine
    finally:
        stream.close()


@pytest.mark.parametrize("same_size", [False, True])
def test_a_file_written_over_in_place_while_it_is_read_fails_at_its_end(tmp_path: Path, same_size: bool) -> None:
    # `cp new.csv incoming/a.csv` (or an editor's Save) while a job reads a.csv truncates and rewrites the same
    # file: the job read the start of the old content and the rest of the new one, and loaded the mix as done.
    old = b"title,year\n" + b"".join(b"Old Film %05d,1999\n" % i for i in range(5000))
    new = b"title,year\n" + b"".join(
        (b"New Film %05d,2004\n" if same_size else b"Other %d,2004\n") % i for i in range(5000)
    )
    assert (len(old) == len(new)) == same_size
    obj = _announced(tmp_path, "incoming/a.csv", old)
    stream = LocalFolderStore(tmp_path).open(obj)
    try:
        first = stream.read(30_000)
        assert first == old[:30_000]
        (tmp_path / "incoming/a.csv").write_bytes(new)  # same inode, truncated and rewritten
        with pytest.raises(FileChangedError, match="changed while it was being read"):
            _read_all(stream)
    finally:
        stream.close()


def test_an_event_naming_a_version_is_checked_on_its_size(tmp_path: Path) -> None:
    body = b"title,year\nVersioned Film,2011\n"
    obj = _announced(tmp_path, "incoming/v.csv", body, version_id="v1")
    obj = StoredObject(obj.bucket, obj.key, obj.size, "d41d8cd98f00b204e9800998ecf8427e", "v1")  # another ETag
    stream = LocalFolderStore(tmp_path).open(obj)
    try:
        assert _read_all(stream) == body
    finally:
        stream.close()
