"""Build data/movies.csv.gz, the bundled seed catalogue, from the Wikipedia film list of prust/wikipedia-movie-data
(a checkout of that repository, or its films joined into one wikipedia-movies.json.gz; data/README.md says how).

Run it with `make catalogue [SOURCE=path]` (or `python scripts/build_catalogue.py --source path`); the output is
byte-identical on every run.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import html
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
_SOURCE = Path("shared") / "data" / "wikipedia-movies.json.gz"
# ../shared/data beside the checkout; from a git worktree nested deeper (../../shared/data), the nearest one up.
DEFAULT_SOURCE = next(
    (folder / _SOURCE for folder in REPO_ROOT.parents if (folder / _SOURCE).exists()), REPO_ROOT.parent / _SOURCE
)
DEFAULT_OUT = REPO_ROOT / "data" / "movies.csv.gz"

HEADER = ("title", "year", "genre", "director", "actors", "plot", "poster_url")
LIST_SEPARATOR = "|"

# --- text helpers -------------------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")
# Wikipedia footnote or interlanguage markers left at the end of a title: "The Curtain Pole[1]", "Fly by Night [fr]".
_TITLE_MARKER = re.compile(r"\s*\[(?:\d{1,2}|[a-z]{2,3})\]$")


def normalise_space(text: str) -> str:
    """Collapse every run of whitespace (newlines and no-break spaces included) to one space."""
    return _WHITESPACE.sub(" ", text).strip()


# --- markup left by the scrape ---------------------------------------------------------------------------------
# The source text was extracted from rendered Wikipedia pages, and some of it carries the page's machinery: the
# CSS of TemplateStyles ("Naked Gun .mw-parser-output .frac{white-space:nowrap}…33+1/3: The Final Insult"),
# unexpanded templates ("{{Infobox film | name = The Outsiders …", "corse{sic}"), wiki links ("[[a|b]]", a stray
# "]]"), HTML tags and entities, and hatnotes in place of a summary ("For the Family Guy episode see …").

# A CSS rule: class or id selectors (what TemplateStyles writes), then a declaration block with a `property:value`.
# Each run of name characters must be followed by a separator character, so a text is split into a selector one way
# only (no backtracking blow-up on long plots).
_CSS_RULE = re.compile(r"[.#][\w-]+(?:[ \t,>+~.#:]+[\w-]+)*[ \t]*\{[^{}]*:[^{}]*\}")
_TEMPLATE_STYLES = re.compile(r"\.mw-parser-output\b[^{}]*\{[^{}]*\}")
_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")
_OPEN_TEMPLATE = re.compile(r"\{\{.*\Z", re.DOTALL)  # a template cut off by the extract: everything after it goes
_BRACED = re.compile(r"\{[^{}]{0,40}\}")  # what a template left behind: "corse{sic}"
_WIKI_LINK = re.compile(r"\[\[(?:[^\[\]|]*\|)?([^\[\]|]*)\]\]")
_STRAY_LINK = re.compile(r"\[\[|\]\]")
_HTML_TAG = re.compile(r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>")
_FOOTNOTE = re.compile(r"\s*\[(?:\d{1,3}|citation needed|note \d{1,3})\]")  # not "[sic]" or "[a]" in a quote
_HTML_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9A-Fa-f]{1,6}|[A-Za-z]{2,8});")
# The {{frac}} template reads "33+1/3" (with a fraction slash) once its styling is gone: the whole number, a hidden
# "+", the fraction.
_FRACTION = re.compile(r"(\d)\+(\d+)\u2044(\d+)")
_VULGAR_FRACTIONS = {"1/2": "\u00bd", "1/3": "\u2153", "2/3": "\u2154", "1/4": "\u00bc", "3/4": "\u00be"}
_HATNOTE = re.compile(
    r"^(?:For (?:the|other|a)\b.{0,200}\bsee\b|This article is about\b|Not to be confused with\b|See also\b)",
    re.IGNORECASE,
)
# What no cleaned title, name or plot may contain (tests/test_catalogue.py checks the bundled file with it).
MARKUP = re.compile(
    r"mw-parser-output|\{|\}|\[\[|\]\]|</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>|&(?:#\d+|#x[0-9A-Fa-f]+|[A-Za-z]{2,8});"
    r"|\[(?:\d{1,3}|citation needed|note \d{1,3})\]"
)


def _fraction(match: re.Match[str]) -> str:
    fraction = f"{match.group(2)}/{match.group(3)}"
    return match.group(1) + _VULGAR_FRACTIONS.get(fraction, " " + fraction.replace("/", "\u2044"))


def strip_markup(text: str) -> str:
    """Text without the markup a scrape of rendered wiki pages leaves in it, whitespace normalised.

    Removes TemplateStyles CSS and any other CSS rule, templates (`{{…}}`, also one cut off by the end of the text),
    leftover braces, HTML tags; unwraps wiki links (`[[target|label]]` -> `label`) and HTML entities; writes the
    {{frac}} template's text as the fraction it shows (`33+1/3` with a fraction slash -> `33⅓`).
    """
    if not any(marker in text for marker in ("{", "}", "[", "]", "<", "&", "\u2044")):
        return normalise_space(text)
    if "{" in text or "}" in text:
        text = _TEMPLATE_STYLES.sub("", text)
        while True:
            shorter = _TEMPLATE.sub("", text)
            if shorter == text:
                break
            text = shorter
        text = _OPEN_TEMPLATE.sub("", text)
        text = _CSS_RULE.sub("", text)
        text = _BRACED.sub("", text).replace("{", "").replace("}", "")
    text = _STRAY_LINK.sub("", _WIKI_LINK.sub(r"\1", text))
    text = _FOOTNOTE.sub("", text)
    text = _HTML_TAG.sub(" ", text)
    text = _HTML_ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    text = _FRACTION.sub(_fraction, text)
    return normalise_space(text)


def clean_plot(raw: str) -> str:
    """The summary without markup; empty when what is left is a hatnote ("For the … episode, see …")."""
    plot = strip_markup(raw)
    return "" if _HATNOTE.match(plot) else plot


def clean_title(raw: str) -> str:
    return _TITLE_MARKER.sub("", strip_markup(raw))


def title_key(title: str, year: int) -> tuple[str, int]:
    return normalise_space(title).casefold(), year


def dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def title_case_genre(raw: str) -> str:
    """Title-case a genre consistently: "science fiction" -> "Science Fiction"; acronyms keep their capitals."""
    words = []
    for word in normalise_space(raw).split(" "):
        parts = [p if (len(p) > 1 and p.isupper()) else p[:1].upper() + p[1:].lower() for p in word.split("-")]
        words.append("-".join(parts))
    return " ".join(words)


def clean_genres(raw: Sequence[str]) -> list[str]:
    return dedupe(g for g in (title_case_genre(r) for r in raw) if g)


# --- cast cleaning ------------------------------------------------------------------------------------------
# The scraped cast lists carry pieces of the surrounding wikitext: annotations split across entries
# ("(", "Best Actor", "nominee)"), connectors ("and", "voices of"), crew credits ("Mira Nair", "(Director)"),
# disambiguators ("Sonny West (actor)"), footnotes ("[a]") and documentary subjects ("the history of").

_CREW_ROLE = re.compile(
    r"\b(?:direct(?:or|ed)|screen\w*|\w*screenpl\w*|writ\w*|story|novel|book|teleplay|produc\w*)\b", re.IGNORECASE
)
_CONNECTORS = {
    "and",
    "&",
    "with",
    "the",
    "of",
    "voices of",
    "voice of",
    "narrated by",
    "narrator",
    "cast:",
    "starring",
    "featuring",
    "archive footage of",
    "footage of",
    "interviews with",
}
_CREDIT_FOR_NEXT = {"music by", "musical score by", "dir.:"}  # the next entry is crew, not cast
_AWARD = re.compile(r"^(?:Academy Award for )?Best (?:Supporting )?(?:Actor|Actress)$")
_TRAILING_PAREN = re.compile(r"\s*\(([^()]*)\)$")
_WIKI_MARKUP = re.compile(r"\[\[|\]\]|\[(?:\d{1,2}|[a-z])\]")
_LEADING_JUNK = re.compile(r"^(?:[.,;:&?]+\s*|and\s+)")
_TRAILING_CONNECTOR = re.compile(r"\s(?:of|by|at|in|between|with|from|a|an|the|and)$")
_LOWERCASE_HANDLE = re.compile(r"[a-z]+(?:\.[a-z]+)+")  # "will.i.am", "india.arie"


@dataclass
class CastReport:
    dropped: int = 0
    rewritten: int = 0


def _group_parentheses(raw: Sequence[str]) -> list[tuple[str, bool]]:
    """Join entries that belong to one parenthesised annotation; return (text, is_annotation) pairs.

    An entry that opens a parenthesis it does not close starts an annotation that runs to the entry that closes
    it. A stray closing parenthesis means the annotation opened before the list began, so everything before it
    belongs to the annotation.
    """
    out: list[tuple[str, bool]] = []
    pending: list[str] | None = None
    for entry in raw:
        depth = entry.count("(") - entry.count(")")
        if pending is not None:
            pending.append(entry)
            if depth < 0:
                out.append((" ".join(pending), True))
                pending = None
        elif depth > 0:
            pending = [entry]
        elif depth < 0:
            out = [(" ".join([*(t for t, _ in out), entry]), True)]
        else:
            stripped = entry.strip()
            out.append((entry, stripped.startswith("(") and stripped.endswith(")")))
    if pending is not None:
        out.append((" ".join(pending), True))
    return out


def clean_cast(raw: Sequence[str], report: CastReport | None = None) -> list[str]:
    report = report if report is not None else CastReport()
    kept: list[str] = []
    skip_next = False
    for text, is_annotation in _group_parentheses(raw):
        if is_annotation:
            report.dropped += 1
            if _CREW_ROLE.search(text):
                # "Mira Nair", "(Director)": the names listed before a crew annotation are crew, not cast.
                report.dropped += len(kept)
                kept.clear()
            continue
        if skip_next:
            skip_next = False
            report.dropped += 1
            continue
        name = strip_markup(_WIKI_MARKUP.sub("", text))
        lowered = name.casefold()
        if lowered in _CREDIT_FOR_NEXT:
            skip_next = True
            report.dropped += 1
            continue
        if lowered.startswith("dir.:"):
            report.dropped += 1
            continue
        suffix = _TRAILING_PAREN.search(name)
        if suffix and _CREW_ROLE.search(suffix.group(1)):
            # "Melanie Wistar (Screenplay)": a writer, and the names before it are her co-writers.
            report.dropped += 1 + len(kept)
            kept.clear()
            continue
        if suffix:  # "Sonny West (actor)", "Alois Havrilla (narrator)"
            name = name[: suffix.start()]
        name = normalise_space(_LEADING_JUNK.sub("", name))
        if name != normalise_space(text):
            report.rewritten += 1
        if (
            not name
            or name.casefold() in _CONNECTORS
            or not any(ch.isalpha() for ch in name)
            or _AWARD.match(name)
            or _TRAILING_CONNECTOR.search(name)
            or (not any(ch.isupper() for ch in name) and not _LOWERCASE_HANDLE.fullmatch(name))
            or LIST_SEPARATOR in name
        ):
            report.dropped += 1
            continue
        kept.append(name)
    return dedupe(kept)


# --- director extraction ------------------------------------------------------------------------------------
# Only "directed by <names>" in the opening sentence ("X is a 1972 American crime film directed by ...") or in a
# later sentence whose subject is the film ("The film was directed by ...", "It was written and directed by ...")
# counts. Names must look like people's names; anything doubtful gives an empty director.

_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "st",
    "jr",
    "sr",
    "bros",
    "co",
    "inc",
    "ltd",
    "mt",
    "ft",
    "vs",
    "no",
    "vol",
    "gen",
    "col",
    "capt",
    "lt",
    "sgt",
    "rev",
    "prof",
    "hon",
    "pt",
    "transl",
    "lit",
    "c",
    "ca",
    "aka",
    "approx",
    "orig",
}
# A full stop, maybe closing quotes or brackets, then a capital or digit. Not "!" or "?": those end titles more
# often than sentences ("Airplane! is a 1980 ...").
_SENTENCE_END = re.compile(r"\.[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(]?[A-Z0-9])")
_CREDIT = r"(?:co-)?(?:written|produced|edited|photographed|shot|scored|created|animated|choreographed|conceived)"
# "directed by", "written and directed by", "directed, written, produced, and co-edited by",
# "directed by, produced by, and starring": every form ends with the names.
_DIRECTED_BY = re.compile(
    rf"\b(?:co-)?directed(?:,? (?:and )?{_CREDIT})*,? by(?:,? (?:and )?{_CREDIT} by)*"
    r"(?:,? and (?:co-)?(?:starring|featuring|stars|starred|star))? ",
    re.IGNORECASE,
)
# "directed by actor L.Q. Jones", "directed by Japanese American filmmaker Rea Tajiri": skip the description.
_ROLE = (
    r"(?:[\w-]+/)?(?:actor|actress|director|filmmaker|film-maker|film maker|editor|cinematographer|screenwriter|writer"
    r"|producer|comedian|choreographer|auteur|animator|documentarian|photographer|playwright|novelist|author"
    r"|stuntman|artist|musician|dancer|cartoonist|puppeteer|journalist|photojournalist|veteran|collaborator"
    r"|newcomer|brother|sister|sibling|twin|team of|duo|creator|founder|player|impresario|executive)s?"
)
_DESCRIPTION = re.compile(
    r"(?:both |(?:an )?uncredited |(?:the |an? )?(?:(?:[a-z][\w/'-]*|[A-Z][a-z]+(?:an|ese|ish|ch)(?:-[A-Z][a-z]+)?"
    r"|[A-Z][\w]*-(?:born|based|bred|winning|winner|nominated|émigré)|Academy|Award-winning|Broadway|Hollywood|Disney"
    rf"|B-film) ){{0,5}}?{_ROLE} )(?=[A-Z])"
)
# A descriptor mistaken for a name: "directed by New Line Cinema founder Robert Shaye".
_ROLE_AFTER_NAME = re.compile(rf"{_ROLE}|[a-z-]+/[a-z-]+")
# "a remake of the 1931 film directed by ...": the director named is another film's.
_OTHER_WORK = re.compile(
    r"\b(?:(?:remake|sequel|prequel|version|adaptation|re-edit|spin-off|parody) (?:of|to)|based on|adapted from"
    r"|inspired by)\b.*\b(?:films?|movies?|pictures?|shorts?|series|serials?|episodes?|documentar(?:y|ies))\b",
    re.IGNORECASE,
)
# "was to be directed by", "animated sequences directed by": not (or not only) the film's director.
_NOT_THE_DIRECTOR = re.compile(
    r"\b(?:to be|would|originally|initially|slated|planned|attached|sequences?|scenes?|unit|segments?|"
    r"footage|stage|play|production|episodes?)\b",
    re.IGNORECASE,
)
_FILM_NOUN = (
    r"(?:[\w-]+ ){0,2}(?:film|movie|picture|short|feature|serial|documentary|cartoon|miniseries|talkie|production"
    r"|remake|version|sequel)"
)
# A sentence about the film: "The film was ...", "It was ...", "Produced and directed by X, the film ...",
# "Based on the play by X, the film was directed by Y".
_FILM_SUBJECT = re.compile(
    rf"^(?:(?:The|This) {_FILM_NOUN}\b|It\b|[A-Z][a-z-]+(?:ed|en)\b(?:,? (?:and )?(?:co-)?[a-z-]+(?:ed|en)\b)*,? by\b)"
    rf"|, (?:(?:the|this) {_FILM_NOUN}|it) (?:was|is)\b"
)
_INITIALS = re.compile(r"(?:[A-Z]\.){1,3}")  # "D.", "J.P.", "W.S."
_SUFFIXES = {"Jr.", "Sr.", "II", "III", "IV"}
_PARTICLES = {"de", "van", "von", "der", "den", "da", "di", "del", "della", "du", "la", "le", "dos", "das", "ter"}
# Capitalised words that end a name or show the phrase is not a list of people.
_NOT_NAME_WORDS = {
    "The",
    "A",
    "An",
    "It",
    "In",
    "On",
    "At",
    "For",
    "From",
    "This",
    "That",
    "His",
    "Her",
    "Their",
    "Its",
    "With",
    "Starring",
    "Based",
    "Produced",
    "Written",
    "Pictures",
    "Productions",
    "Production",
    "Studio",
    "Studios",
    "Company",
    "Corporation",
    "Films",
    "Film",
    "Entertainment",
    "Brothers",
    "Bros.",
    "Inc.",
    "Team",
    "Unit",
    "Staff",
    "Various",
    "American",
    "British",
    "Director",
    "Uncredited",
    "Academy",
    "Universal",
    "Paramount",
    "Columbia",
    "Metro-Goldwyn-Mayer",
    "MGM",
    "RKO",
    "Republic",
    "Monogram",
}
_DESCRIPTIVE_WORD = re.compile(r"-(?:born|based|bred|winning|winner|nominated|nominee|émigré|raised|trained|turned)")
_NAME_WORD = re.compile(r"[^\W\d_][^\W\d_'\u2019\-]*(?:['\u2019\-][^\W\d_]+)*")
_PREFIXED_NAME = re.compile(r"(?:de|da|di|du|la|le|van|von|d')[A-Z][^\W\d_]+")  # "William C. deMille"
_MAX_NAME_WORDS = 5
_OPEN_QUOTES = "\"'\u201c\u2018"
_CLOSE_QUOTES = "\"'\u201d\u2019"


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of a whitespace-normalised text; initials do not end one."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start() + 1].rsplit(" ", 1)[-1]
        word = before.rstrip(".").lstrip(_OPEN_QUOTES + "(")
        if (
            before.endswith("..")  # an ellipsis inside a title: "3, 2, 1... Frankie Go Boom"
            or _INITIALS.fullmatch(word + ".")
            or word.casefold() in _ABBREVIATIONS
            or "." in word
        ):
            continue
        spans.append((start, match.start() + 1))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _word_kind(word: str) -> str:
    """Classify one space-separated token: initial, suffix, particle, word, nickname or stop."""
    if _INITIALS.fullmatch(word):
        return "initial"
    if word in _SUFFIXES:
        return "suffix"
    if word in _PARTICLES:
        return "particle"
    if word in _NOT_NAME_WORDS or word.rstrip(".,") in _NOT_NAME_WORDS or _DESCRIPTIVE_WORD.search(word):
        return "stop"
    if word == "St." or (word[:1].isupper() and _NAME_WORD.fullmatch(word)) or _PREFIXED_NAME.fullmatch(word):
        return "word"
    if word[:1] in _OPEN_QUOTES and word[-1:] in _CLOSE_QUOTES and word[1:2].isupper():  # Roscoe "Fatty" Arbuckle
        return "nickname"
    return "stop"


def _looks_like_name(words: Sequence[str]) -> bool:
    core = [w for w in words if _word_kind(w.rstrip(",")) in {"word", "initial"}]
    return (
        len(core) >= 2  # a lone surname ("directed by Chaplin") or stage name is too often something else
        and _word_kind(words[-1]) in {"word", "suffix"}
        and _word_kind(words[0]) in {"word", "initial"}
        and len(core) <= _MAX_NAME_WORDS
    )


def _split_tokens(text: str) -> Iterator[tuple[str, str]]:
    """Yield (token, trailing punctuation) pairs; the punctuation is "", ",", "." (a stop) or "(" (a break)."""
    for word in text.split(" "):
        if word.endswith(",") and not word.endswith(",,"):
            yield word[:-1], ","
        elif word.endswith(("'s", "\u2019s")):
            yield word, "possessive"
        elif word.startswith("(") or word.endswith((")", "!", "?", ",,")):
            yield word, "("
        elif word.endswith((";", ":")) or (
            word.endswith(".") and not _INITIALS.fullmatch(word) and word not in _SUFFIXES and word != "St."
        ):
            yield word[:-1], "."
        else:
            yield word, ""


def parse_names(text: str) -> list[str] | None:
    """Parse the people named at the start of `text` ("Joel and Ethan Coen and starring ...").

    Returns None when the phrase does not read as a plain list of people's names.
    """
    tokens = list(_split_tokens(text))
    names: list[list[str]] = []
    separators: list[str] = []  # separators[i] joins names[i] and names[i + 1]: "and", "," or ", and"
    current: list[str] = []
    pending = ""

    def starts_name(index: int) -> bool:
        return index < len(tokens) and _word_kind(tokens[index][0]) in {"word", "initial"}

    i = 0
    while i < len(tokens):
        word, trail = tokens[i]
        i += 1
        if word in {"and", "&"} and not trail:
            if not starts_name(i) or not (current or pending == ","):
                break  # "and starring ...", "and produced by ..."
            if current:
                names.append(current)
                current = []
                pending = "and"
            else:
                pending = ", and"
            continue
        if trail in {"possessive", "("}:
            if trail == "possessive":
                return None  # "Godard's film": the phrase goes on about something else
            break
        kind = _word_kind(word)
        if kind == "stop":
            if current and (word[:1].isupper() or _ROLE_AFTER_NAME.fullmatch(word)):
                return None  # "John Ford Productions", "New York actor Edward Burns": unsure what the name is
            break
        if kind == "particle" and not current:
            break
        if not current and names:
            separators.append(pending)
        if trail == "," and i < len(tokens) and tokens[i][0] in _SUFFIXES:
            current.append(word + ",")  # "Sammy Davis, Jr."
            continue
        current.append(word)
        if trail == "." or (kind == "suffix" and i < len(tokens) and tokens[i][0] not in {"and", "&", ""}):
            break  # "Griffith. The film", "Lon Chaney Jr. The film": the sentence ended
        if trail == ",":
            names.append(current)
            current = []
            pending = ","
            if not (starts_name(i) or (i < len(tokens) and tokens[i][0] == "and")):
                break
    if current:
        names.append(current)
    separators = separators[: max(len(names) - 1, 0)]
    if separators and separators[0] == ", and":
        names = names[:1]  # "directed by Henry Levin, and Henry Ephron wrote ...": a new clause
    elif separators and not (
        all(s == "and" for s in separators) or (all(s == "," for s in separators[:-1]) and separators[-1] != ",")
    ):
        if not all(s == "," for s in separators):
            return None  # "A and B, C": not a list of directors
        names = names[:1]  # "directed by Sam Wood, Los Angeles ...": no "and" closes the list
        separators = []
    # "Joel and Ethan Coen": a lone first name joined by "and" to a full name shares its surname.
    result: list[list[str]] = []
    for index, name in enumerate(names):
        if len(name) == 1 and index < len(separators) and separators[index] == "and" and len(names[index + 1]) >= 2:
            name = [*name, [w for w in names[index + 1] if w not in _SUFFIXES][-1]]
        result.append(name)
    if not result or not all(_looks_like_name(n) for n in result):
        return None
    return [" ".join(n) for n in result]


def extract_directors(plot: str, title: str = "") -> list[str]:
    """The film's directors as named in its Wikipedia summary, or [] when the text does not say so plainly."""
    if not plot:
        return []
    for number, (start, end) in enumerate(sentences(plot)):
        sentence = plot[start:end]
        about_the_film = number == 0 or bool(title and sentence.startswith(title + " "))
        about_the_film = about_the_film or bool(_FILM_SUBJECT.search(sentence))
        if not about_the_film:
            continue
        for match in _DIRECTED_BY.finditer(sentence):
            before = sentence[: match.start()]
            if title and before.startswith(title):
                before = before[len(title) :]  # "A Very Brady Sequel is a 1996 comedy film directed by"
            subjects = list(_FILM_SUBJECT.finditer(before))
            if subjects:  # "Based on the play by X, the film was directed by Y": check only what follows
                before = before[subjects[-1].end() :]
            if _OTHER_WORK.search(before) or _NOT_THE_DIRECTOR.search(" ".join(before.split(" ")[-4:])):
                break  # this sentence names someone else's film or a planned director; a later one may say
            rest = sentence[match.end() :]
            description = _DESCRIPTION.match(rest)
            names = parse_names(rest[description.end() :] if description else rest)
            if names and match.group(0).rstrip().lower().endswith(
                ("starring", "featuring", "stars", "starred", "star")
            ):
                names = names[:1]  # "directed by and starring A, B and C": only A is known to have directed
            return dedupe(names) if names else []
    return []


