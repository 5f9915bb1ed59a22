"""Which column is which field: the exports recognised by their headers (TMDB's, Letterboxd's), and what is never
guessed."""

from __future__ import annotations

import pytest

from movie_ingest.columns import TMDB_IMAGE_BASE, map_columns

TMDB_5000 = (
    "budget,genres,homepage,id,keywords,original_language,original_title,overview,popularity,production_companies,"
    "production_countries,release_date,revenue,runtime,spoken_languages,status,tagline,title,vote_average,vote_count"
)


@pytest.mark.parametrize(
    "header",
    [
        TMDB_5000,
        "id,title,vote_average,vote_count,status,release_date,poster_path",  # the TMDB movies dataset, cut short
        "id,title,overview,release_date,popularity,vote_average,vote_count",  # a top-rated list
        "id,title,poster_path",
        "id,name,poster_path,media_type",  # a multi search: each row names its kind
    ],
)
def test_tmdbs_own_exports_read_id_as_the_tmdb_id(header: str) -> None:
    mapping = map_columns(header.split(","))
    assert mapping.names["tmdb_id"] == ("id",) and "id" not in mapping.unknown


@pytest.mark.parametrize(
    "header",
    [
        "id,title,year",  # a database's serial
        "id,title,genres",  # MovieLens's movieId renamed
        "id,title,rating,votes",
        "id,title,vote_average",  # vote_average alone: not enough to say TMDB
        "id,name,title,poster_path,first_air_date,release_date",  # TMDB's, but movies and series mixed, kind unsaid
    ],
)
def test_a_bare_id_of_other_files_is_never_a_tmdb_id(header: str) -> None:
    mapping = map_columns(header.split(","))
    assert "tmdb_id" not in mapping.positions and "id" in mapping.unknown


def test_a_tmdb_id_column_wins_over_id() -> None:
    mapping = map_columns(["id", "tmdb_id", "title", "poster_path"])
    assert mapping.names["tmdb_id"] == ("tmdb_id",) and "id" in mapping.unknown


def test_tmdbs_export_of_series_holds_tv_ids() -> None:
    mapping = map_columns(["id", "name", "original_name", "first_air_date", "vote_average", "poster_path"])
    values = mapping.values(["1399", "Game of Thrones", "Game of Thrones", "2011-04-17", "8.4", "/a.jpg"])
    assert (values["tmdb_id"], values["media_type"]) == ("1399", "tv")


@pytest.mark.parametrize(
    ("cell", "url"),
    [
        ("/qJ2tW6WMUDux911r6m7haRef0WH.jpg", TMDB_IMAGE_BASE + "/qJ2tW6WMUDux911r6m7haRef0WH.jpg"),
        ("qJ2tW6WMUDux911r6m7haRef0WH.jpg", TMDB_IMAGE_BASE + "/qJ2tW6WMUDux911r6m7haRef0WH.jpg"),
        (" /qJ2tW6WMUDux911r6m7haRef0WH.jpg ", TMDB_IMAGE_BASE + "/qJ2tW6WMUDux911r6m7haRef0WH.jpg"),
        ("https://example.org/p.jpg", "https://example.org/p.jpg"),
    ],
)
def test_tmdb_poster_paths_become_tmdbs_image_urls(cell: str, url: str) -> None:
    for header in ("title,poster_path", "title,poster,vote_average,original_title"):
        mapping = map_columns(header.split(","))
        assert mapping.values(["X", cell, "7", "X"][: len(mapping.header)])["poster_url"] == url


def test_letterboxd_ratings_are_stars_and_other_files_ratings_are_not() -> None:
    letterboxd = map_columns(["Date", "Name", "Year", "Letterboxd URI", "Rating"])
    assert letterboxd.names["title"] == ("Name",)
    assert letterboxd.values(["2023-01-14", "Heat", "1995", "https://boxd.it/2b0k", "4.5"])["rating"] == "4.5/5"
    assert letterboxd.values(["2023-01-14", "Heat", "1995", "https://boxd.it/2b0k", ""])["rating"] is None
    other = map_columns(["Name", "Year", "Rating"])
    assert other.values(["Heat", "1995", "4.5"])["rating"] == "4.5"


AMAZON_PRIME = "show_id,type,title,director,cast,country,date_added,release_year,rating,duration,listed_in,description"


