"""Ingest jobs on real files against the real (embedded) PostgreSQL: what loads, what is reported, what changes."""

from __future__ import annotations

import csv
import gzip
import io
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from marquee_local import stack
from movie_common import movie_rules
from movie_common.catalogue import read_seed_csv
from movie_common.db import ingest_jobs
from movie_ingest import reading, services
from movie_ingest.settings import IngestSettings, load_ingest_settings

Ingest = Callable[..., dict[str, Any]]


@pytest.fixture
def ingest(conn: Any, tmp_path: Path) -> Ingest:
    """Write `content` to a file and ingest it in the test's transaction; returns the job as `marquee ingest`
    prints it (with up to 1,000 reported rows)."""

    def run(content: bytes | str, *, name: str = "movies.csv", mode: str = "upsert", **options: Any) -> dict[str, Any]:
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        file_options = services.FileOptions(
            delimiter=options.pop("delimiter", None), encoding=options.pop("encoding", None)
        )
        job = services.ingest_path(conn, path, mode=mode, options=file_options, **options)
        found = ingest_jobs.get_job(conn, job_id=job.id, errors_limit=1000)
        assert found is not None
        return found.as_dict()

    return run


def _movie(conn: Any, title: str, year: int | None) -> dict[str, Any] | None:
    row: dict[str, Any] | None = conn.execute(
        """SELECT id, title, year, genre, director, actors, plot, poster_url, media_type, release_date, runtime,
                  rating::text AS rating, tmdb_id, imdb_id, source, updated_at
           FROM movies WHERE title_norm = marquee_normalize(%s) AND year IS NOT DISTINCT FROM %s""",
        (title, year),
    ).fetchone()
    return row


def _catalogue_digest(conn: Any) -> tuple[int, str]:
    row = conn.execute(
        """SELECT count(*) AS n, md5(string_agg(id::text || title || coalesce(year::text, '') || updated_at::text,
                                                ',' ORDER BY id)) AS digest
           FROM movies"""
    ).fetchone()
    return int(row["n"]), str(row["digest"])


def _errors(job: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(e["line"], e["column"], e["value"], e["code"]) for e in job["errors"]]


@pytest.mark.slow
def test_imdb_top_1000_loads_with_its_bad_row_reported(conn: Any, ingest: Ingest, imdb_top_1000: Path) -> None:
    before = _movie(conn, "Apollo 13", 1995)
    job = ingest(imdb_top_1000.read_bytes(), name="imdb_top_1000.csv")
    assert (job["status"], job["rows"], job["valid"], job["invalid"]) == ("done", 1000, 999, 1)
    assert job["inserted"] + job["updated"] + job["unchanged"] + job["duplicates"] == 999
    assert job["inserted"] > 0 and job["updated"] > 0  # the bundled catalogue already holds many of these films
    assert _errors(job) == [(968, "Released_Year", "PG", "not_a_number")]
    assert job["errors"][0]["reason"] == "a year is a number such as 1994"
    assert job["unknown_columns"] == ["Certificate", "Meta_score", "Gross"]  # No_of_Votes is read beside the rating
    assert (job["encoding"], job["delimiter"]) == ("UTF-8", "comma")
    assert _movie(conn, "Apollo 13", 1995) == before  # the bad row changed nothing

    matrix = _movie(conn, "The Matrix", 1999)
    assert matrix is not None
    assert (matrix["director"], matrix["runtime"], matrix["rating"], matrix["source"]) == (
        "Lana Wachowski",
        136,
        "8.7",
        "csv",
    )
    # The file puts the co-director in Star1; nothing in the file tells them apart, so they stay listed as given.
    assert matrix["actors"][:2] == ["Lilly Wachowski", "Keanu Reeves"]
    shawshank = _movie(conn, "The Shawshank Redemption", 1994)
    assert shawshank is not None and shawshank["genre"] == ["Drama"] and shawshank["runtime"] == 142
    assert shawshank["poster_url"].startswith("https://m.media-amazon.com/images/M/")
    godfather = _movie(conn, "The Godfather", 1972)
    assert godfather is not None and godfather["genre"] == ["Crime", "Drama"]
    assert _movie(conn, "Il buono, il brutto, il cattivo", 1966) is not None  # commas inside a quoted title
    singin = _movie(conn, "Singin' in the Rain", 1952)
    assert singin is not None and singin["actors"].count("Gene Kelly") == 1

    again = ingest(imdb_top_1000.read_bytes(), name="imdb_top_1000.csv")
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 999)


@pytest.mark.slow
def test_the_bundled_catalogue_reads_exactly_as_the_seed_loader_wrote_it(conn: Any, ingest: Ingest) -> None:
    job = ingest(stack.CATALOGUE.read_bytes(), name="movies.csv.gz")
    assert (job["rows"], job["valid"], job["invalid"], job["duplicates"]) == (36_243, 36_243, 0, 0)
    assert (job["inserted"], job["updated"], job["unchanged"]) == (0, 0, 36_243)
    assert job["errors"] == [] and job["unknown_columns"] == []


@pytest.mark.slow
def test_the_bundled_catalogue_fills_an_empty_catalogue(conn: Any, ingest: Ingest) -> None:
    conn.execute("DELETE FROM movies")
    job = ingest(stack.CATALOGUE.read_bytes(), name="movies.csv.gz")
    assert (job["status"], job["inserted"], job["invalid"]) == ("done", 36_243, 0)
    # Titles as the rules read them: the Wikipedia list behind the catalogue writes a few inverted (`Goonies, The`)
    # or with their year (`… at Shooter's Island (1902)`), stored as The Goonies and without the bracket.
    expected = {(_read_title(r.title, r.year), r.year): r for r in read_seed_csv(stack.CATALOGUE)}
    assert ("The Goonies", 1985) in expected
    rows = conn.execute("SELECT title, year, genre, director, actors, plot, poster_url FROM movies").fetchall()
    assert len(rows) == len(expected)
    for row in rows:
        seed = expected[(row["title"], row["year"])]
        assert (row["genre"], row["director"], row["actors"], row["plot"], row["poster_url"]) == (
            seed.genre,
            seed.director,
            seed.actors,
            # as the rules clean text: one plot's two word joiners (U+2060), letterless, are not kept
            seed.plot and movie_rules.clean_text(seed.plot),
            seed.poster_url,
        )
    # Every index of the schema is there (a load never drops one).
    names = {r["indexname"] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'movies'")}
    assert {
        "movies_title_search_trgm_idx",
        "movies_search_idx",
        "movies_title_words_idx",
        "movies_imdb_id_idx",
    } <= names


def _read_title(title: str, year: int | None) -> str:
    movie = movie_rules.check_movie({"title": title, "year": year}).movie
    assert movie is not None
    return movie.title


ACCENTED = "title,year,director,genre\nAmélie Ingest,2001,Jean-Pierre Jeunet,Comédie\nLéon Ingest,1994,Luc Besson,\n"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "content", "encoding", "delimiter"),
    [
        ("bom.csv", b"\xef\xbb\xbf" + ACCENTED.encode(), "UTF-8 with BOM", "comma"),
        ("latin1.csv", ACCENTED.encode("latin-1"), "Windows-1252", "comma"),
        ("gzip.csv.gz", gzip.compress(ACCENTED.encode()), "UTF-8", "comma"),
        ("semicolons.csv", ACCENTED.replace(",", ";").encode(), "UTF-8", "semicolon"),
        ("tabs.tsv", ACCENTED.replace(",", "\t").encode(), "UTF-8", "tab"),
        ("crlf.csv", ACCENTED.replace("\n", "\r\n").rstrip().encode("cp1252"), "Windows-1252", "comma"),
    ],
)
def test_encodings_compression_and_delimiters(
    conn: Any, ingest: Ingest, name: str, content: bytes, encoding: str, delimiter: str
) -> None:
    job = ingest(content, name=name)
    assert (job["status"], job["encoding"], job["delimiter"]) == ("done", encoding, delimiter)
    assert (job["rows"], job["inserted"], job["errors"]) == (2, 2, [])
    amelie = _movie(conn, "Amélie Ingest", 2001)
    assert amelie is not None and (amelie["director"], amelie["genre"]) == ("Jean-Pierre Jeunet", ["Comédie"])
    assert _movie(conn, "Léon Ingest", 1994) is not None


@pytest.mark.slow
def test_the_testers_windows_1252_file_with_undefined_bytes_keeps_its_accents(conn: Any, ingest: Ingest) -> None:
    """The tester's file: 0x81 and 0x9D, which Windows-1252 leaves undefined, made detection name cp775 and the plot
    was stored as `...cafķ`. Read as browsers read Windows-1252, the two bytes are C1 controls, which go from the
    value as C0 controls do (a UTF-8 file's U+0001 the same), and `café` stays `café`."""
    job = ingest(b"title,year,plot\nBreaker Undef,2001,bad \x81 byte and \x9d here and caf\xe9\n", name="f.csv")
    assert (job["status"], job["encoding"], job["inserted"], job["errors"], job["warnings"]) == (
        "done",
        "Windows-1252",
        1,
        [],
        [],
    )
    movie = _movie(conn, "Breaker Undef", 2001)
    assert movie is not None and movie["plot"] == "bad byte and here and café"
    ingest("title,year,plot\nBreaker Control,2001,bad \x01 byte and \x1f here and café\n", name="c0.csv")
    control = _movie(conn, "Breaker Control", 2001)
    assert control is not None and control["plot"] == movie["plot"]


@pytest.mark.slow
@pytest.mark.parametrize("byte", (0x81, 0x8D, 0x8F, 0x90, 0x9D), ids=lambda b: f"0x{b:02X}")
def test_a_windows_1252_file_with_a_byte_it_leaves_undefined_loads_as_windows_1252(
    conn: Any, ingest: Ingest, byte: int
) -> None:
    undefined = bytes((byte,))
    content = (
        b"title,year,director,plot\n"
        b"Am\xe9lie Undef,2001,Jean-Pierre Jeunet,\x93Caf\xe9\x94 " + undefined + b" cr\xe8me br\xfbl\xe9e\n"
        b"L\xe9on Undef" + undefined + b",1994,Luc Besson,O\xf9 est Mathilda?\n"
    )
    job = ingest(content, name=f"undefined-{byte:02x}.csv")
    assert (job["status"], job["encoding"], job["inserted"], job["errors"], job["warnings"]) == (
        "done",
        "Windows-1252",
        2,
        [],
        [],
    )
    amelie = _movie(conn, "Amélie Undef", 2001)
    assert amelie is not None and amelie["plot"] == "\u201cCafé\u201d crème brûlée"
    leon = _movie(conn, "Léon Undef", 1994)  # the control character goes from the title too
    assert leon is not None and (leon["title"], leon["plot"]) == ("Léon Undef", "Où est Mathilda?")


