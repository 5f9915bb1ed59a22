"""Mapping TMDB v3 documents onto movie columns (no network, no database)."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from movie_common.movie_rules import check_movie, this_year
from movie_sync.mapping import (
    ImageConfiguration,
    MalformedRecordError,
    genre_names,
    image_configuration,
    list_entries,
    map_details,
)

IMAGES = ImageConfiguration(secure_base_url="https://image.tmdb.org/t/p/", poster_size="w500")
MOVIE: dict[str, Any] = {
    "adult": False,
    "genres": [{"id": 18, "name": "Drama"}, {"id": 53, "name": "Thriller"}],
    "id": 550,
    "imdb_id": "tt0137523",
    "original_language": "en",
    "overview": "A ticking-time-bomb insomniac and a slippery soap salesman channel primal male aggression.",
    "popularity": 61.416,
    "poster_path": "/pB8BM7pdSp6B6Ih7QZ4DrQ3PmJK.jpg",
    "release_date": "1999-10-15",
    "runtime": 139,
    "title": "Fight Club",
    "vote_average": 8.433,
    "vote_count": 26280,
    "credits": {
        "cast": [
            {"id": 287, "name": "Brad Pitt", "order": 1, "character": "Tyler Durden"},
            {"id": 819, "name": "Edward Norton", "order": 0, "character": "Narrator"},
            {"id": 1283, "name": "Helena Bonham Carter", "order": 2, "character": "Marla Singer"},
        ],
        "crew": [
            {"id": 7467, "name": "David Fincher", "job": "Director", "department": "Directing"},
            {"id": 7474, "name": "Ross Grayson Bell", "job": "Producer", "department": "Production"},
        ],
    },
    "external_ids": {"imdb_id": "tt0137523", "wikidata_id": "Q190050"},
}
TV: dict[str, Any] = {
    "adult": False,
    "created_by": [{"id": 66633, "name": "Vince Gilligan"}],
    "episode_run_time": [],
    "first_air_date": "2008-01-20",
    "genres": [{"id": 18, "name": "Drama"}],
    "id": 1396,
    "name": "Breaking Bad",
    "original_language": "en",
    "overview": "Walter White, a chemistry teacher.",
    "popularity": 288.2,
    "poster_path": "/ggFHVNu6YYI5L9pCfOacjizRGt.jpg",
    "vote_average": 8.9,
    "vote_count": 13000,
    "credits": {"cast": [{"name": "Bryan Cranston", "order": 0}], "crew": []},
    "external_ids": {"imdb_id": "tt0903747", "tvdb_id": 81189},
}


def movie(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(MOVIE)
    doc.update(changes)
    return doc


def test_movie_details_map_onto_movie_columns() -> None:
    title = map_details("movie", 550, MOVIE, images=IMAGES, genres={}, max_cast=10)
    assert title.title == "Fight Club"
    assert (title.year, title.release_date) == (1999, date(1999, 10, 15))
    assert title.genre == ["Drama", "Thriller"]
    assert title.director == "David Fincher"
    assert title.actors == ["Edward Norton", "Brad Pitt", "Helena Bonham Carter"]  # billing order
    assert title.poster_url == "https://image.tmdb.org/t/p/w500/pB8BM7pdSp6B6Ih7QZ4DrQ3PmJK.jpg"
    assert title.rating == Decimal("8.4")
    assert title.runtime == 139
    assert title.imdb_id == "tt0137523"
    assert title.original_language == "en"
    assert title.adult is False


def test_top_billed_cast_is_cut_to_max_cast() -> None:
    title = map_details("movie", 550, MOVIE, images=IMAGES, genres={}, max_cast=2)
    assert title.actors == ["Edward Norton", "Brad Pitt"]


@pytest.mark.parametrize("name", ["Null", "None", "NaN", "N/A", "-"])
def test_tmdbs_titles_are_kept_as_tmdb_names_them(name: str) -> None:
    # a file's "no value" markers are no title in a file or the admin form; TMDB's own titles are names
    for title in (name, "Godfather, The", "Film (1902)"):
        mapped = map_details("movie", 550, movie(title=title), images=IMAGES, genres={}, max_cast=10)
        assert (mapped.title, mapped.year, mapped.release_date) == (title, 1999, date(1999, 10, 15))


def test_genre_list_names_win_over_the_documents() -> None:
    title = map_details("movie", 550, MOVIE, images=IMAGES, genres={18: "Drama", 53: "Suspense"}, max_cast=10)
    assert title.genre == ["Drama", "Suspense"]


def test_tv_details_use_name_first_air_date_creators_and_external_ids() -> None:
    title = map_details("tv", 1396, TV, images=IMAGES, genres={}, max_cast=10)
    assert title.title == "Breaking Bad"
    assert title.year == 2008
    assert title.director == "Vince Gilligan"
    assert title.actors == ["Bryan Cranston"]
    assert title.imdb_id == "tt0903747"
    assert title.runtime is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"vote_count": 0, "vote_average": 0.0}, {"rating": None}),
        ({"release_date": ""}, {"year": None, "release_date": None}),
        # Dates outside the years of movie_rules (1870 to this year + 20) are dropped, year and date: the admin form
        # refused every later edit of such a movie with a 422 on its year and date (found by the eighth tester).
        ({"release_date": "1850-01-01"}, {"year": None, "release_date": None}),
        ({"release_date": "2090-05-05"}, {"year": None, "release_date": None}),
        ({"release_date": f"{this_year() + 20}-12-31"}, {"year": this_year() + 20}),
        ({"runtime": 0}, {"runtime": None}),
        ({"poster_path": None}, {"poster_url": None}),
        ({"overview": ""}, {"plot": None}),
        ({"imdb_id": "", "external_ids": {"imdb_id": None}}, {"imdb_id": None}),
        ({"imdb_id": "not-an-id", "external_ids": {}}, {"imdb_id": None}),
        ({"adult": True}, {"adult": True}),
        ({"credits": {"cast": [], "crew": []}}, {"director": None, "actors": []}),
    ],
)
def test_missing_or_empty_fields_map_to_empty_values(changes: dict[str, Any], expected: dict[str, Any]) -> None:
    title = map_details("movie", 550, movie(**changes), images=IMAGES, genres={}, max_cast=10)
    for name, value in expected.items():
        assert getattr(title, name) == value


def test_values_the_catalogue_rules_refuse_are_left_out_so_the_admin_form_can_edit_the_movie() -> None:
    """movie_rules (CSV rows, the admin form) refuse a runtime over 6,000 minutes, a plot over 20,000 characters, a
    name over 200 and directors over 1,000 characters together. The sync stored them, and then every admin edit of
    the movie, even of its genres alone, was a 422 on those fields (found by the eighth tester)."""
    doc = movie(runtime=7000, overview="p" * 25_000)
    doc["credits"] = {
        "cast": [{"name": "N" * 300, "order": 0}, {"name": "Brad Pitt", "order": 1}],
        "crew": [{"name": f"Director Number {i:03}", "job": "Director"} for i in range(80)],
    }
    title = map_details("movie", 550, doc, images=IMAGES, genres={}, max_cast=10)
    assert title.runtime is None
    assert title.plot == "p" * 20_000
    assert title.actors == ["Brad Pitt"]
    assert (
        title.director is not None and len(title.director) <= 1000 and title.director.startswith("Director Number 000")
    )
    fields = {f: getattr(title, f) for f in ("title", "year", "genre", "director", "actors", "plot", "poster_url",
                                               "release_date", "runtime", "rating", "imdb_id")}  # fmt: skip
    assert check_movie({k: v for k, v in fields.items() if v is not None and v != []}).errors == []


def test_text_is_read_as_the_catalogues_rules_read_it() -> None:
    """Every text field is cleaned as CSV rows and the admin form clean it (movie_rules.clean_text): a JSON
    `\\u0000` in an overview (which PostgreSQL cannot store) ended the whole run as failed and stayed queued, and
    a bidirectional override or zero-width space in a cast name was stored as sent (found by the fifteenth tester)."""
    doc = movie(overview="Line one\u0000\n\nline\ttwo \u202e", original_language="en\u200b")
    doc["genres"] = [{"id": 999, "name": "Film\u0000 Noir"}]
    doc["credits"] = {
        "cast": [{"name": "\u202eEvil Name", "order": 0}, {"name": "Zero\u200bWidth", "order": 1},
                 {"name": "\u0000", "order": 2}],
        "crew": [{"name": "David\u00adFincher\u0000", "job": "Director"}],
    }  # fmt: skip
    title = map_details("movie", 550, doc, images=IMAGES, genres={}, max_cast=10)
    assert title.plot == "Line one line two"
    assert title.actors == ["Evil Name", "ZeroWidth"]
    assert title.director == "DavidFincher"
    assert title.genre == ["Film Noir"]
    assert title.original_language == "en"
    assert genre_names({"genres": [{"id": 1, "name": "Dr\u0000ama"}, {"id": 2, "name": "\u200b"}]}) == {1: "Drama"}


@pytest.mark.parametrize(
    "changes",
    [
        {"id": 551},
        {"title": None},
        {"title": "   "},
        {"title": 42},
        {"title": "\u200b\u00ad"},  # invisible characters alone: no title (the rule of CSV rows and the form)
        {"title": "X" * 501},  # over MAX_TITLE_CHARS, as the form and CSV ingest refuse
        {"release_date": "15/10/1999"},
        {"genres": "Drama"},
        {"credits": []},
        {"credits": {"cast": [{"order": 0}]}},
        {"popularity": "very"},
        # json.loads reads NaN and Infinity; an infinite popularity was stored, and no JSON can carry it back out
        {"popularity": float("inf")},
        {"popularity": float("nan")},
        {"vote_average": float("nan")},
        {"vote_average": 11.0},
        {"external_ids": "tt0137523"},
    ],
)
def test_malformed_details_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(MalformedRecordError):
        map_details("movie", 550, movie(**changes), images=IMAGES, genres={}, max_cast=10)


def test_image_configuration_prefers_w500_else_the_widest_up_to_500() -> None:
    base = {"images": {"secure_base_url": "https://image.tmdb.org/t/p/", "poster_sizes": ["w92", "w500", "original"]}}
    assert image_configuration(base).poster_size == "w500"
    base["images"]["poster_sizes"] = ["w92", "w342", "w780", "original"]
    assert image_configuration(base).poster_size == "w342"
    with pytest.raises(MalformedRecordError):
        image_configuration({"images": {"base_url": "http://image.tmdb.org/t/p/"}})


def test_genre_list_and_list_pages() -> None:
    assert genre_names({"genres": [{"id": 28, "name": "Action"}, {"id": "x", "name": "Bad"}]}) == {28: "Action"}
    entries, pages = list_entries(
        {"page": 1, "results": [{"id": 5, "adult": False}, {"id": 6, "adult": True}, {"id": "7"}], "total_pages": 3}
    )
    assert [(e.tmdb_id, e.adult) for e in entries] == [(5, False), (6, True)]
    assert pages == 3
    with pytest.raises(MalformedRecordError):
        list_entries({"page": 1, "results": None})
