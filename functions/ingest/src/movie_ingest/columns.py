"""Which column of an uploaded CSV holds which movie field (IngestFunction): header spellings, values to fields.

Header names are compared without case, spaces, underscores, hyphens, dots or brackets, so `Series_Title`,
`series title` and `SeriesTitle` are one spelling. Each field lists its spellings by preference: when a file has
two (say `title` and `original_title`), the first listed is read and the other is reported as ignored. Actors may
also come from numbered columns (`Star1`..`Star4`, `actor_1_name`, `cast2`), read in their numbers' order.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from movie_common.errors import MissingTitleColumnError
from movie_common.movie_rules import CHECKED_FIELDS, CLOCK_TIME, FIELDS, full_year, is_null_marker

ALIASES: Mapping[str, tuple[str, ...]] = {
    "title": (
        "title",
        "primarytitle",
        "seriestitle",
        "movietitle",
        "filmtitle",
        "showtitle",
        "name",
        "movie",
        "film",
        "moviename",  # `Movie Name`, `Film Name`: Kaggle's and spreadsheets' header for the title
        "filmname",
        "titlename",
        "movietitleenglish",
        "originaltitle",
    ),
    "year": ("year", "releasedyear", "releaseyear", "startyear", "titleyear", "movieyear", "yearofrelease", "yr"),
    "release_date": (
        "releasedate",
        "released",
        "releasedon",
        "datereleased",
        "firstairdate",
        "airdate",
        "premiere",
        "premieredate",
    ),
    "genre": ("genre", "genres", "genrelist", "listedin"),
    "director": ("director", "directors", "directorname", "directornames", "directedby"),
    "actors": ("actors", "cast", "stars", "starring", "castmembers", "mainactors", "actor", "castlist"),
    "plot": ("plot", "overview", "description", "summary", "synopsis", "storyline", "plotsummary", "plotoutline"),
    "poster_url": (
        "posterurl",
        "posterlink",
        "poster",
        "posterpath",
        "posterimage",
        "posterimageurl",
        "imageurl",
        "image",
        "coverurl",
        "thumbnail",
    ),
    "runtime": ("runtime", "runtimeminutes", "runtimemin", "runtimemins", "duration", "runningtime", "length"),
    "rating": ("rating", "imdbrating", "voteaverage", "averagerating", "imdbscore", "userrating", "score"),
    "popularity": ("popularity",),
    "media_type": ("mediatype", "type", "titletype", "kind", "contenttype", "showtype"),
    "imdb_id": ("imdbid", "imdb", "tconst", "imdbidentifier", "imdblink", "movieimdblink", "imdburl"),
    "tmdb_id": ("tmdbid", "tmdb", "themoviedbid"),
    # checked, never stored (movie_rules.CHECKED_FIELDS): IMDb's title.basics `isAdult`, TMDB's exports' `adult`
    "adult": ("adult", "isadult"),
}
_NUMBERED_ACTOR = re.compile(r"^(?:star|actor|actress|cast|castmember|lead)(\d{1,2})(?:name)?$")
_SPELLING = re.compile(r"[^0-9a-z]+")
# TMDB exports give poster paths relative to its image server (`/qJ2tW6WMUDux911r6m7haRef0WH.jpg`); the TMDB sync
# builds a poster URL as the configuration's secure_base_url + its poster size (w500) + the path, and so does this.
TMDB_IMAGE_BASE = "https://image.tmdb.org/t/p/w500"
_TMDB_IMAGE_FILE = re.compile(r"^/?[A-Za-z0-9_-]+\.(?:jpg|jpeg|png|svg|webp)$")

# TMDB's own exports (Kaggle's tmdb_5000_movies.csv, the TMDB movies dataset, The Movies Dataset's
# movies_metadata.csv) name their columns as TMDB's API does. Such a file is recognised by a relative image path
# column, or by `vote_average` beside another name only TMDB uses; its `id` is then TMDB's id. A bare `id` in any
# other file is the file's own row number or key (MovieLens's movieId, a database's serial) and is never read.
_TMDB_IMAGE_COLUMNS = frozenset(("posterpath", "backdroppath"))
_TMDB_BESIDE_VOTE_AVERAGE = frozenset(("originaltitle", "originalname", "votecount"))
# Which kind of title a TMDB file holds, by TMDB's names for a movie's fields and a series' (a series has a `name`,
# `original_name` and `first_air_date`); its ids are movie ids or TV ids, which TMDB numbers apart.
_TMDB_MOVIE_COLUMNS = frozenset(("title", "originaltitle", "releasedate"))
_TMDB_TV_COLUMNS = frozenset(("originalname", "firstairdate", "numberofseasons", "numberofepisodes"))
# Letterboxd's exports (ratings.csv, diary.csv, watched.csv, reviews.csv) all carry `Letterboxd URI`; their `Rating`
# is stars, 0.5 to 5 in halves, read on the catalogue's scale of 10 (4.5 stars is 9.0).
_LETTERBOXD_COLUMN = "letterboxduri"
# The streaming catalogues' exports (Kaggle's Netflix, Amazon Prime, Hulu and Disney+ titles: `show_id, type, title,
# ..., rating, duration, listed_in`) are recognised by `listed_in`: their `rating` is always the certification, never
# a score (Amazon's bare `16` is an age), so it is not read (listed as unknown).
_STREAMING_COLUMN = "listedin"
# IMDb's own exports (a user's ratings, watchlist and lists: `Const, Your Rating, Title, URL, Title Type, IMDb Rating,
# Runtime (mins), ...`) are recognised by `Const` beside `URL` or `Title Type`: `Const` is the IMDb id, and a list's
# `Description` is the list maker's note on the title, not its plot (listed as unknown). `Your Rating` is one person's
# and never read.
_IMDB_EXPORT_ID = "const"
_IMDB_EXPORT_BESIDE = frozenset(("url", "titletype"))
_PLAIN_NUMBER = re.compile(r"^\s*\d+(?:[.,]\d+)?\s*$")
_ZERO = re.compile(r"^\s*0+(?:[.,]0+)?\s*$")


# Values real files put in a column of another meaning, read as no value rather than refusing the row: streaming
# catalogues (Netflix's, Amazon's, Hulu's, Disney+'s exports) call the certification `rating` (PG-13, TV-MA; Amazon's
# ages 13+, ALL, AGES_16_, NOT_RATE) and give a show's length as seasons in `duration` (2 Seasons), beside scores and
# minutes in the same files' kind.
_NOT_THIS_FIELD = {
    "rating": re.compile(
        r"^\s*(?:G|PG|PG-13|R|NC-17|NR|UR|GP|M|X|TV-(?:Y7-FV|Y7|Y|G|PG|14|MA|NR)|U|UA|12A|Not Rated|Unrated|Approved"
        r"|Passed|NOT_RATE|\d{1,2}\+|ALL|ALL_AGES|AGES_\d{1,2}_)\s*$",
        re.IGNORECASE,
    ),
    "runtime": re.compile(r"^\s*\d+\s+(?:seasons?|series|episodes?)\s*$", re.IGNORECASE),
}


# The number of votes behind a rating, read beside it (never stored): TMDB's `vote_count`, IMDb's `numVotes` and
# `No_of_Votes`.
VOTE_COUNT_SPELLINGS = ("votecount", "numvotes", "noofvotes", "numberofvotes", "votes")


def spelling(name: str) -> str:
    """A header name as compared: `Series_Title` -> `seriestitle`."""
    return _SPELLING.sub("", name.lower())


@dataclass(frozen=True)
class ColumnMap:
    """Where each movie field is read from (column positions and the file's names for them), and what is not."""

    positions: Mapping[str, tuple[int, ...]]
    names: Mapping[str, tuple[str, ...]]
    unknown: tuple[str, ...]  # columns no field reads (unknown spellings, second spellings, repeated names)
    header: tuple[str, ...]
    vote_count_at: int | None = None  # a vote count column (`vote_count`, `No_of_Votes`): 0 votes, no rating
    date_order: str | None = None  # "dmy" or "mdy" when the file's own dates show it (infer_date_order)
    tmdb_export: bool = False  # the file is one of TMDB's own exports (relative poster paths are TMDB's images)
    media_type: str | None = None  # the media type of rows that give none ("tv" in TMDB's export of series)
    stars: bool = False  # ratings are stars out of 5 (Letterboxd's exports)
    _single: tuple[tuple[str, int], ...] = dataclasses.field(init=False, repr=False, compare=False)
    _actor_columns: tuple[int, ...] = dataclasses.field(init=False, repr=False, compare=False)
    _poster_path: bool = dataclasses.field(init=False, repr=False, compare=False)

    def column_of(self, field: str) -> str:
        """The file's name(s) for a field, as reports show them: `Released_Year`, `Star1, Star2, Star3, Star4`."""
        return ", ".join(self.names.get(field, ())) or field

    def values(self, fields: Sequence[str]) -> dict[str, object]:
        """One record's values by movie field: text, None where empty or a null token, a list for actor columns."""
        values: dict[str, object] = {}
        width = len(fields)
        for name, positions in self._single:
            cell = fields[positions] if positions < width else ""
            values[name] = _value(cell) if name != "title" else (cell if cell.strip() else None)
        for name, pattern in _NOT_THIS_FIELD.items():
            cell_value = values.get(name)
            if isinstance(cell_value, str) and pattern.match(cell_value):
                values[name] = None
        if self.date_order is not None and isinstance(released := values.get("release_date"), str):
            values["release_date"] = _ordered_date(released, self.date_order)
        if self.vote_count_at is not None and values.get("rating") is not None and self.vote_count_at < width:
            # TMDB's exports write a vote_average of 0 for a title nobody voted on: that is no rating, not 0 of 10.
            votes = fields[self.vote_count_at].strip().replace(",", "")
            if votes.isdigit() and int(votes) == 0:
                values["rating"] = None
        if self.tmdb_export and isinstance(runtime := values.get("runtime"), str) and _ZERO.match(runtime):
            # TMDB writes a runtime of 0 for a title whose length it does not know (the sync reads it as none).
            values["runtime"] = None
        if self._actor_columns:
            cells = [_value(fields[i]) for i in self._actor_columns if i < width]
            values["actors"] = [cell for cell in cells if cell is not None]
        if self._poster_path:
            path = values.get("poster_url")
            if isinstance(path, str) and _TMDB_IMAGE_FILE.match(path := path.strip()):
                values["poster_url"] = TMDB_IMAGE_BASE + ("" if path.startswith("/") else "/") + path
        if self.stars and isinstance(stars := values.get("rating"), str) and _PLAIN_NUMBER.match(stars):
            values["rating"] = stars.strip() + "/5"  # movie_rules reads `4.5/5` as 9.0 out of 10
        if self.media_type is not None and values.get("media_type") is None:
            values["media_type"] = self.media_type
        return values

    def __post_init__(self) -> None:
        multi = self.positions.get("actors", ())
        single = [
            (name, found[0]) for name, found in self.positions.items() if not (name == "actors" and len(multi) > 1)
        ]
        object.__setattr__(self, "_single", tuple(single))
        object.__setattr__(self, "_actor_columns", tuple(multi) if len(multi) > 1 else ())
        poster = self.names.get("poster_url", ())
        object.__setattr__(
            self, "_poster_path", bool(poster) and (self.tmdb_export or spelling(poster[0]) == "posterpath")
        )


_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})" + CLOCK_TIME + r"\s*$")