@pytest.mark.slow
def test_a_utf8_file_with_windows_1252_rows_near_the_top_keeps_both_kinds_of_accents(conn: Any, ingest: Ingest) -> None:
    """A row saved by Windows Excel pasted into a UTF-8 file: the first 64 KiB held both, detection named
    Windows-1252 for the whole file and its UTF-8 rows were stored garbled (`JosÃ© Padilha`), with no warning."""
    content = (
        "title,year,director\nTropa de Elite Mixed,2007,José Padilha\nAmélie Mixed,2001,Jean-Pierre Jeunet\n".encode()
        + "Café Society Mixed,2016,Woody Allen\n".encode("cp1252")
    )
    job = ingest(content, name="mixed.csv")
    assert (job["status"], job["encoding"], job["inserted"], job["errors"]) == ("done", "UTF-8", 3, [])
    assert job["warnings"] == [
        "1 bytes were not valid UTF-8 and were read as Windows-1252 (a file saved from two encodings); check "
        "accented letters in the rows they are in"
    ]
    tropa = _movie(conn, "Tropa de Elite Mixed", 2007)
    assert tropa is not None and tropa["director"] == "José Padilha"
    assert _movie(conn, "Amélie Mixed", 2001) is not None
    assert _movie(conn, "Café Society Mixed", 2016) is not None


@pytest.mark.slow
def test_a_csv_saved_by_excel_for_mac_loads_with_its_accents(conn: Any, ingest: Ingest) -> None:
    """Excel for Mac's "Comma Separated Values" (Mac Roman, CR line ends): detection named cp1257, and the movies
    were stored as `Caf\u0158 Prob\u0158` directed by `Ren\u0158 Cl\u017dment`."""
    content = "Title,Year,Director\rCafé Probé,2006,René Clément\rGöttliche Komödie,2000,Jörg Müller\r".encode(
        "mac_roman"
    )
    job = ingest(content, name="Excel for Mac.csv")
    assert (job["status"], job["encoding"], job["inserted"], job["errors"], job["warnings"]) == (
        "done",
        "Mac Roman",
        2,
        [],
        [],
    )
    cafe = _movie(conn, "Café Probé", 2006)
    assert cafe is not None and (cafe["title"], cafe["director"]) == ("Café Probé", "René Clément")
    komodie = _movie(conn, "Göttliche Komödie", 2000)
    assert komodie is not None and (komodie["title"], komodie["director"]) == ("Göttliche Komödie", "Jörg Müller")


@pytest.mark.slow
def test_a_german_excel_file_with_thousands_by_points_loads(conn: Any, ingest: Ingest) -> None:
    """German Excel's CSV: semicolons, a decimal comma and points between thousands (`1.234,56`), refused as
    not_a_number where `12,5` was read."""
    job = ingest("Title;Year;Rating;Popularity\nEuro Points;2008;7,5;1.234,56\nEuro Comma;2009;8;12,5\n", name="de.csv")
    assert (job["status"], job["delimiter"], job["inserted"], job["errors"]) == ("done", "semicolon", 2, [])
    movie = conn.execute(
        "SELECT rating::text AS rating, popularity FROM movies WHERE title = 'Euro Points' AND year = 2008"
    ).fetchone()
    assert movie is not None and (movie["rating"], movie["popularity"]) == ("7.5", 1234.56)


@pytest.mark.slow
def test_a_float_column_written_with_a_decimal_comma_loads(conn: Any, ingest: Ingest) -> None:
    """pandas' to_csv(sep=";", decimal=",") of a frame whose year and runtime are floats (a missing value makes them
    so): `2009,0` and `162,0` were not_a_number and not_a_duration, where `2009.0` and `162.0` were read."""
    job = ingest("title;year;runtime;rating\nComma Floats;2009,0;162,0;7,9\nComma Gaps;;;\n", name="pandas.csv")
    assert (job["status"], job["inserted"], job["errors"]) == ("done", 2, [])
    movie = _movie(conn, "Comma Floats", 2009)
    assert movie is not None and (movie["runtime"], movie["rating"]) == (162, "7.9")


@pytest.mark.slow
def test_a_poster_url_holding_a_file_name_with_spaces_loads_encoded(conn: Any, ingest: Ingest) -> None:
    job = ingest("title,year,poster_url\nSpaced Poster,2011,https://example.com/posters/Spaced Poster (2011).jpg\n")
    assert (job["status"], job["inserted"], job["errors"]) == ("done", 1, [])
    movie = _movie(conn, "Spaced Poster", 2011)
    assert movie is not None and movie["poster_url"] == "https://example.com/posters/Spaced%20Poster%20(2011).jpg"


@pytest.mark.slow
def test_an_imdb_list_with_a_music_video_reports_it_as_neither_film_nor_series(conn: Any, ingest: Ingest) -> None:
    job = ingest(
        "Const,Title,URL,Title Type,Year\n"
        "tt9911141,Clip Probe,https://www.imdb.com/title/tt9911141/,Music Video,2011\n"
        "tt9911142,Film Probe,https://www.imdb.com/title/tt9911142/,Movie,2012\n",
        name="imdb-list.csv",
    )
    assert [(e["line"], e["column"], e["value"], e["code"]) for e in job["errors"]] == [
        (2, "Title Type", "Music Video", "not_a_movie_or_series")
    ]
    assert (job["inserted"], job["invalid"]) == (1, 1)


@pytest.mark.slow
def test_duplicated_rows_with_conflicting_values_say_which_values_the_merge_did_not_keep(
    conn: Any, ingest: Ingest
) -> None:
    """Rows of one title and year giving different directors or ratings were reported as `merged into it` alone:
    which of the file's values were dropped went unsaid."""
    plot = "A long plot. " * 10
    job = ingest(
        "title,year,director,rating,plot,runtime\n"
        f"Twice Told,2010,Ann Lee,7,{plot},95\n"
        "Twice Told,2010,Bo Kim,,,95\n"
        "Twice Told,2010,,8.5,Short plot.,\n"
        "Once Told,2011,Cy Dee,6,,\n"
        "Once Told,2011,Cy Dee,,,\n"
    )
    assert [(e["line"], e["code"], e["reason"]) for e in job["errors"]] == [
        (
            2,
            "duplicate_row",
            "same title and year as line 4; merged into it, which keeps director Bo Kim (not this row's Ann Lee), "
            f"plot Short plot. (not this row's {plot.strip()[:59]}…), rating 8.5 (not this row's 7.0)",
        ),
        (3, "duplicate_row", "same title and year as line 4; merged into it"),
        (5, "duplicate_row", "same title and year as line 6; merged into it"),  # nothing differs
    ]
    movie = _movie(conn, "Twice Told", 2010)
    assert movie is not None and (movie["director"], movie["rating"], movie["runtime"]) == ("Bo Kim", "8.5", 95)


@pytest.mark.slow
def test_a_hand_written_file_with_spaces_after_commas_and_a_ctrl_z_loads_whole(conn: Any, ingest: Ingest) -> None:
    job = ingest(b'title, year, director\r\n"Spaced, Quoted", "2001", "Lee, Ann"\r\n\x1a', name="hand.csv")
    assert (job["status"], job["rows"], job["inserted"], job["errors"]) == ("done", 1, 1, [])
    movie = _movie(conn, "Spaced, Quoted", 2001)
    assert movie is not None and movie["director"] == "Lee, Ann"


@pytest.mark.slow
def test_values_under_a_column_with_no_name_are_warned_of(conn: Any, ingest: Ingest) -> None:
    """A heading deleted in a spreadsheet, its column's data kept: the values were read by no field and the job
    said nothing (`unknown_columns` lists named columns only). Trailing empty columns stay unremarked."""
    job = ingest(
        "title,year,,,\r\nNo Name One,2001,Ann Lee,,\r\nNo Name Two,2002,,,\r\nNo Name Three,2003,Bo Kim,,\r\n"
    )
    assert (job["status"], job["inserted"], job["errors"]) == ("done", 3, [])
    assert job["warnings"] == [
        "Column 3 has no name in the header row but holds values in 2 rows (the first on line 2); no field reads it: "
        "name it (title, year, director...) to load them"
    ]
    assert ingest("title,year,,,\r\nNo Name Four,2004,,,\r\n")["warnings"] == []


@pytest.mark.slow
def test_a_header_row_repeated_mid_file_is_reported_and_loads_nothing(conn: Any, ingest: Ingest) -> None:
    """Two exports joined (`cat a.csv b.csv`): the second header was loaded as a movie titled `Title`, directed by
    `Director`; with a year column it was two `not_a_number` errors naming the column names as values, and a bad row
    that could refuse a replace."""
    for mode in ("upsert", "replace"):
        content = "Title,Director\r\nJoined One,Ann Lee\r\nTitle,Director\r\nJoined Two,Bo Kim\r\n"
        job = ingest(content, name=f"joined-{mode}.csv", mode=mode)
        # Reported, but not a row of data: nor a bad row that would count against a replace (5% at most).
        assert (job["status"], job["rows"], job["valid"], job["invalid"]) == ("done", 2, 2, 0), job
        assert [(e["line"], e["column"], e["value"], e["code"]) for e in job["errors"]] == [
            (3, "Title", "Title", "repeated_header")
        ]
        assert job["errors"][0]["reason"].startswith("the header row again (as on line 1)")
        assert _movie(conn, "Title", None) is None
        assert _movie(conn, "Joined One", None) is not None and _movie(conn, "Joined Two", None) is not None


@pytest.mark.slow
def test_quoted_fields_with_commas_quotes_and_line_breaks(conn: Any, ingest: Ingest) -> None:
    content = (
        'title,year,plot,cast\r\n"Heat, Revisited",1995,"He said ""no"".\r\nThen he left.",'
        '"Al Pacino, Robert De Niro, Sammy Davis, Jr."\r\nPlain Film Ingest,2001,Short.,'
    )
    job = ingest(content)
    assert (job["rows"], job["inserted"], job["errors"]) == (2, 2, [])
    heat = _movie(conn, "Heat, Revisited", 1995)
    assert heat is not None
    assert heat["plot"] == 'He said "no". Then he left.'
    assert heat["actors"] == ["Al Pacino", "Robert De Niro", "Sammy Davis, Jr."]