# --- records ------------------------------------------------------------------------------------------------


@dataclass
class Movie:
    title: str
    year: int
    genres: list[str]
    actors: list[str]
    directors: list[str]
    plot: str
    poster_url: str
    href: str | None = None

    def row(self) -> tuple[str, ...]:
        return (
            self.title,
            str(self.year),
            LIST_SEPARATOR.join(self.genres),
            LIST_SEPARATOR.join(self.directors),
            LIST_SEPARATOR.join(self.actors),
            self.plot,
            self.poster_url,
        )


@dataclass
class BuildReport:
    source_records: int = 0
    empty_titles: int = 0
    titles_cleaned: int = 0
    merged_duplicates: int = 0
    distinct_film_collisions: list[str] = field(default_factory=list)
    non_https_posters: int = 0
    cast: CastReport = field(default_factory=CastReport)
    rows: int = 0
    with_director: int = 0
    with_plot: int = 0
    with_poster: int = 0


def movie_from_record(record: dict[str, Any], report: BuildReport) -> Movie | None:
    raw_title = str(record.get("title") or "")
    title = clean_title(raw_title)
    if not title:
        report.empty_titles += 1
        return None
    if title != raw_title:
        report.titles_cleaned += 1
    plot = clean_plot(str(record.get("extract") or ""))
    poster = str(record.get("thumbnail") or "").strip()
    if poster and not poster.startswith("https://"):
        report.non_https_posters += 1
        poster = ""
    return Movie(
        title=title,
        year=int(record["year"]),
        genres=clean_genres(record.get("genres") or []),
        actors=clean_cast(record.get("cast") or [], report.cast),
        directors=extract_directors(plot, title),
        plot=plot,
        poster_url=poster,
        href=record.get("href"),
    )


