"""What the one-machine stack writes for its user is that user's only, whatever the umask: uploads and their error
reports (the folder standing in for the uploads bucket) and admin exports, like the outbox, the demo key and run/.
`marquee ingest /etc/passwd` used to leave a world-readable copy in a 0755 tree (found by a tester)."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from marquee_local import dropfolder
from movie_admin.exports import FolderExportStore
from movie_ingest.storage import LocalFolderStore, metadata_path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def test_the_uploads_tree_is_made_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: int) -> None:
    monkeypatch.delenv("UPLOADS_LOCAL_ROOT", raising=False)
    root = dropfolder.configure(tmp_path)
    folders = [root, root / "incoming", *(root / "incoming" / m for m in ("replace", "replace-all", "validate"))]
    assert {str(f.relative_to(tmp_path)): _mode(f) for f in folders} == {
        str(f.relative_to(tmp_path)): 0o700 for f in folders
    }


def test_an_uploads_tree_made_open_by_an_earlier_version_is_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UPLOADS_LOCAL_ROOT", raising=False)
    old = [tmp_path / "uploads", tmp_path / "uploads" / "incoming", tmp_path / "uploads" / "reports"]
    for folder in old:
        folder.mkdir()
        folder.chmod(0o755)
    dropfolder.configure(tmp_path)
    assert [_mode(folder) for folder in old] == [0o700, 0o700, 0o700]


def test_objects_their_metadata_and_reports_are_written_private(tmp_path: Path, umask: int) -> None:
    store = LocalFolderStore(tmp_path / "uploads")
    store.put_object("incoming/new/passwd", io.BytesIO(b"root:x:0:0\n"), metadata={"origin": "cli"})
    store.put("bucket", "reports/incoming/new/passwd.job-1.errors.csv", io.BytesIO(b"line\n"), content_type="text/csv")
    uploads = tmp_path / "uploads"
    written = {
        "file": _mode(uploads / "incoming" / "new" / "passwd"),
        "metadata": _mode(metadata_path(uploads / "incoming" / "new" / "passwd")),
        "report": _mode(uploads / "reports" / "incoming" / "new" / "passwd.job-1.errors.csv"),
        "folders": {
            _mode(folder)
            for folder in (uploads, uploads / "incoming", uploads / "incoming" / "new", uploads / "reports")
        },
    }
    assert written == {"file": 0o600, "metadata": 0o600, "report": 0o600, "folders": {0o700}}


def test_an_object_written_over_becomes_private(tmp_path: Path) -> None:
    path = tmp_path / "incoming" / "a.csv"
    path.parent.mkdir()
    path.write_text("old")
    path.chmod(0o644)
    metadata_path(path).write_text("{}")
    metadata_path(path).chmod(0o644)
    LocalFolderStore(tmp_path).put_object("incoming/a.csv", io.BytesIO(b"new"), metadata={"origin": "cli"})
    assert (path.read_bytes(), _mode(path), _mode(metadata_path(path))) == (b"new", 0o600, 0o600)


def test_admin_exports_are_private(tmp_path: Path, umask: int) -> None:
    folder = tmp_path / "exports"
    stored = FolderExportStore(folder, "http://127.0.0.1:9/exports").store("keys.csv", [b"id,owner\n", b"1,a@b.c\n"])
    assert (_mode(folder), _mode(folder / stored.name)) == (0o700, 0o600)
    folder.chmod(0o755)  # made by an earlier version
    FolderExportStore(folder, "/x").store("more.csv", [b"x\n"])
    assert _mode(folder) == 0o700