@pytest.mark.slow
def test_odd_values_are_read_as_a_person_would(conn: Any, ingest: Ingest) -> None:
    content = (
        "movie_title,runtime,imdb_rating,type,imdb_id,release_date,stars\n"
        'Odd Values Film (1987),1h 52min,"7,9",Feature Film,https://www.imdb.com/title/tt0093870/,,Bob; Ann\n'
        "Odd Series Show,,85%,TV Series,,2008-01-20,\n"
    )
    job = ingest(content, delimiter="comma")
    assert job["errors"] == [] and job["inserted"] == 2
    film = _movie(conn, "Odd Values Film", 1987)
    assert film is not None
    assert (film["runtime"], film["rating"], film["media_type"], film["imdb_id"], film["actors"]) == (
        112,
        "7.9",
        "movie",
        "tt0093870",
        ["Bob", "Ann"],
    )
    show = _movie(conn, "Odd Series Show", 2008)
    assert show is not None and (show["media_type"], show["rating"], str(show["release_date"])) == (
        "tv",
        "8.5",
        "2008-01-20",
    )


@pytest.mark.slow
def test_a_release_date_more_than_a_year_from_the_year_is_a_reported_row(conn: Any, ingest: Ingest) -> None:
    content = (
        "title,Released_Year,released\n"
        "Gap Decades,1994,2031-01-01\n"  # the tester's row: refused, naming the file's date column
        "Gap Festival,1994,1995-03-10\n"  # a festival premiere the year before the release: loads
        "Gap Date Only,,1997-05-02\n"  # no year: taken from the date
    )
    job = ingest(content)
    assert (job["status"], job["rows"], job["inserted"], job["invalid"]) == ("done", 3, 2, 1)
    assert [(e["line"], e["column"], e["value"], e["code"], e["reason"]) for e in job["errors"]] == [
        (
            2,
            "released",
            "2031-01-01",
            "year_mismatch",
            "the release date 2031-01-01 is 37 years from the year 1994; they may differ by at most 1 "
            "(a festival premiere the year before the release)",
        )
    ]
    assert _movie(conn, "Gap Decades", 1994) is None and _movie(conn, "Gap Decades", 2031) is None
    festival = _movie(conn, "Gap Festival", 1994)
    assert festival is not None and str(festival["release_date"]) == "1995-03-10"
    dated = _movie(conn, "Gap Date Only", 1997)
    assert dated is not None and str(dated["release_date"]) == "1997-05-02"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "code", "says"),
    [
        ("year,genre\n1999,Drama\n", "missing_title_column", "No title column"),
        ("", "empty_file", "empty"),
        ("title,year\n", "empty_file", "no data rows"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not_text", "PNG"),
        # An .xlsx: the verdict, then what to do (the advice used to sit inside it: "…; save the sheet as CSV, not a
        # CSV text file.").
        (
            b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4,
            "not_text",
            "This file is a ZIP archive or an Excel/OpenDocument workbook, not a CSV text file; save the sheet as CSV.",
        ),
        (os.urandom(2048), "not_text", "not"),
        (os.urandom(100_000), "not_text", "binary"),
        ("title,year\nUTF16 Film,2001\n".encode("utf-16-le"), "not_text", "UTF-16 or UTF-32 text without a"),
        (b"title,year\n" + b"Zeroed\x00,2001\n" * 5, "not_text", "5 of its first 6 lines hold NUL bytes"),
        (b"title,ye\x00ar\nHeader Nul Film,2001\n", "unreadable_file", "header row (line 1) holds a NUL byte"),
    ],
)
def test_files_that_cannot_be_ingested_fail_and_change_nothing(
    conn: Any, ingest: Ingest, content: bytes | str, code: str, says: str
) -> None:
    before = _catalogue_digest(conn)
    job = ingest(content)
    assert job["status"] == "failed"
    assert job["error"]["code"] == code and says in job["error"]["detail"]
    assert job["inserted"] == job["updated"] == job["deleted"] == 0
    assert _catalogue_digest(conn) == before


@pytest.mark.slow  # 0.4 s or more alone
def test_a_20_mb_field_is_reported_and_the_other_rows_load(conn: Any, ingest: Ingest) -> None:
    content = b'title,year,plot\nBefore Huge,2001,ok\nHuge Plot Film,2002,"' + b"x" * (20 * 1024 * 1024)
    content += b'"\nAfter Huge,2003,ok\n'
    job = ingest(content)
    assert (job["status"], job["rows"], job["valid"], job["invalid"], job["inserted"]) == ("done", 3, 2, 1, 2)
    assert _errors(job) == [(3, None, None, "record_too_large")]
    assert _movie(conn, "Before Huge", 2001) is not None and _movie(conn, "After Huge", 2003) is not None
    assert _movie(conn, "Huge Plot Film", 2002) is None


@pytest.mark.slow
def test_rows_repeating_a_title_and_year_are_merged_and_reported(conn: Any, ingest: Ingest) -> None:
    content = (
        "title,year,genre,director,plot\n"
        "Repeat Ingest,1995,Crime,,First plot.\n"
        "Other Ingest,1995,Drama,,\n"
        "REPEAT  ingest,1995,,Michael Mann,\n"
    )
    job = ingest(content)
    assert (job["rows"], job["valid"], job["duplicates"], job["inserted"]) == (3, 3, 1, 2)
    assert _errors(job) == [(2, "title", "Repeat Ingest", "duplicate_row")]
    assert "line 4" in job["errors"][0]["reason"]
    row = _movie(conn, "Repeat Ingest", 1995)
    assert row is not None
    assert (row["title"], row["genre"], row["director"], row["plot"]) == (
        "REPEAT ingest",
        ["Crime"],
        "Michael Mann",
        "First plot.",
    )


def test_existing_movies_change_only_where_the_file_has_a_value(conn: Any, ingest: Ingest) -> None:
    conn.execute(
        """INSERT INTO movies (title, year, genre, director, plot, poster_url, runtime, updated_at)
           VALUES ('Kept Values', 1980, '{Drama}', 'Old Director', 'Old plot.', 'https://x/old.jpg', 100,
                   now() - interval '1 day')"""
    )
    job = ingest("title,year,director,plot,runtime\nKept Values,1980,,,\n")
    assert (job["unchanged"], job["updated"]) == (1, 0)
    job = ingest("title,year,director,plot,runtime\nkept values,1980,New Director,,95 min\n")
    assert (job["unchanged"], job["updated"]) == (0, 1)
    row = _movie(conn, "Kept Values", 1980)
    assert row is not None
    assert (row["title"], row["director"], row["plot"], row["poster_url"], row["runtime"], row["genre"]) == (
        "Kept Values",  # a title that reads the same keeps its stored spelling
        "New Director",
        "Old plot.",
        "https://x/old.jpg",
        95,
        ["Drama"],
    )
    assert row["source"] == "csv"
    assert conn.execute("SELECT now() - %s < interval '1 minute' AS fresh", (row["updated_at"],)).fetchone()["fresh"]


@pytest.mark.slow
def test_rows_match_movies_by_tmdb_id_then_imdb_id(conn: Any, ingest: Ingest) -> None:
    conn.execute(
        """INSERT INTO movies (title, year, tmdb_id, imdb_id, source) VALUES
           ('Id Match One', 1999, 990001, NULL, 'tmdb'), ('Id Match Two', 2005, NULL, 'tt9900002', 'tmdb')"""
    )
    job = ingest(
        "title,year,tmdb_id,imdb_id\nRenamed One,1999,990001,\nRenamed Two,2005,,tt9900002\nNew Three,2010,990003,\n"
    )
    assert (job["updated"], job["inserted"], job["errors"]) == (2, 1, [])
    assert _movie(conn, "Id Match One", 1999) is None
    one = _movie(conn, "Renamed One", 1999)
    assert one is not None and one["tmdb_id"] == 990001
    two = _movie(conn, "Renamed Two", 2005)
    assert two is not None and two["imdb_id"] == "tt9900002"


def test_a_title_that_reads_the_same_keeps_the_stored_spelling(conn: Any, ingest: Ingest) -> None:
    conn.execute(
        """INSERT INTO movies (title, year, source, plot) VALUES
           ('Crème Brûlée Nights', 2011, 'csv', NULL), ('The Quiet Harbour Keeper', 1994, 'csv', 'Two men bond.')"""
    )
    job = ingest("title,year,plot\nCreme Brulee Nights,2011,A shy cook.\nthe quiet harbour keeper,1994,\n")
    assert (job["updated"], job["unchanged"], job["errors"]) == (1, 1, [])
    titles = {
        r["title"]: r["plot"]
        for r in conn.execute(
            "SELECT title, plot FROM movies WHERE title_norm IN ('creme brulee nights', 'the quiet harbour keeper')"
        )
    }
    # The plot is the file's; the titles keep their stored spelling.
    assert titles == {"Crème Brûlée Nights": "A shy cook.", "The Quiet Harbour Keeper": "Two men bond."}


def test_a_tv_row_never_turns_a_film_of_the_same_title_and_year_into_tv(conn: Any, ingest: Ingest) -> None:
    conn.execute("INSERT INTO movies (title, year, source, media_type) VALUES ('Orbital Drift', 2015, 'csv', 'movie')")
    job = ingest("title,year,media_type\nOrbital Drift,2015,tv\n")
    assert [(e["line"], e["code"]) for e in job["errors"]] == [(2, "identity_conflict")]
    assert "is a film, not a TV show" in job["errors"][0]["reason"]
    film = _movie(conn, "Orbital Drift", 2015)
    assert film is not None and film["media_type"] == "movie"


@pytest.mark.slow
def test_one_id_for_two_titles_in_one_file_is_refused_after_the_first(conn: Any, ingest: Ingest) -> None:
    job = ingest(
        "title,year,imdb_id,tmdb_id\n"
        "Night Crossing,2008,tt9911111,\n"
        "Night Crossing Returns,2012,tt9911111,\n"  # IMDb's id of the first film again
        "Harbour Lights,2010,,990771\n"
        "Harbour Lights Two,2013,,990771\n"  # TMDB's id of the first again
        "Other Film,2014,tt9911112,990772\n"
    )
    assert [(e["line"], e["code"]) for e in job["errors"]] == [(3, "duplicate_id"), (5, "duplicate_id")]
    assert "line 2 gives this IMDb id to another title" in job["errors"][0]["reason"]
    assert "line 4 gives this TMDB id to another title" in job["errors"][1]["reason"]
    assert (job["inserted"], job["valid"], job["invalid"]) == (3, 3, 2)
    held = conn.execute("SELECT title FROM movies WHERE imdb_id = 'tt9911111' OR tmdb_id = 990771 ORDER BY title")
    assert [r["title"] for r in held] == ["Harbour Lights", "Night Crossing"]