def same_film(a: Movie, b: Movie) -> bool:
    """Whether two records with one (title, year) describe one film rather than two namesakes.

    The Wikipedia article link decides; without one on both sides, a shared cast member does.
    """
    if a.href and b.href:
        return a.href == b.href
    return bool(set(a.actors) & set(b.actors)) or not a.actors or not b.actors


def merge_into(kept: Movie, other: Movie) -> None:
    kept.genres = dedupe([*kept.genres, *other.genres])
    kept.actors = dedupe([*kept.actors, *other.actors])
    kept.plot = kept.plot or other.plot
    kept.poster_url = kept.poster_url or other.poster_url
    kept.directors = kept.directors or other.directors


def build_movies(records: Iterable[dict[str, Any]], report: BuildReport) -> list[Movie]:
    by_key: dict[tuple[str, int], Movie] = {}
    for record in records:
        report.source_records += 1
        movie = movie_from_record(record, report)
        if movie is None:
            continue
        key = title_key(movie.title, movie.year)
        kept = by_key.get(key)
        if kept is None:
            by_key[key] = movie
            continue
        report.merged_duplicates += 1
        if same_film(kept, movie):
            merge_into(kept, movie)
        else:
            # Two different films share a title and year (Carmen, 1915: DeMille's and Walsh's). The catalogue
            # keys on (title, year), so keep the first whole rather than splice two films into one row.
            report.distinct_film_collisions.append(f"{movie.title} ({movie.year})")
    movies = sorted(by_key.values(), key=lambda m: (m.year, m.title.casefold(), m.title))
    report.rows = len(movies)
    report.with_director = sum(1 for m in movies if m.directors)
    report.with_plot = sum(1 for m in movies if m.plot)
    report.with_poster = sum(1 for m in movies if m.poster_url)
    return movies


