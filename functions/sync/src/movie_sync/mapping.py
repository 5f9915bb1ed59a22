"""TMDB v3 documents mapped onto Marquee's movie columns: movie and TV details (with credits and external_ids),
the image configuration, and list pages. Anything that does not have TMDB's shape raises MalformedRecordError."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from movie_common.db.tmdb import TmdbTitle
from movie_common.movie_rules import (
    MAX_NAME_CHARS,
    MAX_PEOPLE_CHARS,
    MAX_PLOT_CHARS,
    MAX_RUNTIME_MINUTES,
    MIN_YEAR,
    YEARS_AHEAD,
    FieldValueError,
    check_movie,
    clean_text,
    parse_title,
    this_year,
)

POSTER_SIZE = "w500"
_IMDB_ID = re.compile(r"^(tt|nm)\d{5,10}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
MAX_TMDB_ID = 2**31 - 1  # movies.tmdb_id and the sync's tables are PostgreSQL integers
RUNTIME_MAX = MAX_RUNTIME_MINUTES  # the rule of CSV rows and the admin form (TMDB lists art films of 857 hours)


class MalformedRecordError(ValueError):
    """A TMDB document lacks a field the mapping needs, or holds one of the wrong type."""


@dataclass(frozen=True)
class ImageConfiguration:
    """Where TMDB serves posters: `secure_base_url` (https) and the poster size used (`w500`, else the closest)."""

    secure_base_url: str
    poster_size: str

    def poster_url(self, path: Any) -> str | None:
        """The full poster URL for a `poster_path` such as "/abc.jpg", or None without one."""
        if not isinstance(path, str) or not path.startswith("/"):
            return None
        return f"{self.secure_base_url}{self.poster_size}{path}"


def image_configuration(body: dict[str, Any]) -> ImageConfiguration:
    """Read /configuration's `images`; raises MalformedRecordError without an https base URL."""
    images = body.get("images")
    if not isinstance(images, dict):
        raise MalformedRecordError("configuration has no images object")
    base = images.get("secure_base_url")
    if not isinstance(base, str) or not base.startswith("https://"):
        raise MalformedRecordError("configuration has no https secure_base_url")
    if not base.endswith("/"):
        base += "/"
    sizes = [s for s in images.get("poster_sizes") or [] if isinstance(s, str)]
    size = POSTER_SIZE
    if sizes and POSTER_SIZE not in sizes:
        # The widest size up to 500 pixels, else the smallest offered, else the original.
        widths = sorted((int(s[1:]), s) for s in sizes if re.fullmatch(r"w\d+", s))
        fitting = [s for w, s in widths if w <= 500]
        size = fitting[-1] if fitting else (widths[0][1] if widths else "original")
    return ImageConfiguration(secure_base_url=base, poster_size=size)


def genre_names(body: dict[str, Any]) -> dict[int, str]:
    """/genre/{movie|tv}/list as {id: name}; entries without an integer id and a name are ignored."""
    genres = body.get("genres")
    if not isinstance(genres, list):
        raise MalformedRecordError("genre list has no genres array")
    named = {
        g["id"]: clean_text(g["name"])
        for g in genres
        if isinstance(g, dict) and isinstance(g.get("id"), int) and isinstance(g.get("name"), str)
    }
    return {genre_id: name for genre_id, name in named.items() if name}


def _text(body: dict[str, Any], key: str) -> str | None:
    """A string field as the catalogue's rules read text (movie_rules.clean_text, as CSV rows and the admin form):
    white space runs are one space, and control characters (a JSON `\\u0000`, which PostgreSQL cannot store and
    which ended the whole run), bidirectional overrides and invisible characters go."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedRecordError(f"{key} is not a string")
    return clean_text(value) or None


def _list(body: dict[str, Any], key: str) -> list[Any]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedRecordError(f"{key} is not an array")
    return value


def _date(body: dict[str, Any], key: str) -> date | None:
    value = _text(body, key)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise MalformedRecordError(f"{key} is not a date: {value!r}") from None


def _number(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedRecordError(f"{key} is not a number")
    if not math.isfinite(value):  # Python's JSON reader takes NaN and Infinity; no column can hold them usefully
        raise MalformedRecordError(f"{key} is not a finite number: {value}")
    return float(value)


def _names(people: list[Any], what: str, *, limit: int | None = None) -> list[str]:
    """The people's names in order, without repeats (at most `limit`: the entries after those are not read, so a
    huge cast's nameless 400th entry, which the catalogue would never keep, does not make the title malformed)."""
    names: list[str] = []
    for person in people:
        if limit is not None and len(names) >= limit:
            break
        if not isinstance(person, dict) or not isinstance(person.get("name"), str):
            raise MalformedRecordError(f"{what} entry without a name")
        name = clean_text(person["name"])
        if name and len(name) <= MAX_NAME_CHARS and name not in names:  # a longer one the form would refuse
            names.append(name)
    return names


