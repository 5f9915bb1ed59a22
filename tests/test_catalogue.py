"""Regression checks on the bundled seed catalogue data/movies.csv.gz and on the script that builds it."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from pathlib import Path

import pytest

from scripts import build_catalogue

CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "movies.csv.gz"
EXPECTED_ROWS = 36_243  # 36,273 source records less 30 repeated (title, year) pairs
HEADER = ["title", "year", "genre", "director", "actors", "plot", "poster_url"]


def read_catalogue() -> tuple[list[str], list[dict[str, str]]]:
    with gzip.open(CATALOGUE, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


@pytest.fixture(scope="module")
def catalogue() -> tuple[list[str], list[dict[str, str]]]:
    return read_catalogue()


@pytest.fixture(scope="module")
def rows(catalogue: tuple[list[str], list[dict[str, str]]]) -> list[dict[str, str]]:
    return catalogue[1]


@pytest.fixture(scope="module")
def by_title_year(rows: list[dict[str, str]]) -> dict[tuple[str, int], dict[str, str]]:
    return {(row["title"], int(row["year"])): row for row in rows}


@pytest.mark.slow
def test_header_is_exactly_the_seven_seed_columns(catalogue: tuple[list[str], list[dict[str, str]]]) -> None:
    assert catalogue[0] == HEADER


@pytest.mark.slow
def test_row_count_is_unchanged(rows: list[dict[str, str]]) -> None:
    assert len(rows) == EXPECTED_ROWS


def test_title_and_year_are_unique_the_way_the_database_compares_them(rows: list[dict[str, str]]) -> None:
    keys = [(" ".join(row["title"].split()).casefold(), row["year"]) for row in rows]
    assert len(set(keys)) == len(keys)


def test_every_row_has_a_title_and_a_year_in_range(rows: list[dict[str, str]]) -> None:
    assert all(row["title"].strip() for row in rows)
    assert all(1900 <= int(row["year"]) <= 2023 for row in rows)


def test_rows_are_sorted_by_year_then_title(rows: list[dict[str, str]]) -> None:
    keys = [(int(row["year"]), row["title"].casefold(), row["title"]) for row in rows]
    assert keys == sorted(keys)


def test_poster_urls_are_empty_or_wikimedia_https(rows: list[dict[str, str]]) -> None:
    bad = [row["poster_url"] for row in rows if row["poster_url"]]
    bad = [url for url in bad if not url.startswith("https://upload.wikimedia.org/")]
    assert bad == []


def test_list_fields_have_no_empty_or_repeated_items(rows: list[dict[str, str]]) -> None:
    for row in rows:
        for column in ("genre", "director", "actors"):
            if row[column]:
                items = row[column].split("|")
                assert all(item == item.strip() and item for item in items), (row["title"], column)
                assert len(items) == len(set(items)), (row["title"], column)


@pytest.mark.slow
def test_plots_are_single_line_with_normalised_spaces(rows: list[dict[str, str]]) -> None:
    assert all(row["plot"] == " ".join(row["plot"].split()) for row in rows)


# Markup of any kind the scrape could leave (checked independently of the script's own patterns): TemplateStyles and
# other CSS declarations, templates and braces, wiki links, HTML tags and entities, footnote markers, infoboxes.
_ANY_MARKUP = re.compile(
    r"mw-parser-output|[{}]|\[\[|\]\]|</?[a-z][a-z0-9-]*[\s/>]|&(?:#\d+|#x[0-9a-f]+|[a-z]{2,8});"
    r"|\b[a-z-]+:[a-z0-9%.-]+;|\[\d{1,3}\]|\[citation needed\]|\binfobox\b|^\s*\|",
    re.IGNORECASE,
)
_HATNOTE = re.compile(r"^(?:For (?:the|other|a)\b.*\bsee\b|Not to be confused with|This article is about)", re.I)


@pytest.mark.slow
def test_no_title_name_or_plot_carries_markup(rows: list[dict[str, str]]) -> None:
    found = [
        (row["title"], row["year"], column, match.group(0))
        for row in rows
        for column in ("title", "director", "actors", "plot")
        for value in row[column].split("|" if column in ("director", "actors") else "\0")
        if (match := _ANY_MARKUP.search(value))
    ]
    assert found == []


def test_no_plot_is_a_hatnote(rows: list[dict[str, str]]) -> None:
    assert [(row["title"], row["plot"]) for row in rows if _HATNOTE.match(row["plot"])] == []


def test_the_naked_gun_title_is_clean(by_title_year: dict[tuple[str, int], dict[str, str]]) -> None:
    # Source title: "Naked Gun .mw-parser-output .frac{white-space:nowrap}…{…}33+1/3: The Final Insult"
    movie = by_title_year[("Naked Gun 33\u2153: The Final Insult", 1994)]
    assert movie["plot"].startswith("Naked Gun 33\u2153: The Final Insult is a 1994 American crime comedy film")
    assert by_title_year[("The Outsiders", 1983)]["plot"] == ""  # the source has an unexpanded infobox instead


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (
            "Naked Gun .mw-parser-output .frac{white-space:nowrap}.mw-parser-output .frac .num,.mw-parser-output "
            ".frac .den{font-size:80%;line-height:0;vertical-align:super}33+1\u20443: The Final Insult",
            "Naked Gun 33\u2153: The Final Insult",
        ),
        ("\n{{Infobox film\n| name = The Outsiders\n| director = Francis Ford Coppola", ""),
        ("Before {{nowrap|{{convert|6|ft}}}} after", "Before after"),
        ("As his corse{sic} to the rampart", "As his corse to the rampart"),
        ("Starring [[Rita Hayworth|Hayworth]] and [[Gig Young]].", "Starring Hayworth and Gig Young."),
        ("Katherine MacDonald]]", "Katherine MacDonald"),
        ("A <b>bold</b> move<br/>today &amp; tomorrow", "A bold move today & tomorrow"),
        ("Molnár's play, The Devil [1]. Long thought lost", "Molnár's play, The Devil. Long thought lost"),
        ("a 6 ft 3+1\u20442 in tall rabbit", "a 6 ft 3\u00bd in tall rabbit"),
        ('"[h]uman beings" [sic] stay', '"[h]uman beings" [sic] stay'),
        ("Plain text stays: 100% of 50 < 60 & more [a]", "Plain text stays: 100% of 50 < 60 & more [a]"),
    ],
)
def test_strip_markup_removes_each_kind(raw: str, clean: str) -> None:
    assert build_catalogue.strip_markup(raw) == clean


def test_a_hatnote_is_not_a_plot() -> None:
    assert build_catalogue.clean_plot("For the Family Guy episode see Family Guy #ep26]]") == ""
    assert build_catalogue.clean_plot("For a while it was fine.") == "For a while it was fine."


def test_the_godfather_has_its_director_cast_and_genres(by_title_year: dict[tuple[str, int], dict[str, str]]) -> None:
    movie = by_title_year[("The Godfather", 1972)]
    assert movie["director"] == "Francis Ford Coppola"
    assert movie["actors"].split("|")[:3] == ["Marlon Brando", "Al Pacino", "James Caan"]
    assert movie["genre"] == "Crime|Drama"
    assert movie["plot"].startswith("The Godfather is a 1972 American crime film directed by Francis Ford Coppola")
    assert movie["poster_url"] == "https://upload.wikimedia.org/wikipedia/en/1/1c/Godfather_ver1.jpg"


def test_co_directing_brothers_are_both_named(by_title_year: dict[tuple[str, int], dict[str, str]]) -> None:
    # "written, produced and directed by Joel and Ethan Coen"
    assert by_title_year[("Fargo", 1996)]["director"] == "Joel Coen|Ethan Coen"


def test_initials_and_directed_by_and_starring_give_the_director(
    by_title_year: dict[tuple[str, int], dict[str, str]],
) -> None:
    assert by_title_year[("The Birth of a Nation", 1915)]["director"] == "D. W. Griffith"
    # "directed by, produced by, and starring Orson Welles"
    assert by_title_year[("Citizen Kane", 1941)]["director"] == "Orson Welles"


def test_namesake_films_are_not_spliced_into_one_row(by_title_year: dict[tuple[str, int], dict[str, str]]) -> None:
    # Two different 1915 films called Carmen (DeMille's and Walsh's): the first is kept whole.
    carmen = by_title_year[("Carmen", 1915)]
    assert carmen["director"] == "Cecil B. DeMille"
    assert carmen["actors"] == "Geraldine Farrar|Wallace Reid"


def test_wiki_artifacts_are_gone_from_cast_and_titles(by_title_year: dict[tuple[str, int], dict[str, str]]) -> None:
    # Source cast: [..., "Gale Sondergaard", "(", "Academy Award for Best Supporting Actress", ")"]
    assert by_title_year[("Anthony Adverse", 1936)]["actors"].split("|")[-1] == "Gale Sondergaard"
    # Source title: "The Curtain Pole[1]"
    assert ("The Curtain Pole", 1909) in by_title_year


def test_a_comma_inside_an_actor_name_survives_the_csv(by_title_year: dict[tuple[str, int], dict[str, str]]) -> None:
    assert "Sammy Davis, Jr." in by_title_year[("Porgy and Bess", 1959)]["actors"].split("|")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Francis Ford Coppola and starring Marlon Brando.", ["Francis Ford Coppola"]),
        ("D. W. Griffith. The film was", ["D. W. Griffith"]),
        ("Anthony and Joe Russo and starring", ["Anthony Russo", "Joe Russo"]),
        ("Sam Wood, Charles Vidor, and John Ford.", ["Sam Wood", "Charles Vidor", "John Ford"]),
        ("Harold S. Bucquet, starring Lionel Barrymore", ["Harold S. Bucquet"]),
        ("Lars von Trier, and starring Nicole Kidman", ["Lars von Trier"]),
        ("Sammy Davis, Jr. and Bob Smith.", ["Sammy Davis, Jr.", "Bob Smith"]),
        ("the Coen brothers.", None),
        ("Chaplin.", None),
        ("John Ford Productions.", None),
        ("New York actor and director Edward Burns.", None),
    ],
)
def test_parse_names_accepts_only_plain_lists_of_people(text: str, expected: list[str] | None) -> None:
    assert build_catalogue.parse_names(text) == expected


def test_a_remade_films_director_is_not_taken(by_title_year: dict[tuple[str, int], dict[str, str]]) -> None:
    plot = "Foo is a 1950 remake of the 1931 film Bar directed by John Ford. The film was directed by Henry King."
    assert build_catalogue.extract_directors(plot, "Foo") == ["Henry King"]


@pytest.mark.slow
def test_rebuilding_gives_byte_identical_output(tmp_path: Path) -> None:
    if not build_catalogue.DEFAULT_SOURCE.exists():
        pytest.skip(f"source data not present at {build_catalogue.DEFAULT_SOURCE}")
    out = tmp_path / "movies.csv.gz"
    assert build_catalogue.main(["--out", str(out)]) == 0
    assert out.read_bytes() == CATALOGUE.read_bytes()


def test_output_gzip_header_has_no_timestamp_or_file_name() -> None:
    header = CATALOGUE.read_bytes()[:10]
    assert header[3] & 0x08 == 0  # FNAME flag unset
    assert header[4:8] == b"\x00\x00\x00\x00"  # MTIME 0


def test_csv_round_trips_quotes_commas_and_unicode() -> None:
    movie = build_catalogue.Movie(
        title='Say "Hi", Amélie',
        year=2001,
        genres=["Comedy"],
        actors=["Sammy Davis, Jr."],
        directors=[],
        plot="One line, with a comma.",
        poster_url="",
    )
    data = gzip.decompress(build_catalogue.gzip_bytes(build_catalogue.csv_bytes([movie])))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows == [
        HEADER,
        ['Say "Hi", Amélie', "2001", "Comedy", "", "Sammy Davis, Jr.", "One line, with a comma.", ""],
    ]


@pytest.mark.slow
def test_a_checkout_of_the_source_repository_builds_the_same_catalogue(tmp_path: Path) -> None:
    # The decade files of github.com/prust/wikipedia-movie-data, joined in order, are the bundled source.
    if not build_catalogue.DEFAULT_SOURCE.exists():
        pytest.skip(f"source data not present at {build_catalogue.DEFAULT_SOURCE}")
    films = build_catalogue.read_source(build_catalogue.DEFAULT_SOURCE)
    checkout = tmp_path / "wikipedia-movie-data"
    checkout.mkdir()
    for name in build_catalogue.DECADE_FILES:
        decade = int(name[7:11])
        (checkout / name).write_text(json.dumps([f for f in films if decade <= f["year"] < decade + 10]))
    assert build_catalogue.read_source(checkout) == films
    out = tmp_path / "movies.csv.gz"
    assert build_catalogue.main(["--source", str(checkout), "--out", str(out)]) == 0
    assert out.read_bytes() == CATALOGUE.read_bytes()


def test_missing_source_data_says_where_to_get_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert build_catalogue.main(["--source", str(tmp_path / "nowhere.json.gz"), "--out", str(tmp_path / "o")]) == 1
    message = capsys.readouterr().err
    assert message.startswith(f"make catalogue: no source data at {tmp_path / 'nowhere.json.gz'}.")
    assert "git clone https://github.com/prust/wikipedia-movie-data" in message
    assert "make catalogue SOURCE=wikipedia-movie-data" in message
    assert not (tmp_path / "o").exists()
    (tmp_path / "partial").mkdir()
    with pytest.raises(build_catalogue.SourceMissingError, match=r"lacks movies-1900s\.json"):
        build_catalogue.read_source(tmp_path / "partial")