# The source's own decade files, which joined in this order make wikipedia-movies.json.gz (data/README.md).
DECADE_FILES = tuple(f"movies-{decade}s.json" for decade in range(1900, 2030, 10))
SOURCE_REPOSITORY = "https://github.com/prust/wikipedia-movie-data"
SOURCE_COMMIT = "91ae721d3672e8ef4f15b213c763a634250ef61a"


class SourceMissingError(Exception):
    """The source data is not where the build looks; the message says how to get it."""


def _json_array(path: Path, text: str) -> list[dict[str, Any]]:
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected one JSON array of films")
    return data


def read_source(path: Path) -> list[dict[str, Any]]:
    """The source films: wikipedia-movies.json.gz (one JSON array, gzip), a plain .json array, or a checkout of
    the source repository (its decade files, joined in order). SourceMissingError when none is there."""
    if path.is_dir():
        missing = [name for name in DECADE_FILES if not (path / name).is_file()]
        if missing:
            raise SourceMissingError(f"{path} lacks {', '.join(missing)}: it is not a checkout of {SOURCE_REPOSITORY}")
        return [film for name in DECADE_FILES for film in _json_array(path / name, (path / name).read_text("utf-8"))]
    if not path.is_file():
        raise SourceMissingError(
            f"no source data at {path}. Get it with `git clone {SOURCE_REPOSITORY} wikipedia-movie-data && "
            f"git -C wikipedia-movie-data checkout {SOURCE_COMMIT[:12]}`, then run "
            "`make catalogue SOURCE=wikipedia-movie-data` (see data/README.md)"
        )
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return _json_array(path, handle.read())
    return _json_array(path, path.read_text("utf-8"))