@pytest.mark.slow
def test_a_duplicate_id_is_reported_on_the_id_column_with_the_id_and_the_first_title(conn: Any, ingest: Ingest) -> None:
    """The report named the row's title and said `gives this IMDb id to another title`, without the id or the other
    title: the admin had to open the file to see which id, and which film had it first."""
    job = ingest(
        "Const,Title,URL,Year\n"  # IMDb's list export: the id's column is `Const`
        "tt9911121,Dawn Ferry,https://www.imdb.com/title/tt9911121/,2008\n"
        "tt9911121,Dawn Ferry II,https://www.imdb.com/title/tt9911121/,2012\n"
    )
    assert [(e["line"], e["column"], e["value"], e["code"]) for e in job["errors"]] == [
        (3, "Const", "tt9911121", "duplicate_id")
    ]
    assert job["errors"][0]["reason"] == "line 2 gives this IMDb id to another title (Dawn Ferry, 2008)"
    job = ingest("title,year,tmdb_id\nDusk Ferry,2009,990781\nDusk Ferry II,2013,990781\n")
    assert [(e["line"], e["column"], e["value"], e["code"], e["reason"]) for e in job["errors"]] == [
        (3, "tmdb_id", "990781", "duplicate_id", "line 2 gives this TMDB id to another title (Dusk Ferry, 2009)")
    ]


def test_a_year_far_from_the_matched_movies_release_date_is_refused(conn: Any, ingest: Ingest) -> None:
    # A row matched by its IMDb id gives a year and no date; the stored release date is years away. Writing the year
    # alone would leave a movie whose year and date disagree, which the admin's form then refuses on every edit.
    conn.execute(
        """INSERT INTO movies (title, year, release_date, imdb_id, source) VALUES
           ('Harbour Of Years', 1994, '1994-09-23', 'tt9930001', 'csv'),
           ('Near Year Film', 2001, '2001-01-05', 'tt9930002', 'csv'),
           ('Dated Again', 1980, '1980-06-01', 'tt9930003', 'csv')"""
    )
    job = ingest(
        "title,Released_Year,imdb_id,release_date\n"
        "Harbour Of Years,1990,tt9930001,\n"  # four years from 1994-09-23: refused
        "Near Year Film,2000,tt9930002,\n"  # a year apart (a festival date): allowed
        "Dated Again,1985,tt9930003,1985-03-02\n"  # year and date together: the movie's new date
    )
    assert [(e["line"], e["column"], e["value"], e["code"]) for e in job["errors"]] == [
        (2, "Released_Year", "1990", "year_date_conflict")
    ]
    assert "released on 1994-09-23" in job["errors"][0]["reason"]
    assert (job["valid"], job["invalid"], job["updated"]) == (2, 1, 2)
    kept = _movie(conn, "Harbour Of Years", 1994)
    assert kept is not None and str(kept["release_date"]) == "1994-09-23"
    near = _movie(conn, "Near Year Film", 2000)
    assert near is not None and str(near["release_date"]) == "2001-01-05"
    again = _movie(conn, "Dated Again", 1985)
    assert again is not None and str(again["release_date"]) == "1985-03-02"


@pytest.mark.slow
def test_adult_titles_are_refused_as_the_tmdb_sync_skips_them(conn: Any, ingest: Ingest) -> None:
    # IMDb's title.basics (isAdult) and TMDB's exports (adult) mark adult titles; they were loaded (the eleventh
    # tester), though the catalogue has none: the TMDB sync skips them.
    imdb = ingest(
        "tconst\ttitleType\tprimaryTitle\tisAdult\tstartYear\n"
        "tt9940001\tmovie\tAdult Row Film\t1\t2001\n"
        "tt9940002\tmovie\tFamily Row Film\t0\t2002\n",
        name="title.basics.tsv",
    )
    assert [(e["line"], e["column"], e["value"], e["code"]) for e in imdb["errors"]] == [
        (2, "isAdult", "1", "adult_title")
    ]
    assert (imdb["inserted"], imdb["invalid"]) == (1, 1)
    tmdb = ingest(
        "id,title,release_date,adult,vote_average,original_title\n"
        "9940003,Adult Export Film,2003-01-01,True,5.0,Adult Export Film\n"
        "9940004,Family Export Film,2004-01-01,False,6.0,Family Export Film\n"
    )
    assert [(e["line"], e["code"]) for e in tmdb["errors"]] == [(2, "adult_title")]
    assert _movie(conn, "Adult Row Film", 2001) is None and _movie(conn, "Adult Export Film", 2003) is None
    assert _movie(conn, "Family Row Film", 2002) is not None and _movie(conn, "Family Export Film", 2004) is not None


@pytest.mark.slow
def test_rows_that_would_collide_with_another_movie_are_refused(conn: Any, ingest: Ingest) -> None:
    conn.execute(
        """INSERT INTO movies (title, year, tmdb_id, source) VALUES
           ('Collide A', 2001, 990011, 'tmdb'), ('Collide B', 2001, NULL, 'csv'), ('Collide C', 2002, 990013, 'tmdb')"""
    )
    job = ingest("title,year,tmdb_id\nCollide B,2001,990011\nCollide C,2002,990099\nFine Row,2003,\n")
    assert (job["rows"], job["valid"], job["invalid"], job["inserted"], job["updated"]) == (3, 1, 2, 1, 0)
    assert [(e["line"], e["code"]) for e in job["errors"]] == [(2, "title_year_taken"), (3, "identity_conflict")]
    assert _movie(conn, "Collide A", 2001) is not None  # unchanged
    c = _movie(conn, "Collide C", 2002)
    assert c is not None and c["tmdb_id"] == 990013


@pytest.mark.slow
def test_validate_mode_reports_what_an_upsert_would_do_and_changes_nothing(
    conn: Any, ingest: Ingest, imdb_top_1000: Path
) -> None:
    before = _catalogue_digest(conn)
    job = ingest(imdb_top_1000.read_bytes(), mode="validate")
    assert (job["status"], job["mode"], job["valid"], job["invalid"]) == ("done", "validate", 999, 1)
    assert job["inserted"] > 0 and job["updated"] > 0
    assert _catalogue_digest(conn) == before
    real = ingest(imdb_top_1000.read_bytes())
    assert (real["inserted"], real["updated"]) == (job["inserted"], job["updated"])


@pytest.mark.slow
def test_a_title_spelt_with_other_punctuation_is_the_catalogues_film_not_a_twin(conn: Any, ingest: Ingest) -> None:
    """The ninth tester's twins from the IMDb top-1000 file: `The Godfather: Part II` beside the catalogue's `The
    Godfather Part II` (same year, same director), `WALL·E` beside `WALL-E`. The title's lead (no article, punctuation
    or spaces) in the same year matches unless both name a director and they differ; the movie keeps its spelling."""
    godfather = _movie(conn, "The Godfather Part II", 1974)
    wall_e = _movie(conn, "WALL-E", 2008)
    assert godfather is not None and wall_e is not None
    count = "SELECT count(*) AS n FROM movies"
    before = conn.execute(count).fetchone()["n"]
    job = ingest(
        "title,year,director,runtime\n"
        f"The Godfather: Part II,1974,{godfather['director']},202\n"
        "WALL·E,2008,,98\n"
        "Wall-E!,2031,,90\n",  # another year: another film
        name="punctuation.csv",
    )
    assert (job["status"], job["inserted"], job["updated"], job["errors"]) == ("done", 1, 2, []), job["errors"]
    assert conn.execute(count).fetchone()["n"] == before + 1
    kept = _movie(conn, "The Godfather Part II", 1974)
    assert kept is not None
    assert (kept["id"], kept["title"], kept["runtime"]) == (godfather["id"], "The Godfather Part II", 202)
    robot = _movie(conn, "WALL-E", 2008)
    assert robot is not None and (robot["id"], robot["runtime"]) == (wall_e["id"], 98)
    # Another director: another film of that title and year, beside it.
    other = ingest("title,year,director\nThe Godfather: Part II,1974,Someone Else Entirely\n", name="other.csv")
    assert (other["status"], other["inserted"], other["updated"]) == ("done", 1, 0)
    assert conn.execute(count).fetchone()["n"] == before + 2


def _replace_fixture(conn: Any) -> None:
    conn.execute("DELETE FROM movies")
    conn.execute(
        """INSERT INTO movies (title, year, source, tmdb_id) VALUES
           ('Stays By File', 2001, 'csv', NULL), ('Goes Away', 2002, 'csv', NULL),
           ('From Tmdb', 2003, 'tmdb', 990021), ('Typed By Admin', 2004, 'admin', NULL)"""
    )


@pytest.mark.slow
def test_replace_makes_the_file_the_catalogue_keeping_tmdb_rows(conn: Any, ingest: Ingest) -> None:
    _replace_fixture(conn)
    job = ingest("title,year\nStays By File,2001\nBrand New,2005\n", mode="replace")
    assert (job["status"], job["inserted"], job["unchanged"], job["deleted"]) == ("done", 1, 1, 2)
    titles = {r["title"] for r in conn.execute("SELECT title FROM movies")}
    assert titles == {"Stays By File", "Brand New", "From Tmdb"}


@pytest.mark.slow
def test_replace_can_drop_tmdb_rows_too(conn: Any, ingest: Ingest) -> None:
    _replace_fixture(conn)
    job = ingest("title,year\nStays By File,2001\n", mode="replace", keep_tmdb=False)
    assert (job["deleted"], job["keep_tmdb"]) == (3, False)
    assert [r["title"] for r in conn.execute("SELECT title FROM movies")] == ["Stays By File"]


@pytest.mark.slow
@pytest.mark.parametrize("keep_tmdb", [True, False])
def test_replace_keeps_tmdb_movies_an_admin_or_a_file_has_changed_in_part(
    conn: Any, ingest: Ingest, keep_tmdb: bool
) -> None:
    _replace_fixture(conn)
    conn.execute(
        """INSERT INTO movies (title, year, source, tmdb_id, tmdb_filled) VALUES
           ('Tmdb Edited By Admin', 2006, 'admin', 990022, '{runtime,rating,genre}'),
           ('Tmdb Given A Plot By File', 2007, 'csv', 990023, '{runtime,rating,poster_url}'),
           ('File Row With A Tmdb Id', 2008, 'csv', 990024, '{}')"""
    )
    job = ingest("title,year\nStays By File,2001\n", mode="replace", keep_tmdb=keep_tmdb)
    titles = {r["title"] for r in conn.execute("SELECT title FROM movies")}
    if keep_tmdb:  # TMDB still fills them: TMDB's movies, whoever changed a column since
        assert titles == {"Stays By File", "From Tmdb", "Tmdb Edited By Admin", "Tmdb Given A Plot By File"}
        assert job["deleted"] == 3
    else:
        assert titles == {"Stays By File"} and job["deleted"] == 6


@pytest.mark.slow  # over a second in the suite
def test_replace_with_too_many_bad_rows_is_refused_and_changes_nothing(conn: Any, ingest: Ingest) -> None:
    before = _catalogue_digest(conn)
    rows = "".join(f"Replacement {i},{2000 + i % 20}\n" for i in range(90)) + "".join(
        f"Bad Year {i},PG\n" for i in range(10)
    )
    job = ingest("title,year\n" + rows, mode="replace")
    assert (job["status"], job["error"]["code"], job["invalid"]) == ("failed", "too_many_bad_rows", 10)
    assert "10 of 100 rows (10.0%)" in job["error"]["detail"]
    assert len(job["errors"]) == 10  # the admin sees which rows to fix
    assert _catalogue_digest(conn) == before
    # The same file in upsert mode loads its good rows.
    assert ingest("title,year\n" + rows)["inserted"] == 90