def infer_date_order(dates: Iterable[str]) -> str | None:
    """ "dmy" when some of a file's numeric dates can only be day first (`23/09/1994`) and none only month first,
    "mdy" the other way round, else None (no evidence, or both: each date is then read alone, and an ambiguous one
    is refused)."""
    day_first = month_first = False
    for text in dates:
        if match := _NUMERIC_DATE.match(text):
            first, second = int(match.group(1)), int(match.group(2))
            day_first |= first > 12 >= second
            month_first |= second > 12 >= first
    if day_first != month_first:
        return "dmy" if day_first else "mdy"
    return None


def date_order_evidence(dates: Iterable[str], order: str) -> str | None:
    """The first of `dates` that can only be read in `order` ("dmy": `23/09/1994`), to name in the job's warning."""
    for text in dates:
        if match := _NUMERIC_DATE.match(text):
            first, second = int(match.group(1)), int(match.group(2))
            if (first > 12 >= second) if order == "dmy" else (second > 12 >= first):
                return text
    return None


def _ordered_date(text: str, order: str) -> str:
    """A numeric date whose day and month could be either way round, as ISO in the file's order; others as given."""
    match = _NUMERIC_DATE.match(text)
    if match is None:
        return text
    first, second, year = int(match.group(1)), int(match.group(2)), full_year(match.group(3))
    if first > 12 or second > 12 or first == second:
        return text  # not ambiguous: read as it is
    day, month = (first, second) if order == "dmy" else (second, first)
    return f"{year}-{month:02d}-{day:02d}"