def csv_bytes(movies: Iterable[Movie]) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(movie.row() for movie in movies)
    return text.getvalue().encode("utf-8")


def gzip_bytes(payload: bytes) -> bytes:
    """Compress with a fixed header (no file name, mtime 0) so that equal input gives equal bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as handle:
        handle.write(payload)
    return buffer.getvalue()


def write_atomically(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(payload)
    partial.replace(path)


def summary_lines(report: BuildReport, out: Path) -> Iterator[str]:
    def share(count: int) -> str:
        return f"{count:,} ({count / report.rows:.1%})" if report.rows else "0"

    yield f"wrote {out}: {report.rows:,} rows from {report.source_records:,} source records"
    yield (
        f"duplicate (title, year) records folded: {report.merged_duplicates} "
        f"({report.merged_duplicates - len(report.distinct_film_collisions)} merged, "
        f"{len(report.distinct_film_collisions)} distinct namesakes dropped)"
    )
    if report.distinct_film_collisions:
        yield "  namesakes dropped: " + "; ".join(report.distinct_film_collisions)
    yield f"empty titles dropped: {report.empty_titles}; titles cleaned (wiki markers, spaces): {report.titles_cleaned}"
    yield f"cast entries dropped as wiki artifacts: {report.cast.dropped}; rewritten: {report.cast.rewritten}"
    yield f"non-https posters dropped: {report.non_https_posters}"
    yield f"with director: {share(report.with_director)}"
    yield f"with plot: {share(report.with_plot)}"
    yield f"with poster: {share(report.with_poster)}"


def build(source: Path, out: Path) -> BuildReport:
    report = BuildReport()
    movies = build_movies(read_source(source), report)
    write_atomically(out, gzip_bytes(csv_bytes(movies)))
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--source",
        type=Path,
        default=DEFAULT_SOURCE,
        help=f"wikipedia-movies.json.gz, or a checkout of {SOURCE_REPOSITORY} (default: {DEFAULT_SOURCE})",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write movies.csv.gz")
    args = parser.parse_args(argv)
    try:
        report = build(args.source, args.out)
    except SourceMissingError as error:
        print(f"make catalogue: {error}", file=sys.stderr)
        return 1
    for line in summary_lines(report, args.out):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