@pytest.mark.slow
def test_rows_the_merge_refuses_count_against_the_replace_share(conn: Any, ingest: Ingest) -> None:
    # A replace whose rows read well but which the merge refuses (here an IMDb id given to two titles) was written,
    # the catalogue replaced, with 3 of 23 rows (13%) bad in its own counts: the share was checked before the merge.
    _replace_fixture(conn)
    before = _catalogue_digest(conn)
    rows = "".join(f"Shared Id {i},{1990 + i},tt99{i:05d}\n" for i in range(20))
    rows += "".join(f"Shared Id Again {i},{1990 + i},tt99{i:05d}\n" for i in range(3))
    job = ingest("title,year,imdb_id\n" + rows, mode="replace")
    assert (job["status"], job["error"]["code"]) == ("failed", "too_many_bad_rows")
    assert "3 of 23 rows (13.0%) are bad" in job["error"]["detail"]
    assert (job["rows"], job["valid"], job["invalid"], job["inserted"], job["deleted"]) == (23, 20, 3, 0, 0)
    assert [(e["line"], e["code"]) for e in job["errors"]] == [
        (22, "duplicate_id"),
        (23, "duplicate_id"),
        (24, "duplicate_id"),
    ]
    assert _catalogue_digest(conn) == before
    # Within the share, the same kind of refusal does not stop a replace.
    job = ingest("title,year,imdb_id\n" + rows.rsplit("Shared Id Again 1", 1)[0], mode="replace")
    assert (job["status"], job["invalid"], job["inserted"], job["deleted"]) == ("done", 1, 20, 3)


@pytest.mark.slow
def test_a_replace_refused_by_the_merge_still_counts_its_repeated_rows(conn: Any, ingest: Ingest) -> None:
    # A tester's refused replace showed `duplicates` 0 beside a duplicate_row notice in its own report.
    _replace_fixture(conn)
    rows = "".join(f"Shared Id {i},{1990 + i},tt98{i:05d}\n" for i in range(20))
    rows += "Shared Id 0,1990,tt9800000\n"  # repeats line 2: merged into this one
    rows += "".join(f"Shared Id Again {i},{1990 + i},tt98{i:05d}\n" for i in range(1, 4))
    job = ingest("title,year,imdb_id\n" + rows, mode="replace")
    assert (job["status"], job["error"]["code"]) == ("failed", "too_many_bad_rows")
    assert (job["duplicates"], job["invalid"], job["inserted"]) == (1, 3, 0)
    assert ("duplicate_row" in {e["code"] for e in job["errors"]}) is True


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> IngestSettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_ingest_settings()


