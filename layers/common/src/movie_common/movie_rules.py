"""The movie validation rules shared by CSV ingest rows and the admin movie form (framework-free, no database).

Values arrive as a person or a file gives them (text such as `142 min`, `(1994)`, `Crime, Drama`, or already
typed values from a JSON form) and leave as a `MovieRow` ready to be written, or as a list of `FieldError`s, one
per violation, each with a stable `code` and a sentence for people. Rules read values the way a person would: a
runtime with units, a year in brackets or inside the title, names separated by commas in one field, a number with
thousands separators, the media-type spellings real files use.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

# Movie fields, in the order of the `movies` table (docs/architecture.md section 2).
FIELDS = (
    "title",
    "year",
    "genre",
    "director",
    "actors",
    "plot",
    "poster_url",
    "media_type",
    "release_date",
    "runtime",
    "rating",
    "popularity",
    "tmdb_id",
    "imdb_id",
)
# Fields a row is checked by but that are never stored: `adult` (IMDb's isAdult, TMDB's adult). The catalogue holds
# no adult titles, as the TMDB sync skips them; a file's adult rows are refused (`adult_title`).
CHECKED_FIELDS = ("adult",)
_TRUE_WORDS = frozenset(("1", "true", "t", "yes", "y"))

MIN_YEAR = 1870  # the oldest surviving motion pictures are from the late 1870s; the schema's CHECK agrees
YEARS_AHEAD = 20  # announced films; the schema itself allows up to 2100
# How far a release date's year may be from the movie's year: a film shown at a festival late in one year opens in
# cinemas the next (a year of 1994 with a release on 1995-03-10 is real), so one year either way, and no more.
MAX_YEAR_DATE_GAP = 1
# A date written with a two-digit year (`23-Sep-94`, Excel's d-mmm-yy; `9/23/94`, its m/d/yy) is in this century
# when that is at most this many years ahead, else in the last: in 2026, `28` is 2028 and `29` is 1929. Excel's own
# rule (00-29 is 20xx) drifts as the years pass; films are far more often old than announced.
TWO_DIGIT_YEARS_AHEAD = 2
MAX_TITLE_CHARS = 500
MAX_NAME_CHARS = 200
MAX_NAMES = 200
MAX_GENRES = 30
MAX_PEOPLE_CHARS = 1000  # director: several names joined by ", "
MAX_PLOT_CHARS = 20_000
MAX_URL_CHARS = 2048
MAX_RUNTIME_MINUTES = 6000  # 100 hours; the longest released films run a few dozen
MAX_TMDB_ID = 2**31 - 1
MEDIA_TYPES = ("movie", "tv")


class MovieRow(NamedTuple):
    """A validated movie ready to be written (source: a CSV row, the admin form, the bundled catalogue).

    Lists are empty and scalars None where the source gave no value; writers then keep what the catalogue holds.
    `media_type` None means "movie" for a new row. `line` is where the row started in its file (for reports).
    The first eight fields keep their positions so older callers can build rows positionally. A named tuple, not
    a dataclass: ingest builds a million of these a minute, and a frozen dataclass costs several times more.
    """

    title: str
    year: int | None
    genre: list[str]
    director: str | None
    actors: list[str]
    plot: str | None
    poster_url: str | None
    source: str = "csv"
    media_type: str | None = None
    release_date: dt.date | None = None
    runtime: int | None = None  # minutes
    rating: Decimal | None = None  # 0.0 to 10.0, one decimal
    popularity: float | None = None
    tmdb_id: int | None = None
    imdb_id: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class FieldError:
    """One violation: the movie field, a stable `code` (see CODES), a sentence for people, and the value seen."""

    field: str
    code: str
    message: str
    value: str | None = None


# Every code a FieldError can carry; clients may rely on these staying the same.
CODES = (
    "required",
    "too_long",
    "too_many",
    "not_a_number",
    "not_a_whole_number",
    "out_of_range",
    "not_a_url",
    "not_a_date",
    "ambiguous_date",
    "not_a_duration",
    "unknown_media_type",
    "not_a_movie_or_series",
    "malformed_imdb_id",
    "malformed_text",
    "year_mismatch",
    "adult_title",
)


@dataclass
class MovieCheck:
    """The outcome of `check_movie`: a row when every field passed, and every violation found."""

    movie: MovieRow | None
    errors: list[FieldError] = field(default_factory=list)


class FieldValueError(ValueError):
    """Raised by the parse_* functions: a stable `code` (see CODES) and a sentence for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_SPACES = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 and C1 controls (tab, line feed and carriage return are white space, below); the bidirectional embeddings,
