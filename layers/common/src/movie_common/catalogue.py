"""Reads the seed CSV format (title,year,genre,director,actors,plot,poster_url; lists joined by `|`)."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path

from movie_common.db.movies import MovieRow
from movie_common.movie_rules import MAX_YEAR_DATE_GAP, read_title, split_title_year

SEED_COLUMNS = ("title", "year", "genre", "director", "actors", "plot", "poster_url")


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split("|") if part.strip()]


def _year(value: str, line: int) -> int | None:
    if not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"line {line}: the year {value[:40]!r} is not a number") from None


def _read_title(title: str, year: int | None) -> tuple[str, int | None]:
    """The title and year as the ingest's rules read them (movie_rules.check_movie): `Goonies, The` is The Goonies,
    `X (1902)` beside 1902 is X. A bracketed year more than MAX_YEAR_DATE_GAP from the year column stays in the
    title (the ingest refuses such a row; the seed is trusted)."""
    bare, title_year = split_title_year(title)
    if title_year is None:
        return read_title(title), year
    if year is None:
        return bare, title_year
    if abs(title_year - year) <= MAX_YEAR_DATE_GAP:
        return bare, year
    return title, year


def read_seed_csv(path: Path, *, read_titles: bool = False) -> Iterator[MovieRow]:
    """Stream rows of a seed CSV (plain or gzip); the bundled catalogue is trusted, so rows are not re-validated
    beyond what the columns' types need. read_titles: titles and years as the ingest reads them (_read_title), so
    that `marquee seed` stores what loading the same file through the ingest stores; off, as written (the
    benchmarks' generator reads the file's own text). ValueError when the header lacks a column or a year is not a
    number; UnicodeDecodeError when the file is not UTF-8."""
    raw = gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")  # noqa: SIM115 - closed below
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        reader = csv.DictReader(text)
        missing = [c for c in SEED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"its header lacks the columns {', '.join(missing)}")
        for row in reader:
            if None in row or any(row[c] is None for c in SEED_COLUMNS):
                raise ValueError(f"line {reader.line_num}: expected {len(SEED_COLUMNS)} fields")
            title, year = row["title"].strip(), _year(row["year"], reader.line_num)
            if read_titles:
                title, year = _read_title(title, year)
            yield MovieRow(
                title=title,
                year=year,
                genre=_list(row["genre"]),
                director=", ".join(_list(row["director"])) or None,
                actors=_list(row["actors"]),
                plot=row["plot"].strip() or None,
                poster_url=row["poster_url"].strip() or None,
            )
