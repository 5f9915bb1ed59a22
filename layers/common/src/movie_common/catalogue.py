"""Reads the seed CSV format (title,year,genre,director,actors,plot,poster_url; lists joined by `|`)."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path

from movie_common.db.movies import MovieRow

SEED_COLUMNS = ("title", "year", "genre", "director", "actors", "plot", "poster_url")


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split("|") if part.strip()]


def read_seed_csv(path: Path) -> Iterator[MovieRow]:
    """Stream rows of a seed CSV (plain or gzip); the bundled catalogue is trusted, so rows are not re-validated."""
    raw = gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")  # noqa: SIM115 - closed below
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        reader = csv.DictReader(text)
        missing = [c for c in SEED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path.name} lacks the columns {', '.join(missing)}")
        for row in reader:
            yield MovieRow(
                title=row["title"].strip(),
                year=int(row["year"]) if row["year"].strip() else None,
                genre=_list(row["genre"]),
                director=", ".join(_list(row["director"])) or None,
                actors=_list(row["actors"]),
                plot=row["plot"].strip() or None,
                poster_url=row["poster_url"].strip() or None,
            )