# overrides and isolates (U+202A-U+202E, U+2066-U+2069), with which `\u202eevil title` displays as `eltit live` in
# every page and client that shows it (the tenth tester's finding; no catalogue title needs them); and the invisible
# characters that change no letter: the soft hyphen, zero-width space, direction marks (U+200E, U+200F, U+061C), the
# word joiner and invisible operators (U+2060-U+2064) and the BOM. `The God\u200bfather` looked like The Godfather
# and was stored beside it by the admin form (the eleventh tester). The zero-width joiner and non-joiner stay: they
# shape Persian and Indic words and emoji.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
# `Heat (1995)`, `Heat [1995]`, and Wikipedia's article names `Heat (1995 film)`, `Cosmos (1980 TV series)`.
_TITLE_YEAR = re.compile(
    r"^(?P<title>.*\S)\s*[(\[](?P<year>\d{4})(?:\s+(?:(?:American|British|Canadian|Australian|Indian)\s+)?"
    r"(?P<kind>film|movie|TV film|TV movie|TV series|TV miniseries|miniseries|serial|documentary))?[)\]]$"
)
# The kinds of Wikipedia's article names that are television, not film (`serial` is a film serial of the 1910s).
_TV_KINDS = frozenset(("TV series", "TV miniseries", "miniseries"))
_YEAR_TEXT = re.compile(r"^[(\[]?\s*(?P<year>\d{4})(?:[.,]0+)?\s*(?:[-\u2013\u2014/]\s*(?:\d{4})?\s*)?[)\]]?$")
# A year written as approximate (`c. 1994`, `ca 1994`, `circa 1994`, `~1994`, `1994?`, `1994 (?)`): a person reads 1994.
_APPROXIMATE_YEAR = re.compile(r"^(?:(?:c|ca|circa|approx)\.?\s*|~\s*)?(?P<year>\d{4})(?:\s*\(?\?\)?)?$", re.IGNORECASE)
# `'94` (or with a typographic apostrophe, U+2019): two digits, read as a date's two-digit year is (full_year).
_APOSTROPHE_YEAR = re.compile(r"^['\u2019\u2018`](?P<digits>\d{2})$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:[,\u00a0\u202f' ]\d{3})+(?:\.\d+)?$")
_SIMPLE_RATING = re.compile(r"^\d{1,2}(?:\.\d)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
# Europe's spreadsheets: thousands by points or spaces and a decimal comma (`1.234,56`, `1 234,5`), or points between
# groups of three only (`1.234.567`, which no decimal point writes). `1.234` alone stays one point two three four.
_EUROPEAN_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:(?:[.\u00a0\u202f' ]\d{3})+,\d+|(?:\.\d{3}){2,})$")
_IMDB_ID = re.compile(r"(?i)\b(tt\d{7,10})\b")
_DIGITS = re.compile(r"^\d{1,10}$")
# scheme://host[:port] then anything without white space (what urllib.parse.urlsplit accepts, minus spaces), and
# none of the characters RFC 3986 never allows raw that end an HTML attribute or tag: `"`, `<`, `>`, a backtick and a
# backslash anywhere, nor an apostrophe in the host (`https://x"onerror="alert(1)` is no URL, and would be a script
# in a client writing <img src="..."> unescaped). Percent-encoded (%22, %3C, %3E, %60, %5C) they are fine; an
# apostrophe in a path is a legal URL character (Wikipedia's `Schindler's_List.jpg`).
_HTTP_URL = re.compile(r"""(?i)^https?://(?:[^\s/?#@"<>`\\]+@)?[^\s/?#@"'<>`\\]+(?:[/?#][^\s"<>`\\]*)?$""")
_URL_AFTER_HOST = re.compile(r"(?i)^(https?://[^\s/?#]+)([/?#].*)$")
_NAME_SUFFIX = re.compile(r"(?i)^(jr|sr|jnr|snr|ii|iii|iv|v|esq|phd|md)\.?$")


def clean_text(value: str) -> str:
    """Whitespace runs (newlines and tabs included) become one space; control characters, bidirectional overrides
    and letterless invisible characters go (_CONTROL); ends are trimmed."""
    if _CONTROL.search(value):
        value = _CONTROL.sub("", value)
    return _SPACES.sub(" ", value).strip()


def _tidy(text: str) -> str:
    """clean_text, skipped (it is the slow part) for text that is printable with single spaces inside only."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return clean_text(text)


def _text(value: object) -> str | None:
    """A value as clean text; None for missing or blank values."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        # a JSON list or object is not text: str() would store its Python repr ("['a']") as the title or plot
        raise FieldValueError("malformed_text", "expected text")
    text = _tidy(value if isinstance(value, str) else str(value))
    # A JSON "\ud800" escape: not Unicode text, and PostgreSQL could not store it.
    if not text.isprintable() and _SURROGATE.search(text):
        raise FieldValueError("malformed_text", "text must be valid Unicode (a lone surrogate such as \\ud800 is not)")
    return text or None


def _shown(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def this_year() -> int:
    return dt.datetime.now(dt.UTC).year


# ---------------------------------------------------------------------------------------------------- titles, years


# What files write for "no value": spreadsheets (`#N/A`, `#NULL!`, Excel's `(blank)`), database dumps (`NULL`,
# IMDb's and MySQL's `\N`), pandas (`NaN`, `<NA>`, `None`), people (`n/a`, `-`, `?`). A cell holding only one of
# these is empty, in every column (movie_ingest.columns); a title that is only one of these is no title
# (parse_title).
NULL_MARKERS = frozenset(
    (
        "n/a",
        "na",
        "<na>",
        "null",
        "(null)",
        "#null!",
        "none",
        "nan",
        "\\n",
        "-",
        "--",
        "?",
        "#n/a",
        "n.a.",
        "(blank)",
        "nil",
        "undefined",
    )
)
# Null markers that are also the whole title of a real film, kept as titles: `?` (Hanung Bramantyo, 2011).
_TITLE_NULL_MARKERS = NULL_MARKERS - {"?"}


def is_null_marker(text: str) -> bool:
    """Whether a cell's text is only a "no value" marker (NULL_MARKERS, any case, spaces around ignored)."""
    return len(text) <= 10 and text.strip().lower() in NULL_MARKERS


# A title's leading article written after it, as MovieLens (and lists sorted by title) write it: `Godfather, The`,
# `Cité des enfants perdus, La`, `Appartement, L'`. No title ends in a comma and a bare article otherwise (none of
# the 36,273 films of the Wikipedia list behind data/ nor of IMDb's top 1,000 does; the Wikipedia list's own
# `Goonies, The` are this form), so the article goes back in front with or without a year. `I` and `Die` are
# English words too (`..., Die` could end a title), so they move only in MovieLens's full form, before a year.
_TRAILING_ARTICLE = re.compile(
    r"^(?P<title>.*\S),\s+(?P<article>The|A|An|Les|La|Le|L'|Il|Lo|Gli|I|Die|Der|Das|El|Los|Las|Det|Den|De|Het)$"
)
_ENGLISH_TOO = frozenset(("I", "Die"))
# MovieLens's alternate titles: `Seven (a.k.a. Se7en) (1995)`, `Cité des enfants perdus, La` in
# `City of Lost Children, The (Cité des enfants perdus, La) (1995)`: a title, then a bracket, then the year bracket.
_ALTERNATE_TITLE = re.compile(r"^(?P<title>.*\S)\s+\((?P<alternate>[^()]+)\)$")
# A bracket continues the title, and is no alternate title, after a word that needs more (`Birdman or (The
# Unexpected Virtue of Ignorance)`) or when it starts with one (`Bon Voyage, Charlie Brown (and Don't Come Back!!)`).
_JOINS_BEFORE = re.compile(
    r"(?i)(?:[:,;&+/\-\u2013\u2014]|\b(?:or|and|of|the|a|an|to|in|on|at|for|with|by|from|but|nor|vs\.?|versus))$"
)
_JOINS_AFTER = re.compile(r"(?i)^(?:[*&+,;:]|(?:and|or|but|nor|of|to)\b)")
_AKA = re.compile(r"(?i)^(?:a\.k\.a\.?|aka|also known as)\s")


def _put_article_back(title: str, *, movielens: bool) -> str:
    """`Godfather, The` -> `The Godfather`; `Appartement, L'` -> `L'Appartement`. Other titles as they are."""
    moved = _TRAILING_ARTICLE.match(title)
    if moved is None:
        return title
    article = moved.group("article")
    if article in _ENGLISH_TOO and not movielens:
        return title
    return article + ("" if article.endswith("'") else " ") + moved.group("title")


def _without_alternates(title: str, *, movielens: bool) -> str:
    """A title without MovieLens's alternate titles in brackets at its end: `Léon: The Professional (a.k.a. The
    Professional) (Léon)` -> `Léon: The Professional`. In MovieLens's full form (movielens: the year bracket came
    after them) every such bracket is one, unless it continues the title (see _JOINS_BEFORE) or is the whole title
    (`(Untitled)`). Without the year bracket (MovieLens's title with its year moved to a column) only the brackets
    that cannot be part of a title go: `(a.k.a. Se7en)`, an inverted title (`(Cité des enfants perdus, La)`), or a
    bracket after an inverted title (`City of Lost Children, The (…)`)."""
    while title[-1:] == ")" and (match := _ALTERNATE_TITLE.match(title)) is not None:
        before, alternate = match.group("title"), match.group("alternate")
        inverted = _TRAILING_ARTICLE.match(before) is not None  # `City of Lost Children, The`: a whole title
        if movielens:
            if (_JOINS_BEFORE.search(before) and not inverted) or _JOINS_AFTER.match(alternate):
                break
        elif not (inverted or _AKA.match(alternate) or _TRAILING_ARTICLE.match(alternate)):
            break
        title = before
    return title


def split_title_year(title: str) -> tuple[str, int | None]:
    """A title ending in a bracketed year, as MovieLens writes titles, read as a person reads it: `The Matrix (1999)`
    -> ("The Matrix", 1999); an alternate title in brackets before the year goes (`Seven (a.k.a. Se7en) (1995)` ->
    ("Seven", 1995)), and a leading article written after the title goes back in front (`City of Lost Children, The
    (Cité des enfants perdus, La) (1995)` -> ("The City of Lost Children", 1995)). A title without a trailing
    bracketed year (or whose year is outside MIN_YEAR..this year + YEARS_AHEAD) is returned as is, with None."""
    match = _TITLE_YEAR.match(title) if title[-1:] in (")", "]") else None
    if match is None:
        return title, None
    year = int(match.group("year"))
    if not MIN_YEAR <= year <= this_year() + YEARS_AHEAD:
        return title, None
    return _put_article_back(_without_alternates(match.group("title"), movielens=True), movielens=True), year


def title_media_type(title: str) -> str | None:
    """The media type a title's Wikipedia article name says: "tv" for a series (`Cosmos (1980 TV series)`, `Roots
    (1977 miniseries)`), whose year bracket split_title_year reads; None otherwise."""
    match = _TITLE_YEAR.match(title) if title[-1:] in (")", "]") else None
    return "tv" if match is not None and match.group("kind") in _TV_KINDS else None


def read_title(title: str) -> str:
    """A title given without a year bracket: a leading article written after it goes back in front (`Godfather,
    The` -> `The Godfather`), and a MovieLens alternate title that cannot be part of a title goes (`Seven (a.k.a.
    Se7en)` -> `Seven`; see _without_alternates); others as they are."""
    if title[-1:] == ")":
        title = _without_alternates(title, movielens=False)
    return _put_article_back(title, movielens=False) if "," in title else title


# Characters nobody sees (format characters: zero-width spaces and joiners, soft hyphens, direction marks, the BOM),
# which the API's search reads as nothing (`title=%E2%80%8B` is an empty title there).
_INVISIBLE_CATEGORIES = frozenset(("Cc", "Cf"))


def _visible(text: str) -> bool:
    """Whether tidied text shows anything: printable text does; otherwise some character must be neither a space
    nor an invisible one."""
    return text.isprintable() or any(
        not c.isspace() and unicodedata.category(c) not in _INVISIBLE_CATEGORIES for c in text
    )


def parse_title(value: object, *, null_markers: bool = True) -> str:
    """A title: present and visible (not spaces and invisible characters alone), at most MAX_TITLE_CHARS after
    whitespace is tidied. FieldValueError `required` without one, and (unless null_markers is false) for a title that
    is only what files write for no value (`N/A`, `NULL`, `\\N`: NULL_MARKERS, `?` aside); `too_long`."""
    text = _text(value)
    if text is None or not _visible(text):
        raise FieldValueError("required", "a title is required")
    if null_markers and len(text) <= 10 and text.lower() in _TITLE_NULL_MARKERS:
        raise FieldValueError("required", f"a title is required ({text} is written for no value)")
    if len(text) > MAX_TITLE_CHARS:
        raise FieldValueError("too_long", f"a title is at most {MAX_TITLE_CHARS} characters, this one has {len(text)}")
    return text


def _year_alone(value: object) -> int | None:
    """The year of a release date written as a year alone (`1994`, `1994.0`, `(1994)`, `c. 1994`, a span's first
    year), else None: a
    file's date column holding only years, which a person reads as the year of release, the day unknown.
    FieldValueError `out_of_range` for a year outside the sane range."""
    text = _text(value) if isinstance(value, str) else None
    if text is None:
        return None
    match = _YEAR_TEXT.match(text) or _APPROXIMATE_YEAR.match(text)
    return None if match is None else _check_year(int(match.group("year")))


def _check_year(year: int) -> int:
    latest = this_year() + YEARS_AHEAD
    if not MIN_YEAR <= year <= latest:
        raise FieldValueError("out_of_range", f"a year is between {MIN_YEAR} and {latest}")
    return year


def parse_year(value: object) -> int | None:
    """A release year: `1994`, `1994.0` (`1994,0`), `(1994)`, a span such as `2008-2013` (its first year; en and em
    dashes too), or the year of a date (`1994-09-23`). FieldValueError when it is not one, or outside the sane range."""
    if value is None:
        return None
    if type(value) is str and len(value) == 4 and value.isdigit():  # the usual case, first
        return _check_year(int(value))
    if isinstance(value, bool):
        raise FieldValueError("not_a_number", "a year is a number such as 1994")
    if isinstance(value, int):
        return _check_year(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise FieldValueError("not_a_whole_number", "a year is a whole number")
        return _check_year(int(value))
    if isinstance(value, dt.date):
        return _check_year(value.year)
    text = _text(value)
    if text is None:
        return None
    if text.isdigit() and len(text) == 4:
        return _check_year(int(text))
    match = _YEAR_TEXT.match(text) or _APPROXIMATE_YEAR.match(text)
    if match:
        return _check_year(int(match.group("year")))
    if match := _APOSTROPHE_YEAR.match(text):
        return _check_year(full_year(match.group("digits")))
    try:
        parsed = parse_release_date(text)
    except FieldValueError:
        parsed = None
    if parsed is not None:
        return parsed.year
    if re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
        raise FieldValueError("out_of_range", f"a year is between {MIN_YEAR} and {this_year() + YEARS_AHEAD}")
    raise FieldValueError("not_a_number", "a year is a number such as 1994")


# ---------------------------------------------------------------------------------------------------- dates

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
# A time after a date, as Excel writes a cell holding one (`23/09/1994 10:00`, `9/23/1994 10:00:00 AM`): ignored.
CLOCK_TIME = r"(?:\s+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?)?"
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})" + CLOCK_TIME + "$")
# `23 September 1994`, and Excel's `23-Sep-1994` and `23-Sep-94`.
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?(?:\s+|-)([A-Za-z]+)\.?,?(?:\s+|-)(\d{4}|\d{2})$")
_MONTH_DAY_YEAR = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4}|\d{2})$")
# `September 1994`, `Sep. 1994`, `Sept 1994`: the first of the month, as `1994-09` is.
_MONTH_YEAR = re.compile(r"^([A-Za-z]+)\.?,?\s+(\d{4})$")


def full_year(digits: str) -> int:
    """A date's year as written: four digits as they are, two (`94`) in the century TWO_DIGIT_YEARS_AHEAD says."""
    year = int(digits)
    if len(digits) != 2:
        return year
    this_century = this_year() // 100 * 100
    if this_century + year <= this_year() + TWO_DIGIT_YEARS_AHEAD:
        return this_century + year
    return this_century - 100 + year


def _date(year: int, month: int, day: int) -> dt.date:
    try:
        date = dt.date(year, month, day)
    except ValueError:
        raise FieldValueError("not_a_date", "not a calendar date") from None
    _check_year(date.year)
    return date


def parse_release_date(value: object) -> dt.date | None:
    """A release date: `1994-09-23` (a time after it is ignored), `1994/09/23`, `23 September 1994`,
    `Sep 23, 1994`, `1994-09` or `September 1994` (the first of the month), or `23/09/1994` (a time after it ignored
    too) when day and month cannot be confused; a two-digit year (`23-Sep-94`, `9/23/94`) is read by full_year.
    FieldValueError `not_a_date`, `ambiguous_date`, `out_of_range`."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return _date(value.year, value.month, value.day)
    if isinstance(value, dt.date):
        return _date(value.year, value.month, value.day)
    text = _text(value)
    if text is None:
        return None
    if match := _ISO_DATE.match(text):
        return _date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := _ISO_MONTH.match(text):
        return _date(int(match.group(1)), int(match.group(2)), 1)
    if match := _NUMERIC_DATE.match(text):
        first, second, year = int(match.group(1)), int(match.group(2)), full_year(match.group(3))
        if first > 12 >= second:
            return _date(year, second, first)
        if second > 12 >= first or first == second:
            return _date(year, first, second)
        raise FieldValueError("ambiguous_date", "day and month could be either way round; write the date as YYYY-MM-DD")
    for pattern, day_group, month_group in ((_DAY_MONTH_YEAR, 1, 2), (_MONTH_DAY_YEAR, 2, 1)):
        if match := pattern.match(text):
            month = _MONTHS.get(match.group(month_group).lower())
            if month is not None:
                return _date(full_year(match.group(3)), month, int(match.group(day_group)))
    if (match := _MONTH_YEAR.match(text)) and (month := _MONTHS.get(match.group(1).lower())) is not None:
        return _date(int(match.group(2)), month, 1)
    raise FieldValueError("not_a_date", "a date is written like 1994-09-23")


# ---------------------------------------------------------------------------------------------------- numbers


def _number_text(text: str, *, decimal_comma: bool) -> str:
    """Thousands separators dropped (`2,343,110`); a decimal comma read as a point where allowed (`8,5`)."""
    text = text.replace("\u2212", "-")
    if decimal_comma and _EUROPEAN_THOUSANDS.match(text):
        return re.sub(r"[.\u00a0\u202f' ]", "", text).replace(",", ".")
    if _THOUSANDS.match(text) and not (decimal_comma and _DECIMAL_COMMA.match(text)):
        return re.sub(r"[,\u00a0\u202f' ]", "", text)
    if decimal_comma and _DECIMAL_COMMA.match(text):
        return text.replace(",", ".")
    return text


def _decimal(value: object, *, decimal_comma: bool) -> Decimal:
    if isinstance(value, bool):
        raise FieldValueError("not_a_number", "expected a number")
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FieldValueError("not_a_number", "expected a finite number")
        return Decimal(repr(value))
    text = _number_text(str(value).strip(), decimal_comma=decimal_comma)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise FieldValueError("not_a_number", "expected a number") from None
    if not number.is_finite():
        raise FieldValueError("not_a_number", "expected a finite number")
    return number


def parse_rating(value: object) -> Decimal | None:
    """A rating out of 10 with one decimal: `9.3`, `9,3`, `7.5/10`, `85%` (read as 8.5), `85/100` or `4.5/5` (stars,
    read as 9.0). FieldValueError `out_of_range` outside its scale, `not_a_number`."""
    text = _text(value) if isinstance(value, str) else value
    if text is None:
        return None
    if isinstance(text, str) and _SIMPLE_RATING.match(text):
        rating = Decimal(text)
        if rating > 10:
            raise FieldValueError("out_of_range", "a rating is between 0 and 10")
        return rating
    scale = Decimal(1)
    bounds = "a rating is between 0 and 10"
    if isinstance(text, str):
        if text.endswith("%"):
            text, scale = text[:-1].strip(), Decimal(10)
        elif "/" in text:
            number, _, out_of = text.partition("/")
            denominator = _decimal(out_of.strip(), decimal_comma=True)
            if denominator not in (10, 100, 5):
                raise FieldValueError("not_a_number", "a rating is out of 10")
            text, scale = number.strip(), denominator / 10
            bounds = f"a rating out of {denominator:g} is between 0 and {denominator:g}"
    rating = _decimal(text, decimal_comma=True) / scale
    if not 0 <= rating <= 10:
        raise FieldValueError("out_of_range", bounds)
    # Half up, as a person rounds and as the TMDB sync and PostgreSQL's numeric do: 7.45 is 7.5 wherever it comes from.
    return rating.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def parse_popularity(value: object) -> float | None:
    """TMDB-style popularity: a number of 0 or more (`1,234.5` allowed; `21,946943` and `0,5`, which are no thousands,
    have a decimal comma, as spreadsheets in most of Europe write them)."""
    text = _text(value) if isinstance(value, str) else value
    if text is None:
        return None
    number = float(_decimal(text, decimal_comma=isinstance(text, str) and not _THOUSANDS.match(text)))
    if number < 0 or not math.isfinite(number) or number > 1e9:
        raise FieldValueError("out_of_range", "popularity is a number of 0 or more")
    return number


def _whole(value: object, *, what: str, lowest: int, highest: int) -> int:
    """A whole number from lowest to highest. The range is checked on the Decimal, before int(): `1e999999` is a
    dozen characters, and making it an int builds a million-digit number (half a minute of CPU; longer per digit)."""
    number = _decimal(value, decimal_comma=False)
    if number != number.to_integral_value():
        raise FieldValueError("not_a_whole_number", f"{what} is a whole number")
    if not lowest <= number <= highest:
        raise FieldValueError("out_of_range", f"{what} is between {lowest} and {highest}")
    return int(number)


def parse_tmdb_id(value: object) -> int | None:
    """A TMDB id: a positive whole number (`603`, `603.0` as spreadsheet exports write it)."""
    text = _text(value) if isinstance(value, str) else value
    if text is None:
        return None
    return _whole(text, what="a TMDB id", lowest=1, highest=MAX_TMDB_ID)


def parse_imdb_id(value: object) -> str | None:
    """An IMDb title id `tt` + 7 to 10 digits; also found inside an IMDb URL, or given as bare digits (MovieLens)."""
    text = _text(value) if isinstance(value, str) else (None if value is None else str(value))
    if text is None:
        return None
    if match := _IMDB_ID.search(text):
        return match.group(1).lower()
    if _DIGITS.match(text) and int(text) > 0:
        return "tt" + text.zfill(7)
    raise FieldValueError("malformed_imdb_id", "an IMDb id looks like tt0111161")


_DURATION_PARTS = re.compile(
    r"^(?:(?P<hours>\d+(?:\.\d+)?)\s*(?:hours|hour|hrs|hr|h)\.?)?\s*"
    r"(?:(?P<minutes>\d+(?:\.\d+)?)\s*(?:minutes|minute|mins|min|mn|m)?\.?)?$",
    re.IGNORECASE,
)
_ISO_DURATION = re.compile(r"^PT(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?$", re.IGNORECASE)
_MINUTES = re.compile(r"^(\d{1,5})(?: ?(?:min|mins|minutes|m)\.?)?$", re.IGNORECASE)
_RUNTIME_DECIMAL_COMMA = re.compile(r"^(\d+),(\d{1,2})(?!\d)")
_CLOCK = re.compile(r"^(?P<hours>\d{1,2}):(?P<minutes>\d{2})(?::(?P<seconds>\d{2}))?$")


def parse_runtime(value: object) -> int | None:
    """A running time in whole minutes: `142`, `142 min`, `2h 22m`, `2 hr 22 min`, `2:22`, `PT2H22M`, `1.5 h`
    (`1,5 h`, `142,0`: a decimal comma)."""
    if value is None:
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        minutes = float(value)
    else:
        text = _text(value)
        if text is None:
            return None
        if simple := _MINUTES.match(text):
            minutes = float(simple.group(1))
            return _check_runtime(minutes)
        text = text.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+( ?min.*)?", text) else text
        # A decimal comma (`120,0`, `1,5 h`: Europe's spreadsheets, pandas' decimal=","); a comma before three digits is
        # a thousands separator (above).
        text = _RUNTIME_DECIMAL_COMMA.sub(r"\1.\2", text)
        match = _DURATION_PARTS.match(text) or _ISO_DURATION.match(text) or _CLOCK.match(text)
        if match is None or not (match.group("hours") or match.group("minutes")):
            raise FieldValueError("not_a_duration", "a runtime is written like 142, 142 min or 2h 22m")
        parts = match.groupdict()
        minutes = float(parts.get("hours") or 0) * 60 + float(parts.get("minutes") or 0)
        minutes += float(parts.get("seconds") or 0) / 60
    return _check_runtime(minutes)


def _check_runtime(minutes: float) -> int:
    if not math.isfinite(minutes):
        raise FieldValueError("not_a_duration", "a runtime is a number of minutes")
    rounded = round(minutes)
    if not 1 <= rounded <= MAX_RUNTIME_MINUTES:
        raise FieldValueError("out_of_range", f"a runtime is between 1 and {MAX_RUNTIME_MINUTES} minutes")
    return int(rounded)


# ---------------------------------------------------------------------------------------------------- media types

# Spellings seen in real files (IMDb titleType, TMDB media_type, streaming catalogues), compared without case,
# spaces, hyphens or underscores.
_MOVIE_SPELLINGS = frozenset(
    (
        "movie",
        "movies",
        "film",
        "films",
        "feature",
        "featurefilm",
        "motionpicture",
        "short",
        "shortfilm",
        "tvmovie",
        "madefortvmovie",
        "tvspecial",
        "tvshort",
        "video",
        "videomovie",
        "documentary",
    )
)
_TV_SPELLINGS = frozenset(
    (
        "tv",
        "tvseries",
        "tvshow",
        "tvshows",
        "series",
        "show",
        "tvminiseries",
        "miniseries",
        "minitvseries",
        "limitedseries",
        "tvmini",
        "television",
        "televisionseries",
        "webseries",
        "docuseries",
    )
)
# IMDb's titleType tvPilot is a pilot episode; its other episode-like kinds are listed with it, and the kinds of IMDb's
# list exports' `Title Type` that are neither films nor series (`Music Video`, `Video Game`, `Podcast Series`).
_NOT_TITLES = frozenset(
    (
        *("tvepisode", "episode", "tvpilot", "pilot", "videogame", "game", "podcastseries", "podcastepisode"),
        *("musicvideo", "person"),
    )
)


def parse_media_type(value: object) -> str | None:
    """`movie` or `tv`, from the spellings files use (`Movie`, `feature`, `tvMovie`, `TV Series`, `tvMiniSeries`,
    `show`, ...). Episodes and video games are refused: they are not titles the catalogue holds."""
    text = _text(value)
    if text is None:
        return None
    key = re.sub(r"[\s_\-./]+", "", text.lower())
    if key in _MOVIE_SPELLINGS:
        return "movie"
    if key in _TV_SPELLINGS:
        return "tv"
    if key in _NOT_TITLES:
        raise FieldValueError(
            "not_a_movie_or_series", "the catalogue holds movies and TV series, not this kind of title"
        )
    raise FieldValueError(
        "unknown_media_type", "a media type is movie or tv (film, feature, TV series, show ... also read)"
    )


# ---------------------------------------------------------------------------------------------------- lists, people


_GENRE_SEPARATORS = re.compile(r"[|;,]")


def _split_list(text: str, *, names: bool) -> list[str]:
    """Split on `|` when present, else `;`, else `,`; for names a suffix such as `Jr.` stays with its name. Genres
    (names false) split on all three at once: no genre holds one, and files mix them (`Drama; Comedy | Horror`)."""
    if not names:
        return [item for item in (_tidy(part) for part in _GENRE_SEPARATORS.split(text)) if item]
    if "|" in text:
        separator = "|"
    elif ";" in text:
        separator = ";"
    elif "," in text:
        separator = ","
    else:
        item = _tidy(text)
        return [item] if item else []
    items: list[str] = []
    join_suffixes = names and separator == ","
    for part in text.split(separator):
        item = _tidy(part)
        if not item:
            continue
        if join_suffixes and items and len(item) <= 4 and _NAME_SUFFIX.match(item):
            items[-1] = f"{items[-1]}, {item}"
        else:
            items.append(item)
    return items


# The longest field read as a Python literal list (a genre or cast list; ast's parser is not for megabytes).
_MAX_LITERAL_CHARS = 100_000


def _python_list(text: str) -> object:
    """A list written as Python writes one, as exports made with pandas do (The Movies Dataset's movies_metadata.csv:
    `[{'id': 16, 'name': 'Animation'}]`; `['drama', 'crime']`): the value (ast.literal_eval reads literals only,
    never runs code), or None when the text is not one."""
    if "'" not in text or len(text) > _MAX_LITERAL_CHARS:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _json_names(text: str) -> list[str] | None:
    """The names of a JSON list written in one field, as TMDB's own exports write genres and cast (Kaggle's
    tmdb_5000_movies.csv: `[{"id": 28, "name": "Action"}, ...]`), or of such a list as Python writes it
    (`[{'id': 28, 'name': 'Action'}]`, _python_list): strings, or objects' `name`. None when the text is not such a
    list, so it is split as text (a title such as `[REC]` is never a genre list: it is no JSON)."""
    stripped = text.strip()
    if not (stripped.startswith("[") and stripped.endswith("]")):
        return None
    try:
        loaded = json.loads(stripped)
    except (ValueError, RecursionError):
        loaded = _python_list(stripped)
    if not isinstance(loaded, list):
        return None
    found: list[str] = []
    for item in loaded:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            found.append(item["name"])
        elif isinstance(item, str):
            found.append(item)
        else:
            return None
    return [tidy for name in found if (tidy := _tidy(name))]


def parse_list(value: object, *, names: bool, limit: int, what: str) -> list[str]:
    """A list of names or genres from a list, a JSON list (names, or objects with a `name`), or from text separated
    by `|`, `;` or `,`; repeats and pieces that are null markers (`N/A`, `-`: is_null_marker) dropped
    (compared without case). FieldValueError when an item is too long, there are too many, or one is not text."""
    if value is None:
        return []
    if isinstance(value, str):
        entries: Iterable[object] = (value,)
    elif isinstance(value, (list, tuple)):
        entries = value
    else:
        raise FieldValueError("malformed_text", f"{what} are text")
    items: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        if not entry:
            continue
        if not isinstance(entry, str) or (not entry.isprintable() and _SURROGATE.search(entry)):
            raise FieldValueError("malformed_text", f"{what} are text")
        listed = _json_names(entry) if "[" in entry else None
        if listed is not None:
            split = listed
        elif "|" in entry or ";" in entry or "," in entry:
            split = _split_list(entry, names=names)
        else:
            item = _tidy(entry)
            split = [item] if item else []
        for item in split:
            if is_null_marker(item):
                continue  # `Drama|N/A`, `N/A, Tom Hanks`: a piece written for no value is none, as a cell is
            if len(item) > MAX_NAME_CHARS:
                raise FieldValueError("too_long", f"each of the {what} is at most {MAX_NAME_CHARS} characters")
            folded = item.casefold()
            if folded not in seen:
                seen.add(folded)
                items.append(item)
    if len(items) > limit:
        raise FieldValueError("too_many", f"at most {limit} {what}")
    return items


def parse_people(value: object) -> str | None:
    """A director field: one name, or several (a list, or text separated by `|`, `;` or `,`) joined by `, `."""
    names = parse_list(value, names=True, limit=MAX_NAMES, what="directors")
    if not names:
        return None
    joined = ", ".join(names)
    if len(joined) > MAX_PEOPLE_CHARS:
        raise FieldValueError("too_long", f"directors take at most {MAX_PEOPLE_CHARS} characters")
    return joined


def parse_plot(value: object) -> str | None:
    text = _text(value)
    if text is not None and len(text) > MAX_PLOT_CHARS:
        raise FieldValueError(
            "too_long", f"a plot is at most {MAX_PLOT_CHARS:,} characters, this one has {len(text):,}"
        )
    return text


def parse_poster_url(value: object) -> str | None:
    """An absolute http(s) URL with a host, at most MAX_URL_CHARS. Spaces after the host (`.../The Godfather.jpg`, as
    spreadsheets hold file names) are percent-encoded, `%20`, as a browser encodes them; in the host they are not a
    URL."""
    text = _text(value)
    if text is None:
        return None
    if " " in text and (split := _URL_AFTER_HOST.match(text)) is not None:
        text = split.group(1) + split.group(2).replace(" ", "%20")
    if len(text) > MAX_URL_CHARS:
        raise FieldValueError("too_long", f"a URL is at most {MAX_URL_CHARS} characters")
    if _HTTP_URL.match(text) is None:
        raise FieldValueError("not_a_url", "a poster is an http(s) URL such as https://example.com/poster.jpg")
    return text


# ---------------------------------------------------------------------------------------------------- a whole movie


def check_field(name: str, value: object) -> tuple[object, FieldError | None]:
    """Parse one field (a name from FIELDS) on its own, as a form that edits one field at a time needs.

    Returns (parsed value, None), or (None, the violation). KeyError for a name not in FIELDS.
    """
    parse = _PARSERS[name]
    try:
        return parse(value), None
    except FieldValueError as invalid:
        return None, FieldError(name, invalid.code, invalid.message, _shown(value))


# What files write for "no genre" in a genre list (MovieLens: `(no genres listed)`).
_NO_GENRES = frozenset(("(no genres listed)", "(no genre)", "no genres listed"))


# Characters no genre name has (real ones: `Sci-Fi & Fantasy`, `Action/Adventure`, `Children's`, `Film-Noir`): markup
# and code. `<b>Bold</b>` was stored, and split at its `/` into `<b>Bold<` and `b>` (a genre pair's parts, 0014).
_NOT_IN_GENRES = re.compile(r"""[<>{}"`\\]""")