@pytest.mark.slow
def test_a_busy_catalogue_is_retried_then_fails_changing_nothing(
    conn: Any, ingest: Ingest, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(monkeypatch, INGEST_LOCK_TIMEOUT_MS="100", INGEST_LOCK_ATTEMPTS="2")
    before = _catalogue_digest(conn)
    with psycopg.connect(database_url) as other:
        other.execute("LOCK TABLE movies IN SHARE MODE")  # blocks writers (not readers) until this transaction ends
        job = ingest("title,year\nBusy Film,2001\n", settings=settings)
        other.rollback()
    assert (job["status"], job["error"]["code"]) == ("failed", "catalogue_busy")
    assert _catalogue_digest(conn) == before


@pytest.mark.slow
def test_a_replace_waits_for_a_replace_in_progress_and_an_upsert_does_not(
    conn: Any, ingest: Ingest, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two replaces at once each planned against the catalogue as it was and deleted what the other inserted: two
    # replaces of 20,001 rows (10,000 in common) left 10,002 movies, both jobs 'done' (found by the ninth tester).
    # A replace's merge now holds movies.REPLACE_LOCK_ID, so a second one waits (bounded, then catalogue_busy).
    from movie_common.db.movies import REPLACE_LOCK_ID

    settings = _settings(monkeypatch, INGEST_LOCK_TIMEOUT_MS="100", INGEST_LOCK_ATTEMPTS="2")
    before = _catalogue_digest(conn)
    with psycopg.connect(database_url) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", (REPLACE_LOCK_ID,))  # a replace merging meanwhile
        job = ingest("title,year\nSecond Replace Film,2001\n", mode="replace", settings=settings)
        assert (job["status"], job["error"]["code"]) == ("failed", "catalogue_busy")
        assert _catalogue_digest(conn) == before
        patient = _settings(monkeypatch, INGEST_LOCK_TIMEOUT_MS="2000", INGEST_LOCK_ATTEMPTS="3")
        assert ingest("title,year\nValidated Film,2001\n", mode="validate", settings=patient)["status"] == "done"
        upsert = ingest("title,year\nUpsert Beside A Replace,2001\n", settings=patient)
        assert (upsert["status"], upsert["inserted"]) == ("done", 1)
        other.rollback()
    job = ingest("title,year\nSecond Replace Film,2001\n", name="again.csv", mode="replace", settings=patient)
    assert (job["status"], job["inserted"]) == ("done", 1)


@pytest.mark.slow
def test_a_lock_released_while_retrying_lets_the_job_through(
    ingest: Ingest, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(monkeypatch, INGEST_LOCK_TIMEOUT_MS="200", INGEST_LOCK_ATTEMPTS="6")
    with psycopg.connect(database_url) as other:
        other.execute("LOCK TABLE movies IN SHARE MODE")
        timer = threading.Timer(0.6, other.rollback)
        timer.start()
        job = ingest("title,year\nPatient Film,2001\n", settings=settings)
        timer.join()
    assert (job["status"], job["inserted"]) == ("done", 1)


@pytest.mark.slow
def test_a_nul_byte_fails_only_its_row_which_is_reported_with_its_column_and_value(conn: Any, ingest: Ingest) -> None:
    """One NUL byte used to fail the whole file as binary; past the first 64 KiB, a NUL beside a bad value stopped
    the job on PostgreSQL (text cannot hold NUL). Now the row is reported and every other row loads."""
    filler = (b" " * 69 + b"\n") * 1000  # blank rows (skipped): the second NUL row is past the first 64 KiB
    content = (
        b"title,year,genre,rating\n"
        b"Nul Good One,2001,Drama,7\n"
        b"Nul Dam\x00aged,2002,Drama,7\n" + filler + b"Nul Late,2003,Drama,x\x00y\n"
        b"Nul Good Two,2004,Drama,8\n"
    )
    assert content.index(b"Nul Late") > 64 * 1024
    job = ingest(content, name="nul.csv")
    assert (job["status"], job["rows"], job["valid"], job["invalid"], job["inserted"]) == ("done", 4, 2, 2, 2)
    assert [(e["line"], e["column"], e["value"], e["reason"], e["code"]) for e in job["errors"]] == [
        (3, "title", "Nul Dam\\x00aged", reading.NUL_REASON, "nul_byte"),
        (1004, "rating", "x\\x00y", reading.NUL_REASON, "nul_byte"),
    ]
    assert _movie(conn, "Nul Good One", 2001) is not None and _movie(conn, "Nul Good Two", 2004) is not None
    assert _movie(conn, "Nul Damaged", 2002) is None and _movie(conn, "Nul Late", 2003) is None
    text = io.StringIO()
    services.write_report(conn, job_id=job["id"], out=text)
    assert text.getvalue().splitlines()[1] == f"3,title,Nul Dam\\x00aged,{reading.NUL_REASON},nul_byte"


def test_the_report_lists_every_reported_row_as_csv(conn: Any, ingest: Ingest) -> None:
    job = ingest('title,year,poster\n"",2001,\nOk Film Report,PG,ftp://x\n', name="report.csv")
    text = io.StringIO()
    assert services.write_report(conn, job_id=job["id"], out=text) == 3
    assert text.getvalue().splitlines() == [
        "line,column,value,reason,code",
        "2,title,,a title is required,required",
        "3,year,PG,a year is a number such as 1994,not_a_number",
        "3,poster,ftp://x,a poster is an http(s) URL such as https://example.com/poster.jpg,not_a_url",
    ]


def test_the_reports_cells_are_never_read_as_formulas(conn: Any, ingest: Ingest) -> None:
    """The report quotes the file's values and column names; opened in a spreadsheet, `=HYPERLINK(…)` or `@SUM(…)`
    would run as formulas. They get a leading apostrophe, as the admin exports' cells do (found by the sixth
    tester)."""
    job = ingest(
        "title,\"=cmd|' /C calc'!A0\",year,runtime\nFormula Film,x,=1+2,@SUM(1)\nMinus Film,,-3,+5\n", name="f.csv"
    )
    text = io.StringIO()
    services.write_report(conn, job_id=job["id"], out=text)
    rows = list(csv.reader(io.StringIO(text.getvalue())))
    cells = [cell for row in rows[1:] for cell in row[1:3]]
    assert "'=1+2" in cells and "'@SUM(1)" in cells and "'-3" in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]
    assert [job_error["value"] for job_error in job["errors"]][:1] == ["=1+2"]  # the job's own rows stay as read


def test_a_column_the_tmdb_sync_filled_becomes_the_files_once_the_file_gives_it(conn: Any, ingest: Ingest) -> None:
    conn.execute(
        """INSERT INTO movies (title, year, source, tmdb_id, poster_url, runtime, tmdb_filled)
           VALUES ('Filled By Tmdb', 1999, 'csv', 990031, 'https://image.tmdb.org/t/p/w500/a.jpg', 120,
                   '{poster_url,runtime}')"""
    )
    job = ingest("title,year,poster_url\nFilled By Tmdb,1999,https://example.com/ours.jpg\n")
    assert job["updated"] == 1
    row = conn.execute("SELECT poster_url, runtime, tmdb_filled FROM movies WHERE title = 'Filled By Tmdb'").fetchone()
    # The sync keeps refreshing runtime; the poster is the file's now, which the sync no longer overwrites.
    assert (row["poster_url"], row["runtime"], row["tmdb_filled"]) == ("https://example.com/ours.jpg", 120, ["runtime"])


def test_a_tmdb_row_a_file_changes_keeps_tmdbs_other_columns_in_tmdb_filled(conn: Any, ingest: Ingest) -> None:
    # TMDB's own row (the sync mirrors it whole); a file gives only its plot. The row becomes the file's (csv), but
    # its other columns are still TMDB's: listed in tmdb_filled, so the sync keeps them current and purge-tmdb
    # empties them (as an admin's edit of such a row does), rather than frozen as if the file had given them.
    conn.execute(
        """INSERT INTO movies (title, year, source, tmdb_id, runtime, rating, director, tmdb_filled)
           VALUES ('Tmdb Own Row', 2024, 'tmdb', 990032, 111, 5.5, 'Ann Lee', '{}')"""
    )
    job = ingest("title,year,plot\nTmdb Own Row,2024,The file's plot\n")
    assert job["updated"] == 1
    row = conn.execute("SELECT source, plot, runtime, tmdb_filled FROM movies WHERE title = 'Tmdb Own Row'").fetchone()
    assert (row["source"], row["plot"], row["runtime"]) == ("csv", "The file's plot", 111)
    assert "plot" not in row["tmdb_filled"]
    assert {"runtime", "rating", "director", "genre", "poster_url"} <= set(row["tmdb_filled"])


@pytest.mark.slow
def test_a_streaming_catalogues_certifications_and_seasons_are_not_read_as_scores_and_minutes(
    conn: Any, ingest: Ingest
) -> None:
    # Netflix's export (and Amazon's, Hulu's, Disney+'s): `rating` is the certification, `duration` a show's seasons.
    job = ingest(
        "show_id,type,title,director,cast,country,date_added,release_year,rating,duration,listed_in,description\n"
        's1,Movie,Dick Johnson Is Dead,Kirsten Johnson,,United States,"September 25, 2021",2020,PG-13,90 min,'
        "Documentaries,A filmmaker stages her father's death.\n"
        's2,TV Show,Blood & Water,,"Ama Qamata, Khosi Ngema",South Africa,"September 24, 2021",2021,TV-MA,2 Seasons,'
        '"International TV Shows, TV Dramas",A Cape Town teen sets out to prove a swimmer is her sister.\n'
        's3,Movie,Sankofa,Haile Gerima,,"United States, Ghana",,1993,tv-ma,125 min,Dramas,'
        "An American model slips back.\n"
    )
    assert (job["status"], job["valid"], job["invalid"]) == ("done", 3, 0), job["errors"]
    rows = {
        r["title"]: (r["media_type"], r["runtime"], r["rating"])
        for r in conn.execute(
            "SELECT title, media_type, runtime, rating FROM movies WHERE title IN "
            "('Dick Johnson Is Dead', 'Blood & Water', 'Sankofa')"
        )
    }
    assert rows == {
        "Dick Johnson Is Dead": ("movie", 90, None),
        "Blood & Water": ("tv", None, None),
        "Sankofa": ("movie", 125, None),
    }
    # A score in the same column is still a score, and a rating that is neither is still refused.
    scored = ingest("title,year,rating\nScored Film,2011,7.5\nOdd Film,2012,great\n")
    assert (scored["valid"], scored["invalid"]) == (1, 1)
    assert [(e["column"], e["value"]) for e in scored["errors"]] == [("rating", "great")]


@pytest.mark.slow
def test_a_rating_nobody_voted_for_is_no_rating(conn: Any, ingest: Ingest) -> None:
    # TMDB's exports (Kaggle's tmdb_5000_movies.csv) write vote_average 0 for titles with no votes.
    job = ingest(
        "title,release_date,vote_average,vote_count\n"
        "Unvoted Picture,2016-05-01,0.0,0\n"
        "Voted Picture,2016-05-02,6.5,1234\n"
        'Zero Rated Picture,2016-05-03,0.0,"1,024"\n'
    )
    assert (job["valid"], job["invalid"], job["unknown_columns"]) == (3, 0, [])
    ratings = {
        r["title"]: r["rating"]
        for r in conn.execute("SELECT title, rating::text AS rating FROM movies WHERE title LIKE '%%ed Picture'")
    }
    assert ratings == {"Unvoted Picture": None, "Voted Picture": "6.5", "Zero Rated Picture": "0.0"}


@pytest.mark.parametrize(
    ("rows", "expected", "said"),
    [
        # A European file: 23/04 shows day first, so 03/04 is the 3rd of April.
        ("Day First One,03/04/2001\nDay First Two,23/04/2001\n", {"Day First One": "2001-04-03"}, "day first"),
        # An American one: 04/23 shows month first, so 03/04 is the 4th of March.
        ("Month First One,03/04/2001\nMonth First Two,04/23/2001\n", {"Month First One": "2001-03-04"}, "month first"),
    ],
)
def test_ambiguous_dates_are_read_in_the_order_the_files_other_dates_show(
    conn: Any, ingest: Ingest, rows: str, expected: dict[str, str], said: str
) -> None:
    job = ingest("title,release_date\n" + rows)
    assert (job["valid"], job["invalid"]) == (2, 0), job["errors"]
    assert any(said in w for w in job["warnings"]), job["warnings"]
    # The warning names the file's own date that shows the order (it named 03/04/2001 as if the file held it, also in
    # a file with no such date).
    evidence = rows.splitlines()[1].split(",")[1]
    assert job["warnings"] == [
        f"Dates in release_date whose day and month could be either way round (03/04/2001) were read {said}, as the "
        f"file's {evidence} shows"
    ]
    for title, date in expected.items():
        found = conn.execute("SELECT release_date::text AS d FROM movies WHERE title = %s", (title,)).fetchone()
        assert found["d"] == date


@pytest.mark.slow
def test_excel_two_digit_years_are_read_in_the_nearest_plausible_century(conn: Any, ingest: Ingest) -> None:
    """Excel's d-mmm-yy and m/d/yy (its US short date) were `not_a_date`; the file's order rule applies to them too."""
    job = ingest(
        "title,release_date\nShort Year One,23-Sep-94\nShort Year Two,9/23/94\nShort Year Three,03/04/01\n"
        "Short Year Four,1-Jan-00\n"
    )
    assert (job["valid"], job["invalid"]) == (4, 0), job["errors"]
    dates = {
        r["title"]: r["d"]
        for r in conn.execute("SELECT title, release_date::text AS d FROM movies WHERE title LIKE 'Short Year %%'")
    }
    # 9/23 shows month first, so 03/04/01 is the 4th of March 2001.
    assert dates == {
        "Short Year One": "1994-09-23",
        "Short Year Two": "1994-09-23",
        "Short Year Three": "2001-03-04",
        "Short Year Four": "2000-01-01",
    }


@pytest.mark.slow
def test_excel_dates_with_a_time_are_read_and_show_the_files_order(conn: Any, ingest: Ingest) -> None:
    """Excel's cells holding a time as well (`23/04/2001 00:00`) were not_a_date, and gave no evidence of the order."""
    job = ingest("title,release_date\nTimed One,03/04/2001 10:00\nTimed Two,23/04/2001 00:00\n")
    assert (job["valid"], job["invalid"], job["errors"]) == (2, 0, [])
    assert job["warnings"] == [
        "Dates in release_date whose day and month could be either way round (03/04/2001) were read day first, as "
        "the file's 23/04/2001 00:00 shows"
    ]
    dates = {
        r["title"]: r["d"]
        for r in conn.execute("SELECT title, release_date::text AS d FROM movies WHERE title LIKE 'Timed %%'")
    }
    assert dates == {"Timed One": "2001-04-03", "Timed Two": "2001-04-23"}


@pytest.mark.slow
def test_ambiguous_dates_with_no_or_mixed_evidence_are_still_refused(conn: Any, ingest: Ingest) -> None:
    alone = ingest("title,release_date\nLone Ambiguous,03/04/2001\n")
    assert [(e["line"], e["code"]) for e in alone["errors"]] == [(2, "ambiguous_date")]
    mixed = ingest("title,release_date\nMixed A,03/04/2001\nMixed B,23/04/2001\nMixed C,04/23/2001\n")
    assert [(e["line"], e["code"]) for e in mixed["errors"]] == [(2, "ambiguous_date")]
    assert mixed["valid"] == 2


# ---------------------------------------------------------------------------------------------------- export shapes


def _stored(conn: Any) -> dict[str, dict[str, Any]]:
    """Every movie of the catalogue by title, each field as stored (the tests below start from an empty one)."""
    rows = conn.execute(
        """SELECT title, year, genre, director, actors, plot, poster_url, media_type,
                  release_date::text AS release_date, runtime, rating::text AS rating, popularity, tmdb_id, imdb_id,
                  source
           FROM movies ORDER BY title"""
    ).fetchall()
    return {row.pop("title"): row for row in rows}


def _movie_fields(**given: Any) -> dict[str, Any]:
    """A stored movie's fields: those given, the others empty (a file's row with nothing else)."""
    fields: dict[str, Any] = {
        "year": None,
        "genre": [],
        "director": None,
        "actors": [],
        "plot": None,
        "poster_url": None,
        "media_type": "movie",
        "release_date": None,
        "runtime": None,
        "rating": None,
        "popularity": 0.0,  # the catalogue's popularity without one
        "tmdb_id": None,
        "imdb_id": None,
        "source": "csv",
    }
    assert set(given) <= set(fields)
    return {**fields, **given}


@pytest.mark.slow
def test_a_title_that_is_only_a_null_marker_is_a_bad_row_like_an_empty_title(conn: Any, ingest: Ingest) -> None:
    # Spreadsheets and database dumps write these for "no value"; they were loaded as films titled "N/A", "NULL"...
    conn.execute("DELETE FROM movies")
    markers = ["N/A", "null", "NULL", "\\N", "None", "NaN", "#N/A", "-", "n/a", ""]
    content = "title,year,genre,director\n" + "".join(f"{m},{1990 + i},Drama,N/A\n" for i, m in enumerate(markers))
    content += "Null Island,2001,Drama,N/A\n?,2011,Drama,Hanung Bramantyo\n"
    job = ingest(content)
    assert (job["status"], job["rows"], job["valid"], job["invalid"]) == ("done", 12, 2, 10)
    assert _errors(job) == [(2 + i, "title", m or None, "required") for i, m in enumerate(markers)]
    assert [e["reason"] for e in job["errors"]] == [
        f"a title is required ({m} is written for no value)" for m in markers[:-1]
    ] + ["a title is required"]
    # a null marker in another column is no value, as before; a title holding one among other words is a title,
    # and `?` is a real film's whole title
    assert _stored(conn) == {
        "?": _movie_fields(year=2011, genre=["Drama"], director="Hanung Bramantyo"),
        "Null Island": _movie_fields(year=2001, genre=["Drama"]),
    }


# MovieLens's movies.csv, lines as they are.
MOVIELENS = (
    "movieId,title,genres\n"
    '29,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Adventure|Drama|Fantasy|Mystery|Sci-Fi\n'
    "47,Seven (a.k.a. Se7en) (1995),Mystery|Thriller\n"
    "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
    '2571,"Matrix, The (1999)",Action|Sci-Fi|Thriller\n'
    "6,Heat (1995),Action|Crime|Thriller\n"
    "5,Father of the Bride Part II (1995),Comedy\n"
)
MOVIELENS_READ = {
    "The City of Lost Children": _movie_fields(year=1995, genre=["Adventure", "Drama", "Fantasy", "Mystery", "Sci-Fi"]),
    "Seven": _movie_fields(year=1995, genre=["Mystery", "Thriller"]),
    "Toy Story": _movie_fields(year=1995, genre=["Adventure", "Animation", "Children", "Comedy", "Fantasy"]),
    "The Matrix": _movie_fields(year=1999, genre=["Action", "Sci-Fi", "Thriller"]),
    "Heat": _movie_fields(year=1995, genre=["Action", "Crime", "Thriller"]),
    "Father of the Bride Part II": _movie_fields(year=1995, genre=["Comedy"]),
}


@pytest.mark.slow
def test_movielens_titles_lose_their_year_and_alternate_titles_and_get_their_article_back(
    conn: Any, ingest: Ingest
) -> None:
    conn.execute("DELETE FROM movies")
    job = ingest(MOVIELENS, name="movies.csv")
    assert (job["status"], job["valid"], job["invalid"], job["inserted"]) == ("done", 6, 0, 6)
    assert _stored(conn) == MOVIELENS_READ


@pytest.mark.slow
def test_a_title_carrying_its_year_or_movielens_form_beside_a_year_column_is_read_the_same(
    conn: Any, ingest: Ingest
) -> None:
    conn.execute("DELETE FROM movies")
    # MovieLens's titles joined with a year column (as a merge with its links or another source writes them), and
    # real titles holding brackets, which stay whole.
    content = (
        "movieId,title,genres,year\n"
        '29,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Adventure|Drama|Fantasy|Mystery|Sci-Fi,'
        "1995\n"
        "47,Seven (a.k.a. Se7en) (1995),Mystery|Thriller,1995\n"
        "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy,1995\n"
        '2571,"Matrix, The (1999)",Action|Sci-Fi|Thriller,1999\n'
        "6,Heat (1995),Action|Crime|Thriller,1995\n"
        "5,Father of the Bride Part II (1995),Comedy,1995\n"
        '858,"Godfather, The",Crime|Drama,1972\n'
        "69757,(500) Days of Summer,Comedy|Drama|Romance,2009\n"
        "112290,Birdman or (The Unexpected Virtue of Ignorance),Comedy|Drama,2014\n"
        "112291,Birdman or (The Unexpected Virtue of Ignorance) (2014),Comedy|Drama,2014\n"
        "90000,Heat (1995),Action,2005\n"
    )
    job = ingest(content, name="movies_with_years.csv")
    assert (job["status"], job["rows"], job["valid"], job["invalid"]) == ("done", 11, 10, 1)
    assert job["duplicates"] == 1  # the two Birdman rows are one film
    assert _errors(job) == [
        (10, "title", "Birdman or (The Unexpected Virtue of Ignorance)", "duplicate_row"),
        (12, "title", "Heat (1995)", "year_mismatch"),
    ]
    assert job["errors"][1]["reason"] == (
        "the title ends in the year 1995, 10 years from the year 2005; they may differ by at most 1"
    )
    assert _stored(conn) == {
        **MOVIELENS_READ,
        "The Godfather": _movie_fields(year=1972, genre=["Crime", "Drama"]),
        "(500) Days of Summer": _movie_fields(year=2009, genre=["Comedy", "Drama", "Romance"]),
        "Birdman or (The Unexpected Virtue of Ignorance)": _movie_fields(year=2014, genre=["Comedy", "Drama"]),
    }


LETTERBOXD_RATINGS = (
    "Date,Name,Year,Letterboxd URI,Rating\n"
    "2023-01-14,Heat,1995,https://boxd.it/2b0k,4.5\n"
    "2023-02-02,Parasite,2019,https://boxd.it/hTha,5\n"
    "2023-03-11,Cats,2019,https://boxd.it/kmGq,0.5\n"
)
LETTERBOXD_DIARY = (
    "Date,Name,Year,Letterboxd URI,Rating,Rewatch,Tags,Watched Date\n"
    "2023-04-02,Paddington 2,2017,https://boxd.it/bd9e/,3.5,,comfort,2023-04-01\n"
    "2023-04-09,Tár,2022,https://boxd.it/4alk/,,Yes,,2023-04-08\n"
)


@pytest.mark.slow
def test_letterboxd_ratings_are_stars_out_of_five(conn: Any, ingest: Ingest) -> None:
    conn.execute("DELETE FROM movies")
    ratings = ingest(LETTERBOXD_RATINGS, name="ratings.csv")
    diary = ingest(LETTERBOXD_DIARY, name="diary.csv")
    for job in (ratings, diary):
        assert (job["status"], job["invalid"], job["errors"]) == ("done", 0, [])
    assert ratings["unknown_columns"] == ["Date", "Letterboxd URI"]
    assert diary["unknown_columns"] == ["Date", "Letterboxd URI", "Rewatch", "Tags", "Watched Date"]
    assert _stored(conn) == {
        "Heat": _movie_fields(year=1995, rating="9.0"),
        "Parasite": _movie_fields(year=2019, rating="10.0"),
        "Cats": _movie_fields(year=2019, rating="1.0"),
        "Paddington 2": _movie_fields(year=2017, rating="7.0"),
        "Tár": _movie_fields(year=2022),
    }
    # more than five stars is no Letterboxd rating
    bad = ingest(LETTERBOXD_RATINGS.replace(",0.5\n", ",6\n"), name="ratings-edited.csv")
    assert _errors(bad) == [(4, "Rating", "6/5", "out_of_range")]
    assert bad["errors"][0]["reason"] == "a rating out of 5 is between 0 and 5"


@pytest.mark.slow
def test_a_rating_column_of_another_file_is_not_guessed_to_be_stars(conn: Any, ingest: Ingest) -> None:
    conn.execute("DELETE FROM movies")
    job = ingest("Name,Year,Rating\nHeat,1995,4.5\n")
    assert job["errors"] == []
    assert _stored(conn) == {"Heat": _movie_fields(year=1995, rating="4.5")}


def _tmdb_poster(path: str) -> str:
    """A poster URL as the TMDB sync builds it from TMDB's configuration."""
    from marquee_local.fake_tmdb import CONFIGURATION
    from movie_sync.mapping import image_configuration

    url = image_configuration(CONFIGURATION).poster_url(path)
    assert url is not None
    return url


# Kaggle's tmdb_5000_movies.csv: its header and a row as they are (the long JSON fields cut short).
TMDB_5000 = (
    "budget,genres,homepage,id,keywords,original_language,original_title,overview,popularity,production_companies,"
    "production_countries,release_date,revenue,runtime,spoken_languages,status,tagline,title,vote_average,vote_count\n"
    '237000000,"[{""id"": 28, ""name"": ""Action""}, {""id"": 12, ""name"": ""Adventure""}, {""id"": 14, ""name"": '
    '""Fantasy""}, {""id"": 878, ""name"": ""Science Fiction""}]",http://www.avatarmovie.com/,19995,"[{""id"": 1463, '
    '""name"": ""culture clash""}]",en,Avatar,"In the 22nd century, a paraplegic Marine is dispatched to the moon '
    'Pandora on a unique mission.",150.437577,"[{""name"": ""Ingenious Film Partners"", ""id"": 289}]",'
    '"[{""iso_3166_1"": ""US"", ""name"": ""United States of America""}]",2009-12-10,2787965087,162,'
    '"[{""iso_639_1"": ""en"", ""name"": ""English""}]",Released,Enter the World of Pandora.,Avatar,7.2,11800\n'
)
# The newer "TMDB movies dataset" (TMDB's API names; genres as text, relative poster paths).
TMDB_DATASET = (
    "id,title,vote_average,vote_count,status,release_date,revenue,runtime,adult,backdrop_path,budget,homepage,imdb_id,"
    "original_language,original_title,overview,popularity,poster_path,tagline,genres,production_companies,"
    "production_countries,spoken_languages,keywords\n"
    "27205,Inception,8.364,34495,Released,2010-07-15,825532764,148,False,/8ZTVqvKDQ8emSGUEMjsS4yHAwrp.jpg,160000000,"
    "https://www.warnerbros.com/movies/inception,tt1375666,en,Inception,"
    '"Cobb, a skilled thief, is offered a chance to regain his old life.",83.952,/oYuLEt3zVCKq57qu2F8dT7NIa6f.jpg,'
    'Your mind is the scene of the crime.,"Action, Science Fiction, Adventure","Legendary Pictures, Syncopy",'
    '"United Kingdom, United States of America","English, French","rescue, mission, dream"\n'
)


@pytest.mark.slow
def test_tmdbs_own_exports_give_the_tmdb_id_rating_popularity_genres_and_poster(conn: Any, ingest: Ingest) -> None:
    conn.execute("DELETE FROM movies")
    old = ingest(TMDB_5000, name="tmdb_5000_movies.csv")
    new = ingest(TMDB_DATASET, name="TMDB_movie_dataset_v11.csv")
    for job in (old, new):
        assert (job["status"], job["valid"], job["invalid"], job["inserted"], job["errors"]) == ("done", 1, 0, 1, [])
        assert "id" not in job["unknown_columns"]
    stored = _stored(conn)
    assert stored == {
        "Avatar": {
            **_movie_fields(
                popularity=pytest.approx(150.437577, rel=1e-6),
                year=2009,
                genre=["Action", "Adventure", "Fantasy", "Science Fiction"],
                plot="In the 22nd century, a paraplegic Marine is dispatched to the moon Pandora on a unique mission.",
                release_date="2009-12-10",
                runtime=162,
                rating="7.2",
                tmdb_id=19995,
            ),
        },
        "Inception": {
            **_movie_fields(
                popularity=pytest.approx(83.952, rel=1e-6),
                year=2010,
                genre=["Action", "Science Fiction", "Adventure"],
                plot="Cobb, a skilled thief, is offered a chance to regain his old life.",
                poster_url=_tmdb_poster("/oYuLEt3zVCKq57qu2F8dT7NIa6f.jpg"),
                release_date="2010-07-15",
                runtime=148,
                rating="8.4",
                tmdb_id=27205,
                imdb_id="tt1375666",
            ),
        },
    }


@pytest.mark.slow
def test_a_tmdb_export_row_is_the_movie_the_tmdb_sync_stored(conn: Any, ingest: Ingest) -> None:
    conn.execute("DELETE FROM movies")
    conn.execute(
        "INSERT INTO movies (title, year, tmdb_id, source) VALUES ('Inception (TMDB spelling)', 2010, 27205, 'tmdb')"
    )
    job = ingest(TMDB_DATASET, name="TMDB_movie_dataset_v11.csv")
    assert (job["inserted"], job["updated"], job["errors"]) == (0, 1, [])
    [row] = conn.execute("SELECT title, tmdb_id FROM movies WHERE tmdb_id = 27205").fetchall()
    assert row == {"title": "Inception", "tmdb_id": 27205}


@pytest.mark.slow
def test_the_movies_dataset_python_written_genres_give_their_names(conn: Any, ingest: Ingest) -> None:
    # The Movies Dataset (movies_metadata.csv): TMDB's data written by pandas, lists in Python's own notation.
    conn.execute("DELETE FROM movies")
    job = ingest(
        "adult,belongs_to_collection,budget,genres,homepage,id,imdb_id,original_language,original_title,overview,"
        "popularity,poster_path,production_companies,production_countries,release_date,revenue,runtime,"
        "spoken_languages,status,tagline,title,video,vote_average,vote_count\n"
        "False,\"{'id': 10194, 'name': 'Toy Story Collection'}\",30000000,\"[{'id': 16, 'name': 'Animation'}, "
        "{'id': 35, 'name': 'Comedy'}, {'id': 10751, 'name': 'Family'}]\",http://toystory.disney.com/toy-story,862,"
        'tt0114709,en,Toy Story,"Led by Woody, Andy\'s toys live happily in his room.",21.946943,'
        "/rhIRbceoE9lR4veEXuwCC2wARtG.jpg,\"[{'name': 'Pixar Animation Studios', 'id': 3}]\","
        "\"[{'iso_3166_1': 'US', 'name': 'United States of America'}]\",1995-10-30,373554033,81.0,"
        "\"[{'iso_639_1': 'en', 'name': 'English'}]\",Released,,Toy Story,False,7.7,5415\n",
        name="movies_metadata.csv",
    )
    assert (job["valid"], job["errors"]) == (1, [])
    stored = _stored(conn)
    assert stored == {
        "Toy Story": _movie_fields(
            popularity=pytest.approx(21.946943, rel=1e-6),
            year=1995,
            genre=["Animation", "Comedy", "Family"],
            plot="Led by Woody, Andy's toys live happily in his room.",
            poster_url=_tmdb_poster("/rhIRbceoE9lR4veEXuwCC2wARtG.jpg"),
            release_date="1995-10-30",
            runtime=81,
            rating="7.7",
            tmdb_id=862,
            imdb_id="tt0114709",
        )
    }


@pytest.mark.slow
def test_tmdbs_export_of_series_gives_tv_ids(conn: Any, ingest: Ingest) -> None:
    # TMDB's ids of series are numbered apart from its movies': a series' id stored on a movie would match the
    # wrong film in the next sync.
    conn.execute("DELETE FROM movies")
    job = ingest(
        "id,name,number_of_seasons,number_of_episodes,original_language,vote_count,vote_average,overview,adult,"
        "backdrop_path,first_air_date,poster_path,genres,original_name,popularity\n"
        "1399,Game of Thrones,8,73,en,21857,8.442,Seven noble families fight for control of Westeros.,False,"
        '/2OMB0ynKlyIenMJWI2Dy9IWT4c.jpg,2011-04-17,/1XS1oqL89opfnbLl8WnZY1O1uJx.jpg,"Sci-Fi & Fantasy, Drama",'
        "Game of Thrones,1083.917\n",
        name="TMDB_tv_dataset_v3.csv",
    )
    assert (job["valid"], job["errors"]) == (1, [])
    stored = _stored(conn)
    assert stored == {
        "Game of Thrones": _movie_fields(
            popularity=pytest.approx(1083.917, rel=1e-6),
            year=2011,
            genre=["Sci-Fi & Fantasy", "Drama"],
            plot="Seven noble families fight for control of Westeros.",
            poster_url=_tmdb_poster("/1XS1oqL89opfnbLl8WnZY1O1uJx.jpg"),
            media_type="tv",
            release_date="2011-04-17",
            rating="8.4",
            tmdb_id=1399,
        )
    }


@pytest.mark.slow
def test_a_bare_id_column_of_another_file_is_not_a_tmdb_id(conn: Any, ingest: Ingest) -> None:
    job = ingest("id,title,year,rating\n7,Some Film,2001,7.5\n")
    assert (job["valid"], job["unknown_columns"]) == (1, ["id"])
    movielens = ingest(MOVIELENS.replace("movieId", "id"), name="movielens-ids.csv")
    assert (movielens["valid"], movielens["unknown_columns"]) == (6, ["id"])
    for title, year in [("Some Film", 2001), ("Seven", 1995), ("Toy Story", 1995), ("The Matrix", 1999)]:
        movie = _movie(conn, title, year)
        assert movie is not None and movie["tmdb_id"] is None


# ------------------------------------------------------------------------------- rows above the header (a preamble)


def test_a_sheet_title_above_the_header_is_passed_over_and_said(conn: Any, ingest: Ingest) -> None:
    """A sheet exported with its title row (`My favourite films,,`) failed as a whole: missing_title_column."""
    content = (
        "My favourite films,,\r\ntitle,year,director\r\nPreamble Heat,1995,Michael Mann\r\nPreamble Bad,nineteen,\r\n"
    )
    job = ingest(content)
    assert (job["status"], job["rows"], job["inserted"], job["invalid"]) == ("done", 2, 1, 1)
    assert _errors(job) == [(4, "year", "nineteen", "not_a_number")]
    assert job["warnings"] == [
        "The header row is line 2; line 1 above it was not read as movies (from 'My favourite films')"
    ]
    assert _movie(conn, "Preamble Heat", 1995) is not None


def test_several_rows_and_a_blank_line_above_the_header_are_passed_over(conn: Any, ingest: Ingest) -> None:
    content = "Top films;;\nExported 2026-12-01;by;Jane\n\ntitle;year\nPreamble Ran;1985\n"
    job = ingest(content)
    assert (job["status"], job["delimiter"], job["inserted"]) == ("done", "semicolon", 1)
    assert job["warnings"] == [
        "The header row is line 4; lines 1 to 3 above it were not read as movies (from 'Top films')"
    ]
    assert _movie(conn, "Preamble Ran", 1985) is not None


def test_a_letterboxd_list_export_loads_its_films_not_its_own_description(conn: Any, ingest: Ingest) -> None:
    """The list's own header (`Date,Name,Tags,URL,Description`) names a title column: it was taken for the films'
    header, the list became a film, and every film's row failed on `Year`. Its Description is the list maker's note."""
    content = (
        "Letterboxd list export v7\r\n"
        "Date,Name,Tags,URL,Description\r\n"
        "2026-11-30,Heat and friends,,https://letterboxd.com/jane/list/heat-and-friends/,Crime on both coasts\r\n"
        "\r\n"
        "Position,Name,Year,URL,Description\r\n"
        "1,Boxd Heat,1995,https://boxd.it/2bg8,The best diner scene\r\n"
        "2,Boxd Collateral,2004,https://boxd.it/1WTy,\r\n"
    )
    job = ingest(content, name="heat-and-friends.csv")
    assert (job["status"], job["rows"], job["inserted"], job["invalid"]) == ("done", 2, 2, 0)
    assert "Description" in job["unknown_columns"]
    assert job["warnings"] == [
        "The header row is line 5; lines 1 to 4 above it were not read as movies (from 'Letterboxd list export v7')"
    ]
    heat = _movie(conn, "Boxd Heat", 1995)
    assert heat is not None and heat["plot"] is None
    assert _movie(conn, "Boxd Collateral", 2004) is not None
    assert _movie(conn, "Heat and friends", None) is None


@pytest.mark.slow
def test_a_header_further_down_than_ten_rows_is_not_looked_for(conn: Any, ingest: Ingest) -> None:
    before = _catalogue_digest(conn)
    content = "".join(f"note {n},\n" for n in range(11)) + "title,year\nToo Far Down,2001\n"
    job = ingest(content)
    assert (job["status"], job["error"]["code"]) == ("failed", "missing_title_column")
    assert "Nor does any of the 10 rows below it" in job["error"]["detail"]
    assert _catalogue_digest(conn) == before
    near = ingest("".join(f"note {n},\n" for n in range(10)) + "title,year\nNear Enough Down,2001\n")
    assert (near["status"], near["inserted"]) == ("done", 1)


@pytest.mark.slow
def test_years_and_dates_written_loosely_are_read_as_a_person_reads_them(conn: Any, ingest: Ingest) -> None:
    """A date column of years alone, a month and year, approximate and abbreviated years: each row was refused."""
    content = (
        "title,year,release_date\n"
        "Loose Date Year,,1994\n"
        "Loose Month,,September 1994\n"
        "Loose Circa,c. 1994,\n"
        "Loose Query,1994?,\n"
        "Loose Apostrophe,'94,\n"
        "Loose Far,2001,1994\n"
    )
    job = ingest(content)
    assert (job["status"], job["inserted"], job["invalid"]) == ("done", 5, 1)
    assert _errors(job) == [(7, "release_date", "1994", "year_mismatch")]
    year_only = _movie(conn, "Loose Date Year", 1994)
    assert year_only is not None and year_only["release_date"] is None
    month = _movie(conn, "Loose Month", 1994)
    assert month is not None and str(month["release_date"]) == "1994-09-01"
    for title in ("Loose Circa", "Loose Query", "Loose Apostrophe"):
        assert _movie(conn, title, 1994) is not None


@pytest.mark.slow
def test_utf8_rows_in_a_windows_1252_file_load_unharmed_and_are_said(conn: Any, ingest: Ingest) -> None:
    content = (
        b"title,year,director\r\n"
        + "Western Caf\u00e9 Cr\u00e8me,1994,Andr\u00e9 T\u00e9chin\u00e9\r\n".encode("cp1252")
        + "Western \u00c9t\u00e9 \u00e0 P\u00e2ques,1995,Fran\u00e7ois Ozon\r\n".encode("cp1252")
        + "Western Jos\u00e9 \u0141\u00f3d\u017a,2001,Jos\u00e9 Garc\u00eda\r\n".encode()
    )
    job = ingest(content)
    assert (job["status"], job["encoding"], job["inserted"]) == ("done", "Windows-1252", 3)
    assert job["warnings"] == [
        "6 letters or marks of this Windows-1252 file were written in UTF-8 and were read as UTF-8 (a file saved "
        "from two encodings); check accented letters in the rows they are in"
    ]
    assert _movie(conn, "Western Caf\u00e9 Cr\u00e8me", 1994) is not None
    assert _movie(conn, "Western \u00c9t\u00e9 \u00e0 P\u00e2ques", 1995) is not None
    pasted = _movie(conn, "Western Jos\u00e9 \u0141\u00f3d\u017a", 2001)
    assert pasted is not None and pasted["director"] == "Jos\u00e9 Garc\u00eda"
