"""Typo-tolerant title search (movies.search_movies) against the bundled catalogue on a real PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from movie_common.db import movies
from movie_common.db.movies import MovieFilters, MovieRow, Page


def _search(conn: Any, title: str, *, limit: int = 20, offset: int = 0, **filters: Any) -> Page:
    return movies.search_movies(
        conn, filters=MovieFilters(title=title, **filters), sort="relevance", limit=limit, offset=offset
    )


def _titles(page: Page) -> list[str]:
    return [json.loads(doc)["title"] for doc in page.results]


def _docs(page: Page) -> list[dict[str, Any]]:
    return [json.loads(doc) for doc in page.results]


@pytest.mark.parametrize("title", ["Casablanca", "The Matrix", "Jaws", "Pulp Fiction", "Up"])
def test_an_exact_title_ranks_first(conn: Any, title: str) -> None:
    assert _titles(_search(conn, title))[0] == title


@pytest.mark.parametrize(
    "typo",
    ["Casablnca", "Casablancca", "Casablenca", "Csaablanca", "casablanac"],  # dropped, added, replaced, swapped
)
def test_each_kind_of_typo_is_forgiven(conn: Any, typo: str) -> None:
    assert _titles(_search(conn, typo))[0] == "Casablanca"


def test_a_typo_in_a_middle_word(conn: Any) -> None:
    assert _titles(_search(conn, "Indiana Jones and the Tmple of Doom"))[0] == "Indiana Jones and the Temple of Doom"
    assert _titles(_search(conn, "back to the ftuure"))[0] == "Back to the Future"


def test_a_typo_in_a_short_word_is_forgiven(conn: Any) -> None:
    # Trigrams barely overlap for three letters ("tge" and "the" share one of seven): words one edit away do.
    assert "The Ex" in _titles(_search(conn, "Tge Ex"))
    assert _titles(_search(conn, "hte godfather"))[0] == "The Godfather"


def test_stop_words_are_ranked_but_not_required(conn: Any) -> None:
    titles = _titles(_search(conn, "the godfather"))
    assert titles[0] == "The Godfather"
    assert "Disco Godfather" in titles
    assert _titles(_search(conn, "lord of rings"))[0] == "The Lord of the Rings"


def test_a_query_of_stop_words_only_requires_them_all(conn: Any) -> None:
    page = _search(conn, "of the", limit=100)
    assert page.total > 100
    for doc in _docs(page):
        words = doc["title"].lower().replace(",", " ").replace(":", " ").split()
        assert "of" in words and "the" in words, doc["title"]


def test_the_last_word_may_be_unfinished(conn: Any) -> None:
    assert _titles(_search(conn, "back to the fu"))[0] == "Back to the Future"


def test_hyphenated_titles_match_with_or_without_the_hyphen(conn: Any) -> None:
    for query in ("spider-man", "spider man", "spiderman"):
        assert _titles(_search(conn, query))[0] == "Spider-Man", query


def test_a_word_no_title_has_falls_back_to_trigram_similarity(conn: Any) -> None:
    # No title holds "2" beside a godfather, nor a word one edit from "pulpfiction": trigrams still find them.
    assert "The Godfather Part II" in _titles(_search(conn, "godfather 2"))
    assert _titles(_search(conn, "pulpfiction"))[0] == "Pulp Fiction"
    assert _search(conn, "xyzzyqx").total == 0


def test_total_counts_every_matching_title(conn: Any) -> None:
    page = _search(conn, "godfater", limit=2)
    expected = conn.execute(r"SELECT count(*) AS n FROM movies WHERE title_norm ~ '\mgodfather\M'").fetchone()["n"]
    assert page.total == expected >= 4 and len(page.results) == 2
    rest = _search(conn, "godfater", limit=100, offset=2)
    assert rest.total == expected and len(rest.results) == expected - 2
    past_the_end = _search(conn, "godfater", offset=1000)
    assert past_the_end.results == [] and past_the_end.total == expected


def test_title_combines_with_year_and_genre(conn: Any) -> None:
    page = _search(conn, "godfater", year=1974)
    assert "The Godfather Part II" in _titles(page)
    assert {doc["year"] for doc in _docs(page)} == {1974}
    crime = _search(conn, "the godfater", genres=["crime"])
    assert _titles(crime)[0] == "The Godfather"
    assert all("Crime" in doc["genre"] for doc in _docs(crime))
    assert _search(conn, "godfater", year=1871).total == 0


def _known_words(conn: Any, *words: str) -> set[str]:
    rows = conn.execute("SELECT word FROM movie_title_words WHERE word = ANY(%s)", (list(words),)).fetchall()
    return {row["word"] for row in rows}


def test_new_and_renamed_titles_are_searchable_at_once(conn: Any) -> None:
    # Typos are corrected against the words titles use, which the movies table's triggers keep up to date.
    assert _known_words(conn, "zorblax", "quintessence", "quagmire") == set()
    movies.upsert_movies(conn, [MovieRow("Zorblax Quintessence", 2001, ["Drama"], None, [], None, None)])
    assert _known_words(conn, "zorblax", "quintessence", "quagmire") == {"zorblax", "quintessence"}
    assert _titles(_search(conn, "zorblaxx quintesence")) == ["Zorblax Quintessence"]
    conn.execute("UPDATE movies SET title = 'Zorblax Quagmire' WHERE title = 'Zorblax Quintessence'")
    assert "quagmire" in _known_words(conn, "quagmire")
    assert _titles(_search(conn, "zorblax quagmre")) == ["Zorblax Quagmire"]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("godfather", "godfather", True),
        ("godfater", "godfather", True),  # deleted
        ("godfathers", "godfather", True),  # added
        ("godfahter", "godfather", True),  # swapped
        ("godfether", "godfather", True),  # replaced
        ("ste", "set", True),
        ("ste", "the", False),  # two replacements
        ("godfahtre", "godfather", False),  # two swaps
        ("abc", "abcde", False),
        ("tv", "t", True),
    ],
)
def test_one_edit_apart(a: str, b: str, expected: bool) -> None:
    assert movies._one_edit_apart(a, b) is expected
    assert movies._one_edit_apart(b, a) is expected


@pytest.mark.parametrize("word", ["it's", "back\\slash", "a:b", "&|!()", "o''brien", "spider-man"])
def test_words_are_quoted_for_tsquery(conn: Any, word: str) -> None:
    row = conn.execute(
        """SELECT array_to_tsvector(ARRAY[%s]) @@ %s::tsquery AS exact,
                  array_to_tsvector(ARRAY[%s]) @@ %s::tsquery AS prefix""",
        (word, movies._tsquery_word(word), word + "x", movies._tsquery_word(word, prefix=True)),
    ).fetchone()
    assert row == {"exact": True, "prefix": True}