def _parse_genres(value: object) -> list[str]:
    """Genres as parse_list reads them, without MovieLens's `(no genres listed)`. FieldValueError `malformed_text` for
    a genre holding markup (_NOT_IN_GENRES), and parse_list's."""
    genres = parse_list(value, names=False, limit=MAX_GENRES, what="genres")
    for genre in genres:
        if (found := _NOT_IN_GENRES.search(genre)) is not None:
            raise FieldValueError(
                "malformed_text", f"a genre is a word or words, and {genre[:60]!r} holds {found.group()!r}"
            )
        if not any(c.isalnum() for c in genre):
            raise FieldValueError("malformed_text", f"a genre is a word or words, and {genre[:60]!r} has no letter")
    return [g for g in genres if g.lower() not in _NO_GENRES]


def _parse_actors(value: object) -> list[str]:
    return parse_list(value, names=True, limit=MAX_NAMES, what="actors")


_PARSERS: dict[str, Callable[[object], object]] = {
    "title": parse_title,
    "year": parse_year,
    "genre": _parse_genres,
    "director": parse_people,
    "actors": _parse_actors,
    "plot": parse_plot,
    "poster_url": parse_poster_url,
    "media_type": parse_media_type,
    "release_date": parse_release_date,
    "runtime": parse_runtime,
    "rating": parse_rating,
    "popularity": parse_popularity,
    "tmdb_id": parse_tmdb_id,
    "imdb_id": parse_imdb_id,
}


