"""Replace mode swaps the catalogue atomically: API clients reading all along see the old or the new one, whole."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from marquee_local import stack
from marquee_local.lambda_context import LocalLambdaContext
from movie_common import database
from movie_common.db import usage
from movie_common.migrations import migrate
from movie_ingest import services

REPO = Path(__file__).resolve().parents[4]
OLD_ROWS, NEW_ROWS = 3000, 4000


def _catalogue(path: Path, prefix: str, genre: str, rows: int) -> Path:
    lines = ["title,year,genre,director,plot"]
    lines += [f"{prefix} Film {i},{1950 + i % 60},{genre},Director {i % 97},Plot of film {i}." for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _event(name: str, key: str, query: dict[str, str]) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((REPO / "functions/api/events" / f"{name}.json").read_text())
    event["headers"]["X-API-KEY"] = key
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    return event


@pytest.mark.commit
@pytest.mark.slow
def test_readers_never_see_an_empty_or_partial_catalogue_during_a_replace(
    scratch_database: str, tmp_path: Path
) -> None:
    from movie_api.handler import handler

    with stack.connect_admin(scratch_database) as setup:
        migrate(setup)
        usage.ensure_partitions(setup)
        old = services.ingest_path(setup, _catalogue(tmp_path / "old.csv", "Old", "Oldgenre", OLD_ROWS))
        assert (old.status, old.counts.inserted) == ("done", OLD_ROWS)
        key = stack.create_key(setup, owner_email="reader@gmail.com", plan="unlimited").raw_key

    seen: list[tuple[float, int, int | None, int | None, int | None]] = []
    stop = threading.Event()

    def read_all_along() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        try:
            while not stop.is_set():
                # One year of each catalogue (1 film in 60): totals are exact up to 1,000, estimated past it.
                year = {"year": "1950", "per_page": "1"}
                listing = handler(_event("search", key, year), LocalLambdaContext())
                old_genre = handler(_event("search", key, {"genre": "Oldgenre", **year}), LocalLambdaContext())
                new_genre = handler(_event("search", key, {"genre": "Newgenre", **year}), LocalLambdaContext())
                statuses = {listing["statusCode"], old_genre["statusCode"], new_genre["statusCode"]}
                totals = [
                    json.loads(r["body"]).get("total_results") if r["statusCode"] == 200 else None
                    for r in (listing, old_genre, new_genre)
                ]
                seen.append((time.monotonic(), max(statuses), *totals))
        finally:
            database.close_connection()

    reader = threading.Thread(target=read_all_along)
    reader.start()
    try:
        while len(seen) < 5 and reader.is_alive():  # a reader that failed is reported below, not waited for
            time.sleep(0.01)
        with stack.connect_admin(scratch_database) as loader:
            started = time.monotonic()
            job = services.ingest_path(
                loader, _catalogue(tmp_path / "new.csv", "New", "Newgenre", NEW_ROWS), mode="replace"
            )
            finished = time.monotonic()
        count_after = len(seen)
        while len(seen) < count_after + 5 and reader.is_alive():
            time.sleep(0.01)
    finally:
        stop.set()
        reader.join(timeout=60)

    assert seen, "the reader stopped before its first answer"

    assert (job.status, job.counts.inserted, job.counts.deleted) == ("done", NEW_ROWS, OLD_ROWS)
    assert {status for _, status, *_ in seen} == {200}
    # Each answer comes from the whole old catalogue or the whole new one: never empty, never a mix; and once the
    # new one has been seen, the old one never comes back.
    old_year, new_year = len(range(0, OLD_ROWS, 60)), len(range(0, NEW_ROWS, 60))  # 50 and 67 films of 1950
    for kind, (old_total, new_total) in enumerate(((old_year, new_year), (old_year, 0), (0, new_year)), start=2):
        answers = [entry[kind] for entry in seen]
        assert set(answers) == {old_total, new_total}, (kind, set(answers))
        switch = answers.index(new_total)
        assert answers[:switch] == [old_total] * switch and answers[switch:] == [new_total] * (len(answers) - switch)
    during = [entry for entry in seen if started <= entry[0] <= finished]
    assert len(during) >= 3, f"only {len(during)} reads overlapped the replace ({finished - started:.2f} s)"