@pytest.mark.parametrize(
    "certification", ["13+", "16+", "7+", "ALL", "ALL_AGES", "AGES_16_", "NOT_RATE", "TV-NR", "UR"]
)
def test_amazons_age_ratings_are_certifications_not_scores(certification: str) -> None:
    # Amazon Prime's export (Kaggle's amazon_prime_titles.csv) writes ages; each refused its row as not a number.
    for header in (AMAZON_PRIME, "title,rating"):
        mapping = map_columns(header.split(","))
        cells = dict.fromkeys(mapping.header, "")
        cells.update(title="Pink", rating=certification)
        assert mapping.values(list(cells.values())).get("rating") is None


def test_a_streaming_catalogues_rating_column_is_never_read() -> None:
    # Its `rating` is the certification in every row; Amazon's bare `16` is an age, not 16 out of 10.
    mapping = map_columns(AMAZON_PRIME.split(","))
    assert "rating" not in mapping.positions
    assert "rating" in mapping.unknown
    # A score in such a file under another name is read.
    scored = map_columns([*AMAZON_PRIME.split(","), "imdb_score"])
    assert scored.names["rating"] == ("imdb_score",)
    # Other files' `rating` is a score.
    assert map_columns(["title", "rating"]).names["rating"] == ("rating",)


IMDB_RATINGS = (
    "Const,Your Rating,Date Rated,Title,Original Title,URL,Title Type,IMDb Rating,Runtime (mins),Year,Genres,"
    "Num Votes,Release Date,Directors"
)
IMDB_LIST = (
    "Position,Const,Created,Modified,Description,Title,Original Title,URL,Title Type,IMDb Rating,Runtime (mins),Year,"
    "Genres,Num Votes,Release Date,Directors,Your Rating,Date Rated"
)


@pytest.mark.parametrize("header", [IMDB_RATINGS, IMDB_LIST])
def test_imdbs_own_exports_give_the_imdb_id_and_no_personal_columns(header: str) -> None:
    # IMDb's ratings, watchlist and list exports name the IMDb id `Const`: it was an unknown column, so their rows
    # matched by title and year alone. A list's `Description` is the list maker's note, not the plot.
    mapping = map_columns(header.split(","))
    assert mapping.names["imdb_id"] == ("Const",)
    assert mapping.names["rating"] == ("IMDb Rating",)
    assert "plot" not in mapping.positions
    assert {"Your Rating", "Date Rated", "URL"} <= set(mapping.unknown)
    cells = dict.fromkeys(mapping.header, "")
    cells.update({"Const": "tt0111161", "Title": "The Shawshank Redemption", "Your Rating": "3", "Description": "x"})
    values = mapping.values(list(cells.values()))
    assert (values["imdb_id"], values.get("rating"), values.get("plot")) == ("tt0111161", None, None)
    # `Const` means nothing in other files, and `Description` is a plot there.
    other = map_columns(["Const", "Title", "Description"])
    assert "imdb_id" not in other.positions
    assert other.names["plot"] == ("Description",)


@pytest.mark.parametrize("runtime", ["0", "0.0", " 0 "])
def test_tmdbs_runtime_of_0_is_no_runtime(runtime: str) -> None:
    # TMDB writes 0 for a length it does not know (tmdb_5000_movies.csv, The Movies Dataset's 0.0), as the sync reads
    # it; each such row was refused as out of range.
    mapping = map_columns(TMDB_5000.split(","))
    cells = dict.fromkeys(mapping.header, "")
    cells.update(title="To Be Frank", runtime=runtime)
    assert mapping.values(list(cells.values()))["runtime"] is None
    cells.update(runtime="95.0")
    assert mapping.values(list(cells.values()))["runtime"] == "95.0"
    # In other files a runtime of 0 is still a value the rules refuse.
    assert map_columns(["title", "runtime"]).values(["X", runtime])["runtime"] == runtime


@pytest.mark.parametrize("header", ["Movie Name,Release Year", "Film Name,Year", "Title Name,Year"])
def test_a_title_column_named_movie_name_is_the_title(header: str) -> None:
    """`Movie Name` failed the whole file as missing_title_column, listing `'Movie Name'` among the columns found."""
    mapping = map_columns(header.split(","))
    assert mapping.names["title"] == (header.split(",")[0],) and mapping.unknown == ()