_OPTIONAL_FIELDS = FIELDS[1:]


def check_movie(
    values: Mapping[str, object], *, source: str = "csv", line: int | None = None, year_from_title: bool = True
) -> MovieCheck:
    """Validate one movie given as {field: value} (fields from FIELDS; a missing field has no value).

    Every field is checked, so one call reports every violation of the row. The title is read as a person reads it
    (split_title_year, read_title): a year in brackets ending it (`Toy Story (1995)`, as MovieLens writes titles)
    is the year when none is given and leaves the title, with MovieLens's alternate title before it (`Seven (a.k.a.
    Se7en) (1995)`); beside a year it leaves the title when the two are at most MAX_YEAR_DATE_GAP apart (the year
    given stands), and further apart the row is refused (`year_mismatch`, on title); an article written after the
    title goes back in front (`Godfather, The`); a title that is only a null marker (`N/A`) is no title. With
    year_from_title false (an edit that leaves the title as stored) the stored title is taken as it is, so
    clearing or changing the year never renames the movie. A year missing beside a release date is taken from the
    date; a year and a release date both given may be at most MAX_YEAR_DATE_GAP apart (else `year_mismatch`, on
    release_date). A true `adult` (CHECKED_FIELDS) refuses the row (`adult_title`). Returns MovieCheck(movie, errors):
    `movie` is None whenever `errors` is not empty.
    """
    errors: list[FieldError] = []
    parsed: dict[str, Any] = {}
    title = ""
    try:
        title = parse_title(values.get("title"), null_markers=year_from_title)
    except FieldValueError as invalid:
        errors.append(FieldError("title", invalid.code, invalid.message, _shown(values.get("title"))))
    # Only the fields given are parsed (a file maps a handful of the fourteen); errors keep FIELDS order.
    release_year: int | None = None  # a file's release date that is a year alone (`1994`): the year, no date
    for name in _OPTIONAL_FIELDS:
        raw = values.get(name)
        if raw is None:
            continue
        try:
            if name == "release_date" and source == "csv" and (alone := _year_alone(raw)) is not None:
                release_year = alone
                continue
            parsed[name] = _PARSERS[name](raw)
        except FieldValueError as invalid:
            errors.append(FieldError(name, invalid.code, invalid.message, _shown(raw)))
    adult = values.get("adult")
    if adult is True or (isinstance(adult, str) and adult.strip().casefold() in _TRUE_WORDS):
        errors.append(
            FieldError(
                "adult",
                "adult_title",
                "the catalogue holds no adult titles (the TMDB sync skips them too)",
                _shown(adult),
            )
        )
    if errors:
        return MovieCheck(None, errors)
    get = parsed.get
    year: int | None = get("year")
    release_date: dt.date | None = get("release_date")
    if release_year is not None and year is None:
        year = release_year
    elif release_year is not None and year is not None and abs(release_year - year) > MAX_YEAR_DATE_GAP:
        return MovieCheck(
            None,
            [
                FieldError(
                    "release_date",
                    "year_mismatch",
                    f"the release date's year {release_year} is {abs(release_year - year)} years from the year "
                    f"{year}; they may differ by at most {MAX_YEAR_DATE_GAP}",
                    _shown(values.get("release_date")),
                )
            ],
        )
    if year_from_title:
        bare, title_year = split_title_year(title)
        if title_year is not None and get("media_type") is None and title_media_type(title) == "tv":
            # `Cosmos (1980 TV series)` says what it is: a row (or a new movie) giving no media type is TV, not a film.
            parsed["media_type"] = "tv"
        if title_year is None:
            title = read_title(title)
        elif year is None:
            title, year = bare, title_year  # then compared with a release date as a year given would be
        elif abs(title_year - year) <= MAX_YEAR_DATE_GAP:
            # `Heat (1995)` beside 1995 is Heat of 1995. A year apart is the gap a year and a release date may have
            # (a festival premiere before the release): still Heat, and the year column, the field meant for the
            # year, stands.
            title = bare
        else:
            # `Heat (1995)` beside 2005 says two years: a person reads a contradiction, not a film named with a year
            # (no film of the Wikipedia list behind data/ ends in a bracketed year other than its own), so the row
            # is refused rather than loaded under one of them.
            gap = abs(title_year - year)
            return MovieCheck(
                None,
                [
                    FieldError(
                        "title",
                        "year_mismatch",
                        f"the title ends in the year {title_year}, {gap} years from the year {year}; they may differ "
                        f"by at most {MAX_YEAR_DATE_GAP}",
                        _shown(values.get("title")),
                    )
                ],
            )
    if year is None and release_date is not None:
        year = release_date.year
    elif year is not None and release_date is not None and abs(release_date.year - year) > MAX_YEAR_DATE_GAP:
        gap = abs(release_date.year - year)
        return MovieCheck(
            None,
            [
                FieldError(
                    "release_date",
                    "year_mismatch",
                    f"the release date {release_date.isoformat()} is {gap} years from the year {year}; they may "
                    f"differ by at most {MAX_YEAR_DATE_GAP} (a festival premiere the year before the release)",
                    _shown(values.get("release_date")),
                )
            ],
        )
    movie = MovieRow(
        title,
        year,
        get("genre") or [],
        get("director"),
        get("actors") or [],
        get("plot"),
        get("poster_url"),
        source,
        get("media_type"),
        release_date,
        get("runtime"),
        get("rating"),
        get("popularity"),
        get("tmdb_id"),
        get("imdb_id"),
        line,
    )
    return MovieCheck(movie, [])