def _value(cell: str) -> str | None:
    """A cell's text, or None when it is empty or a null marker (`N/A`, `\\N`, `null`, ...: movie_rules)."""
    if not cell:
        return None
    if len(cell) <= 10 and (not cell.strip() or is_null_marker(cell)):
        return None
    return cell


def map_columns(header: Sequence[str], *, list_notes: bool = False) -> ColumnMap:
    """Map a header row onto movie fields. MissingTitleColumnError (listing the columns seen) without a title.

    list_notes: the file is a list's export whose `Description` is the list maker's note on each film (Letterboxd's
    lists), not its plot: not read, as in IMDb's list exports (recognised from the header alone)."""
    by_spelling: dict[str, int] = {}
    unknown: list[str] = []
    for i, name in enumerate(header):
        key = spelling(name)
        if not key or key in by_spelling:
            if name:
                unknown.append(name)
            continue
        by_spelling[key] = i
    positions: dict[str, tuple[int, ...]] = {}
    used: set[int] = set()
    streaming = _STREAMING_COLUMN in by_spelling
    imdb_export = _IMDB_EXPORT_ID in by_spelling and not _IMDB_EXPORT_BESIDE.isdisjoint(by_spelling)
    for field, aliases in ALIASES.items():
        found = [
            by_spelling[alias]
            for alias in aliases
            if alias in by_spelling
            and not (streaming and alias == "rating")  # the certification there
            and not ((imdb_export or list_notes) and alias == "description")  # the list maker's note there
        ]
        if imdb_export and field == "imdb_id" and not found:
            found = [by_spelling[_IMDB_EXPORT_ID]]
        if found:
            positions[field] = (found[0],)
            used.add(found[0])
    if "actors" not in positions:
        numbered = sorted(
            (int(match.group(1)), i)
            for key, i in by_spelling.items()
            if (match := _NUMBERED_ACTOR.match(key)) is not None
        )
        if numbered:
            positions["actors"] = tuple(i for _, i in numbered)
            used.update(positions["actors"])
    tmdb_export = _is_tmdb_export(by_spelling)
    media_type = None
    if tmdb_export and "tmdb_id" not in positions and "id" in by_spelling:
        kind = _tmdb_kind(by_spelling)
        if kind is not None or "media_type" in positions:
            positions["tmdb_id"] = (by_spelling["id"],)
            used.add(by_spelling["id"])
            media_type = kind if kind == "tv" else None
    vote_count_at = None
    if "rating" in positions:
        vote_count_at = next((by_spelling[a] for a in VOTE_COUNT_SPELLINGS if a in by_spelling), None)
        if vote_count_at is not None:
            used.add(vote_count_at)
    unknown += [header[i] for i in sorted(by_spelling.values()) if i not in used]
    if "title" not in positions:
        seen = ", ".join(repr(name) for name in header[:20]) or "none"
        raise MissingTitleColumnError(
            f"No title column: the header row has to name one (title, name, Series_Title, primaryTitle, "
            f"movie_title, ...). Columns found: {seen}."
        )
    names = {field: tuple(header[i] for i in found) for field, found in positions.items()}
    ordered = {field: positions[field] for field in (*FIELDS, *CHECKED_FIELDS) if field in positions}
    return ColumnMap(
        ordered,
        names,
        tuple(unknown),
        tuple(header),
        vote_count_at,
        tmdb_export=tmdb_export,
        media_type=media_type,
        stars=_LETTERBOXD_COLUMN in by_spelling,
    )


def _is_tmdb_export(by_spelling: Mapping[str, int]) -> bool:
    """Whether a header is one of TMDB's own exports: a relative image path column (`poster_path`,
    `backdrop_path`), or `vote_average` beside `original_title`, `original_name` or `vote_count`."""
    if not _TMDB_IMAGE_COLUMNS.isdisjoint(by_spelling):
        return True
    return "voteaverage" in by_spelling and not _TMDB_BESIDE_VOTE_AVERAGE.isdisjoint(by_spelling)


def _tmdb_kind(by_spelling: Mapping[str, int]) -> str | None:
    """ "movie" or "tv" when a TMDB export's columns are one kind's alone; None when they are neither or both."""
    movie = not _TMDB_MOVIE_COLUMNS.isdisjoint(by_spelling)
    tv = not _TMDB_TV_COLUMNS.isdisjoint(by_spelling)
    if movie == tv:
        return None
    return "movie" if movie else "tv"