def _rating(body: dict[str, Any]) -> Decimal | None:
    average = _number(body, "vote_average")
    votes = _number(body, "vote_count")
    if average is None or not votes:  # TMDB reports 0.0 for a title nobody rated
        return None
    if not 0 <= average <= 10:
        raise MalformedRecordError(f"vote_average out of range: {average}")
    return Decimal(str(average)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _runtime(body: dict[str, Any], media_type: str) -> int | None:
    if media_type == "movie":
        minutes = _number(body, "runtime")
    else:
        # TV: the typical episode length (TMDB leaves the array empty for many recent shows).
        runs = [r for r in _list(body, "episode_run_time") if isinstance(r, int | float) and not isinstance(r, bool)]
        minutes = float(runs[0]) if runs else None
    if minutes is None or minutes <= 0 or minutes > RUNTIME_MAX:
        return None
    return round(minutes)


def map_details(
    media_type: str,
    tmdb_id: int,
    body: dict[str, Any],
    *,
    images: ImageConfiguration,
    genres: dict[int, str],
    max_cast: int,
) -> TmdbTitle:
    """Map GET /movie/{id} or /tv/{id} (append_to_response=credits,external_ids) onto a TmdbTitle.

    Title is `title` (movies) or `name` (TV); the date is `release_date` or `first_air_date`, and the year comes
    from it; genres are named by the genre list (`genres`, {id: name}) or by the document; the director is the crew
    with job "Director" (movies) or the creators (`created_by`, TV), comma-separated; actors are the first
    `max_cast` of `credits.cast` by billing order; the plot is `overview`; the poster is the configuration's secure
    base URL + size + `poster_path`; imdb_id comes from `imdb_id` or `external_ids.imdb_id`; rating is
    `vote_average` (None without votes); runtime is `runtime` or the first `episode_run_time`.
    Raises MalformedRecordError when the document is not a title of that id or a field has the wrong type.
    """
    if body.get("id") != tmdb_id:
        raise MalformedRecordError(f"details of {media_type} {tmdb_id} carry id {body.get('id')!r}")
    title = _text(body, "title" if media_type == "movie" else "name")
    if title is None:
        raise MalformedRecordError("no title" if media_type == "movie" else "no name")
    try:
        # The rule of CSV rows and the admin form: a title of invisible characters alone is none, and one over
        # MAX_TITLE_CHARS is refused (a longer one could hold a word too long for the title's search words, and the
        # database would refuse the row on every run). A title that is only a file's "no value" marker (`N/A`,
        # `None`) is no title in a file, but TMDB names its titles: a film called `Null` keeps its name.
        title = parse_title(title, null_markers=False)
    except FieldValueError as error:
        raise MalformedRecordError(f"title: {error}") from None
    released = _date(body, "release_date" if media_type == "movie" else "first_air_date")
    if released is not None and not MIN_YEAR <= released.year <= this_year() + YEARS_AHEAD:
        # Outside the years a CSV row or the admin form may give (movie_rules): kept, such a date would make every
        # later edit of the movie in the admin form a 422 on a field the admin did not touch.
        released = None
    year = released.year if released else None

    names: list[str] = []
    for genre in _list(body, "genres"):
        if not isinstance(genre, dict):
            raise MalformedRecordError("genres entry is not an object")
        genre_id, own_name = genre.get("id"), genre.get("name")
        name = genres.get(genre_id) if isinstance(genre_id, int) else None
        name = name or (clean_text(own_name) if isinstance(own_name, str) else None)
        if name and name not in names:
            names.append(name)

    credits = body.get("credits", {})
    credits = {} if credits is None else credits
    if not isinstance(credits, dict):
        raise MalformedRecordError("credits is not an object")
    cast = [c for c in _list(credits, "cast") if isinstance(c, dict)]
    cast.sort(key=lambda c: c["order"] if isinstance(c.get("order"), int) else 1_000_000)
    actors = _names(cast, "cast", limit=max_cast)
    if media_type == "movie":
        crew = [c for c in _list(credits, "crew") if isinstance(c, dict) and c.get("job") == "Director"]
        directors = _names(crew, "crew")
    else:
        directors = _names(_list(body, "created_by"), "created_by")

    external = body.get("external_ids", {})
    external = {} if external is None else external
    if not isinstance(external, dict):
        raise MalformedRecordError("external_ids is not an object")
    imdb_id = _text(body, "imdb_id") or _text(external, "imdb_id")
    popularity = _number(body, "popularity") or 0.0
    language = _text(body, "original_language")
    adult = body.get("adult")
    original = _original_title(body, media_type)
    return _within_rules(
        TmdbTitle(
            media_type=media_type,
            tmdb_id=tmdb_id,
            title=title,
            year=year,
            release_date=released,
            genre=names,
            director=_people(directors),
            actors=actors,
            plot=(_text(body, "overview") or "")[:MAX_PLOT_CHARS].rstrip() or None,
            poster_url=images.poster_url(body.get("poster_path")),
            imdb_id=imdb_id if imdb_id and _IMDB_ID.match(imdb_id) else None,
            runtime=_runtime(body, media_type),
            rating=_rating(body),
            popularity=max(0.0, popularity),
            original_language=language if language and _LANGUAGE.match(language) else None,
            adult=adult is True,
            original_title=original if original != title else None,
        )
    )


def _original_title(body: dict[str, Any], media_type: str) -> str | None:
    """TMDB's own name of the title (`original_title`, TV's `original_name`), read as the title is; None when it is
    absent or not one the catalogue could hold (it only matches a row, so it never makes the record malformed)."""
    value = body.get("original_title" if media_type == "movie" else "original_name")
    if not isinstance(value, str) or not clean_text(value):
        return None
    try:
        return parse_title(clean_text(value), null_markers=False)
    except FieldValueError:
        return None


def _people(names: list[str]) -> str | None:
    """Directors joined by ", ", as many as fit the rule's MAX_PEOPLE_CHARS."""
    joined = ""
    for name in names:
        longer = f"{joined}, {name}" if joined else name
        if len(longer) > MAX_PEOPLE_CHARS:
            break
        joined = longer
    return joined or None


_EMPTY: dict[str, Any] = {"genre": [], "actors": []}


def _within_rules(title: TmdbTitle) -> TmdbTitle:
    """The title with every field the catalogue's rules (movie_rules, those of CSV rows and the admin form) would
    refuse left empty: a movie stored with such a value could not be edited in the admin form afterwards (each edit
    is checked on the whole movie, so it was a 422 on a field the admin did not touch)."""
    values = {
        "title": title.title,
        "year": title.year,
        "genre": title.genre,
        "director": title.director,
        "actors": title.actors,
        "plot": title.plot,
        "poster_url": title.poster_url,
        "media_type": title.media_type,
        "release_date": title.release_date,
        "runtime": title.runtime,
        "rating": title.rating,
        "imdb_id": title.imdb_id,
    }
    check = check_movie({k: v for k, v in values.items() if v is not None and v != []}, source="tmdb")
    cleared: dict[str, Any] = {
        e.field: _EMPTY.get(e.field) for e in check.errors if e.field not in ("title", "media_type")
    }
    if "release_date" in cleared or "year" in cleared:
        cleared.update(release_date=None, year=None)
    return replace(title, **cleared) if cleared else title


@dataclass(frozen=True)
class ListEntry:
    """One title of a list page (or of a change-feed page): its TMDB id, whether TMDB marks it adult, and the title
    and year the page shows (`title` or `name`, the year of `release_date` or `first_air_date`; None when the page
    has none, as a change feed's entries do), read as the details' are."""

    tmdb_id: int
    adult: bool
    title: str | None = None
    year: int | None = None


def _entry_title(entry: dict[str, Any]) -> tuple[str | None, int | None]:
    """The title and year a list entry shows, read as map_details reads a title's; (None, None) when unreadable."""
    raw = entry.get("title", entry.get("name"))
    if not isinstance(raw, str) or not clean_text(raw):
        return None, None
    try:
        title = parse_title(clean_text(raw), null_markers=False)
    except FieldValueError:
        return None, None
    released = entry.get("release_date", entry.get("first_air_date"))
    year = None
    if isinstance(released, str) and released:
        try:
            year = date.fromisoformat(released).year
        except ValueError:
            year = None
    if year is not None and not MIN_YEAR <= year <= this_year() + YEARS_AHEAD:
        year = None
    return title, year


def list_entries(body: dict[str, Any]) -> tuple[list[ListEntry], int]:
    """A list or change-feed page's entries and its `total_pages`; entries without a positive integer id that the
    catalogue can hold (TMDB ids are PostgreSQL integers) are dropped. Raises MalformedRecordError when `results`
    is not an array."""
    results = body.get("results")
    if not isinstance(results, list):
        raise MalformedRecordError("page has no results array")
    total_pages = body.get("total_pages")
    entries = [
        ListEntry(r["id"], r.get("adult") is True, *_entry_title(r))
        for r in results
        if isinstance(r, dict)
        and isinstance(r.get("id"), int)
        and not isinstance(r.get("id"), bool)
        and 0 < r["id"] <= MAX_TMDB_ID
    ]
    pages = total_pages if isinstance(total_pages, int) and not isinstance(total_pages, bool) else 1
    return entries, max(1, pages)
