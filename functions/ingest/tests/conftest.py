"""Fixtures of the ingest tests: the shared real-world test files (../shared/data, see PROVENANCE.md there)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def shared_data_file(name: str) -> Path:
    """A file of the team's shared test data: $MARQUEE_SHARED_DATA, or ../shared/data beside the repository (a
    worktree under wt/ looks one level higher). Skips the test when the data is not on this machine."""
    folders = [Path(os.environ["MARQUEE_SHARED_DATA"])] if os.environ.get("MARQUEE_SHARED_DATA") else []
    folders += [REPO.parent / "shared" / "data", REPO.parent.parent / "shared" / "data"]
    for folder in folders:
        if (folder / name).exists():
            return folder / name
    pytest.skip(f"shared test data {name} not found in {', '.join(str(f) for f in folders)}")


@pytest.fixture(scope="session")
def imdb_top_1000() -> Path:
    """The Kaggle "IMDB top 1000" CSV, byte for byte: CRLF, no final newline, `142 min`, Apollo 13's year `PG`."""
    return shared_data_file("imdb_top_1000.csv")
