"""Search (movie_search) against the bundled catalogue on a real PostgreSQL: typo-tolerant titles that forgive
punctuation, spacing and sequel numerals, people's names, suggest, keyset cursors and bounded counts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from movie_common.db import movie_search, movies
from movie_common.db.movie_search import MovieFilters, Page, Paging
from movie_common.db.movies import MovieRow


def _search(conn: Any, title: str, *, limit: int = 20, offset: int = 0, **filters: Any) -> Page:
    return movie_search.search_movies(
        conn, filters=MovieFilters(title=title, **filters), sort="relevance", paging=Paging(limit=limit, offset=offset)
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


@pytest.mark.slow
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
    assert movie_search.one_edit_apart(a, b) is expected
    assert movie_search.one_edit_apart(b, a) is expected


@pytest.mark.parametrize("word", ["it's", "back\\slash", "a:b", "&|!()", "o''brien", "spider-man"])
def test_words_are_quoted_for_tsquery(conn: Any, word: str) -> None:
    row = conn.execute(
        """SELECT array_to_tsvector(ARRAY[%s]) @@ %s::tsquery AS exact,
                  array_to_tsvector(ARRAY[%s]) @@ %s::tsquery AS prefix""",
        (word, movie_search.tsquery_word(word), word + "x", movie_search.tsquery_word(word, prefix=True)),
    ).fetchone()
    assert row == {"exact": True, "prefix": True}


@pytest.mark.parametrize(
    ("title", "text", "lead", "words"),
    [
        ("M*A*S*H", "mash", "mash", {"mash", "m", "a", "s", "h"}),
        ("Rocky II", "rocky 2", "rocky2", {"rocky", "2"}),
        ("The Godfather Part III", "the godfather part 3", "godfatherpart3", {"the", "godfather", "part", "3"}),
        ("Spider-Man: Far From Home", "spiderman far from home", "spidermanfarfromhome", None),
        ("E.T. the Extra-Terrestrial", "et the extraterrestrial", "ettheextraterrestrial", None),
        ("A", "a", "a", {"a"}),
        ("\uff2d\uff41\uff53\uff48\u3000\uff12", "mash 2", "mash2", {"mash", "2"}),  # full width
    ],
)
def test_search_keys_of_a_title(conn: Any, title: str, text: str, lead: str, words: set[str] | None) -> None:
    row = conn.execute(
        "SELECT marquee_search_text(%(t)s) AS text, marquee_search_lead(%(t)s) AS lead, "
        "marquee_search_words(%(t)s) AS words",
        {"t": title},
    ).fetchone()
    assert (row["text"], row["lead"]) == (text, lead)
    if words is not None:
        assert set(row["words"]) == words


def test_search_keys_leave_the_catalogues_uniqueness_alone(conn: Any) -> None:
    """title_norm (movies_title_year_key, which ingest and sync match on) keeps its meaning: M*A*S*H and MASH are
    two titles, though search finds both for either."""
    conn.execute("INSERT INTO movies (title, year) VALUES ('MASH', 1970)")
    rows = conn.execute("SELECT title, title_norm, title_lead FROM movies WHERE title_lead = 'mash' AND year = 1970")
    assert {(r["title"], r["title_norm"]) for r in rows.fetchall()} == {("M*A*S*H", "m*a*s*h"), ("MASH", "mash")}


@pytest.mark.parametrize(
    ("names", "words", "key"),
    [
        (["D. W. Griffith", "O'Brien"], "|d w griffith|o brien|", "|dwgriffith|obrien|"),
        (["Zoë Kravitz", None, ""], "|zoe kravitz|", "|zoekravitz|"),
        ([None], None, None),
    ],
)
def test_name_keys(conn: Any, names: list[str | None], words: str | None, key: str | None) -> None:
    row = conn.execute(
        "SELECT marquee_names_words(%(n)s::text[]) AS words, marquee_names_compact(%(n)s::text[]) AS key",
        {"n": names},
    ).fetchone()
    assert (row["words"], row["key"]) == (words, key)


@pytest.mark.parametrize(
    ("words", "query", "matches"),
    [
        ("|tom hanks|", "hanks", True),
        ("|tom hanks|", "anks", False),  # not at a word start
        ("|o brien|", "OBrien", True),
        ("|obrien|", "O Brien", True),
        ("|jacob rienzi|", "obrien", False),  # the letters are there, but not from a word start
        ("|tom|hanks x|", "tomhanks", False),  # not across two names
        ("|d w griffith|", "DW Griffith", True),
        ("|a|", "%", False),
        # Middle names and initials left out (the thirteenth tester): whole words of one name, in order, may come
        # between words of three letters or more.
        ("|samuel l jackson|", "samuel jackson", True),
        ("|francis ford coppola|", "Francis Coppola", True),
        ("|van damme|", "Van Damme", True),
        ("|vandamme|", "Van Damme", True),  # a space typed inside a name still matches without one
        ("|samuel|l jackson|", "samuel jackson", False),  # not across two names
        ("|samuel l jackson|", "jackson samuel", False),  # in the name's order
        ("|samuelson jackson|", "samuel jackson", False),  # a word before a gap is a whole word of the name
        ("|d x w griffith|", "DW Griffith", False),  # initials stay joined to their neighbours
    ],
)
def test_a_name_query_matches_word_starts_across_spacing(conn: Any, words: str, query: str, matches: bool) -> None:
    row = conn.execute("SELECT coalesce(marquee_name_matches(%s, %s), false) AS m", (words, query)).fetchone()
    assert row["m"] is matches


@pytest.mark.parametrize(
    ("query", "like"),
    [
        ("samuel jackson", "%samuel%jackson%"),
        ("D.W. Griffith", "%dwgriffith%"),
        ("samuel l. jackson", "%samuelljackson%"),
        ("Pen\u00e9lope  Cruz", "%penelope%cruz%"),
        ("%_\\", None),
        ("\uff05", None),
    ],
)
def test_a_name_query_finds_its_candidates_by_its_runs_in_order(conn: Any, query: str, like: str | None) -> None:
    """Every name the pattern matches holds the query's runs in order in its compact key, so the LIKE is a superset
    of the matches that the trigram index serves; wildcards alone are no pattern at all."""
    row = conn.execute("SELECT marquee_name_like(%s) AS pattern", (query,)).fetchone()
    assert row["pattern"] == like


@pytest.mark.parametrize("wildcard", ["%", "\uff05", "_", "\uff3f", "\\", "\uff3c"])
def test_like_patterns_are_escaped_after_normalising(conn: Any, wildcard: str) -> None:
    row = conn.execute(
        "SELECT 'x' || marquee_normalize(%(w)s) || 'y' LIKE 'x' || marquee_like_escape(marquee_normalize(%(w)s)) "
        "|| 'y' AS literal, 'xAAy' LIKE 'x' || marquee_like_escape(marquee_normalize(%(w)s)) || 'y' AS wild",
        {"w": wildcard},
    ).fetchone()
    assert row == {"literal": True, "wild": False}


def test_counts_are_exact_up_to_the_bound_then_estimated(conn: Any) -> None:
    narrow = _search(conn, "godfather")
    assert narrow.exact and narrow.total == len(_search(conn, "godfather", limit=100).results)
    broad = _search(conn, "the")
    assert not broad.exact and broad.total > movie_search.COUNT_EXACT_UP_TO
    assert broad.ordering == movie_search.BROAD and len(broad.results) == 20


@pytest.mark.slow
def test_free_text_past_the_ranked_bound_is_counted_exactly_up_to_ten_thousand(conn: Any) -> None:
    """The seventh tester's q=love: more matches than are ranked (1,000), so broad relevance, whose total was the
    planner's guess (3,047 of 1,557: pages 17-31 empty). Free text with few enough matches is counted, as it is in
    the other orders; a walk by cursor reads exactly that many."""
    page = movie_search.search_movies(
        conn, filters=MovieFilters(text="love"), sort="relevance", paging=Paging(limit=100, offset=0)
    )
    matched = conn.execute(
        "SELECT count(*) AS n FROM movies m WHERE m.search_doc @@ (websearch_to_tsquery('english', 'love') "
        "|| websearch_to_tsquery('simple', 'love'))"
    ).fetchone()["n"]
    assert movie_search.COUNT_EXACT_UP_TO < matched <= movie_search.SORT_TEXT_MATCHES_UP_TO
    assert page.ordering == movie_search.BROAD
    assert (page.total, page.exact) == (matched, True)
    seen = len(page.results)
    while page.last_key is not None and len(page.results) == 100:
        page = movie_search.search_movies(
            conn,
            filters=MovieFilters(text="love"),
            sort="relevance",
            paging=Paging(limit=100, after=page.last_key, ordering=page.ordering),
        )
        seen += len(page.results)
    assert seen == matched


def test_a_broad_search_ranks_equal_titles_first_then_by_popularity(conn: Any) -> None:
    conn.execute("UPDATE movies SET popularity = 50 WHERE title = 'The Great Gatsby' AND year = 1974")
    conn.execute("UPDATE movies SET popularity = 90 WHERE title = 'The Sting' AND year = 1973")
    page = _search(conn, "the", limit=5)
    assert page.ordering == movie_search.BROAD
    assert _titles(page)[:2] == ["The Sting", "The Great Gatsby"]
    conn.execute("INSERT INTO movies (title, year, popularity) VALUES ('The', 2001, 0)")
    assert _titles(_search(conn, "the", limit=5))[0] == "The"


@pytest.mark.slow
def test_a_broad_free_text_search_puts_titles_starting_with_it_right_after_the_equal_ones(conn: Any) -> None:
    """The eleventh tester's q=star wars: more than 1,000 plots say "starring", so the broad order, which put Star
    Wars first and then sorted by popularity (0 for the whole bundled catalogue): its sequels ranked 974th to 1,137th.
    Titles starting with the query now come next there too, and a cursor walk still yields every match once."""
    page = movie_search.search_movies(
        conn, filters=MovieFilters(text="star wars"), sort="relevance", paging=Paging(limit=40, offset=0)
    )
    assert page.ordering == movie_search.BROAD
    starting = [
        r["title"]
        for r in conn.execute(
            "SELECT title FROM movies WHERE title_lead LIKE 'starwars%' AND title_lead <> 'starwars' AND search_doc @@ "
            "(websearch_to_tsquery('english', 'star wars') || websearch_to_tsquery('simple', 'star wars'))"
        )
    ]
    assert len(starting) >= 3  # the bundled catalogue's sequels (The Empire Strikes Back is not one by its title)
    titles = _titles(page)
    assert titles[0] == "Star Wars"
    assert sorted(titles[1 : 1 + len(starting)]) == sorted(starting)
    # Every match once, by cursor across the three tiers, as by offset.
    seen: list[int] = [json.loads(r)["id"] for r in page.results]
    while page.last_key is not None and len(page.results) == 40:
        page = movie_search.search_movies(
            conn,
            filters=MovieFilters(text="star wars"),
            sort="relevance",
            paging=Paging(limit=40, after=page.last_key, ordering=page.ordering),
        )
        seen += [json.loads(r)["id"] for r in page.results]
    assert len(seen) == len(set(seen)) == page.total


def test_keyset_pages_equal_offset_pages_in_every_ordering(conn: Any) -> None:
    for sort in movie_search.ORDERINGS:
        whole = movie_search.list_movies(conn, media_type=None, sort=sort, paging=Paging(limit=60, offset=1000))
        first = movie_search.list_movies(conn, media_type=None, sort=sort, paging=Paging(limit=25, offset=1000))
        rest = movie_search.list_movies(
            conn, media_type=None, sort=sort, paging=Paging(limit=35, after=first.last_key, ordering=sort)
        )
        assert [json.loads(d)["id"] for d in first.results + rest.results] == [
            json.loads(d)["id"] for d in whole.results
        ], sort


@pytest.mark.parametrize(
    ("ordering", "key", "valid"),
    [
        ("popularity.desc", [0.5, 10], True),
        ("popularity.desc", [0.5], False),
        ("popularity.desc", ["x", 10], False),
        ("title.asc", ["abc", 10], True),
        ("title.asc", [1, 10], False),
        ("id.asc", [True], False),
        ("id.asc", [2**70], False),
        ("relevance.ranked", [1.5, 0.0, 7], True),
        ("relevance.broad", [1, 0.0, 7], True),
        ("nope", [1], False),
        ("year.desc", "1,2", False),
    ],
)
def test_cursor_keys_are_checked_before_sql_sees_them(ordering: str, key: Any, valid: bool) -> None:
    assert movie_search.valid_key(ordering, key) is valid


@pytest.mark.parametrize("sort", list(movie_search.ORDERINGS))
@pytest.mark.parametrize("text", ["shark", "zzzzqx", "detective"])
def test_free_text_in_any_order_is_every_match_in_that_order_with_an_exact_count(
    conn: Any, sort: str, text: str
) -> None:
    """Free text sorted by anything but relevance: few matches (these are) are counted exactly and sorted from the
    matches themselves (a rare word once made the search walk the order's index through every movie). The pages are
    the matches in the order's SQL, and a cursor walk reads each once."""
    keys = movie_search.ORDERINGS[sort]
    order = ", ".join(f"{k.expression} {'DESC' if k.descending else 'ASC'}" for k in keys)
    expected = [
        row["id"]
        for row in conn.execute(
            f"""SELECT m.id FROM movies m
                WHERE m.search_doc @@ (websearch_to_tsquery('english', marquee_normalize(%(t)s))
                                       || websearch_to_tsquery('simple', marquee_normalize(%(t)s)))
                ORDER BY {order}""",  # noqa: S608 - the ORDER BY is the orderings' constant SQL
            {"t": text},
        )
    ]
    assert len(expected) <= movie_search.SORT_TEXT_MATCHES_UP_TO
    filters = MovieFilters(text=text)
    page = movie_search.search_movies(conn, filters=filters, sort=sort, paging=Paging(limit=20))
    assert (page.total, page.exact) == (len(expected), True)
    walked = [json.loads(doc)["id"] for doc in page.results]
    while page.last_key is not None and len(page.results) == 20:
        page = movie_search.search_movies(
            conn, filters=filters, sort=sort, paging=Paging(limit=20, after=page.last_key, ordering=sort)
        )
        walked += [json.loads(doc)["id"] for doc in page.results]
    assert walked == expected
    if text != "zzzzqx":
        assert len(expected) > 20  # the walk crossed pages


class _Recording:
    """A connection that keeps the text of every statement it runs."""

    def __init__(self, conn: Any) -> None:
        self.conn, self.statements = conn, []

    def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
        self.statements.append(query.as_string(self.conn) if hasattr(query, "as_string") else str(query))
        return self.conn.execute(query, params, **options)


@pytest.mark.slow  # over 0.35 s (README: the fast tier)
def test_few_free_text_matches_are_sorted_from_the_matches_not_by_walking_the_orders_index(conn: Any) -> None:
    recording = _Recording(conn)
    movie_search.search_movies(
        recording, filters=MovieFilters(text="zzzzqx"), sort="year.desc", paging=Paging(limit=20)
    )
    assert any("FROM (SELECT * FROM movies m WHERE" in text for text in recording.statements)
    # A common word (statistics know it: most plots say "film") walks the order's index as before: the first matches
    # come at once.
    conn.execute("ANALYZE movies")
    recording.statements.clear()
    movie_search.search_movies(recording, filters=MovieFilters(text="film"), sort="year.desc", paging=Paging(limit=20))
    assert not any("FROM (SELECT * FROM movies m WHERE" in text for text in recording.statements)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("titanic 1997", ("Titanic", 1997)),  # it came third, after the Titanics of 1953 and 1996
        ("heat (1995)", ("Heat", 1995)),
        ("the fly 1986", ("The Fly", 1986)),  # it found nothing: no title has the word 1986
        ("it 2017", ("It", 2017)),  # nothing
        ("up 2009", ("Up", 2009)),  # only Step Up 2: The Streets
        ("blade runner 2049", ("Blade Runner 2049", 2017)),  # a title that ends in a number still comes first
        ("1917", ("1917", 2019)),  # a title that is a year is a query of that word alone
        ("2001 a space odyssey", ("2001: A Space Odyssey", 1968)),
    ],
)
def test_a_year_typed_after_the_title_ranks_that_years_film_first(
    conn: Any, title: str, expected: tuple[str, int]
) -> None:
    """The twentieth tester: a year typed after a title was a word the title had to hold."""
    first = _docs(_search(conn, title))[0]
    assert (first["title"], first["year"]) == expected


def test_a_year_typed_after_the_title_still_finds_the_others() -> None:
    query = movie_search.TitleQuery("blade runner 2049", "bladerunner2049", [])
    assert movie_search.title_year(query) is None  # no words: nothing to read
    words = [{"word": w, "position": n, "parts": [w], "near": [w]} for n, w in enumerate(["heat", "1995"], 1)]
    heat = movie_search.TitleQuery("heat 1995", "heat1995", words)
    assert movie_search.title_year(heat) == 1995
    assert movie_search.title_tsquery(heat) == "('heat')"  # the year is not required of the title
    assert movie_search.title_leads(heat).same == ["heat"]
    alone = movie_search.TitleQuery("1995", "1995", words[1:])
    assert movie_search.title_year(alone) is None and movie_search.title_tsquery(alone) == "('1995')"


@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        ("jwas", ["Jaws", "Jaws 2"]),
        ("ailen", ["Alien"]),
        ("rcoky", ["Rocky", "Rocky"]),
        ("teh godfather", ["The Godfather"]),
    ],
)
def test_a_typo_of_two_letters_swapped_ranks_the_corrected_title_first(
    conn: Any, typo: str, expected: list[str]
) -> None:
    """The twentieth tester: `jwas` ranked 62 titles holding "was" (a letter shorter, which trigram similarity
    prefers) first and Jaws past the first page; `ailen` gave Ailey first, `rcoky` Rocky Rhodes."""
    assert _titles(_search(conn, typo))[: len(expected)] == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "doctor strangelove",
            "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb",
        ),  # Doctor Strange
        ("doctor jekyll and mister hyde", "Dr. Jekyll and Mr. Hyde"),  # nothing
        ("saint louis blues", "St. Louis Blues"),  # S.S. St. Louis, then The Saint
        ("kramer versus kramer", "Kramer vs. Kramer"),
        ("batman vs superman", "Batman v Superman: Dawn of Justice"),  # Atom Man vs. Superman first
        ("miracle on 34th st", "Miracle on 34th Street"),
        ("fast and furious", "Fast and Furious"),
    ],
)
def test_abbreviations_are_the_words_they_stand_for(conn: Any, title: str, expected: str) -> None:
    assert _titles(_search(conn, title))[0] == expected


def test_and_and_ampersand_spell_the_same_title(conn: Any) -> None:
    # "Fast & Furious" (lead fastfurious) ranked as a title merely holding the words of "fast and furious"
    for query in ("fast and furious", "fast & furious"):
        first = set(_titles(_search(conn, query, limit=3)))
        assert first == {"Fast and Furious", "Fast & Furious"}, (query, first)


@pytest.mark.parametrize(
    ("typed", "spellings"),
    [
        ("dr strange", ["doctor strange"]),
        ("dr.", ["doctor"]),  # a full stop finishes the word
        ("dr", []),  # the word being typed may be "drive"
        ("st louis", ["saint louis", "street louis"]),
        ("fast & f", ["fast and f"]),
        ("the godf", []),
    ],
)
def test_suggest_reads_finished_words_in_their_other_spellings(typed: str, spellings: list[str]) -> None:
    assert movie_search.suggest_spellings(typed) == spellings


@pytest.mark.parametrize(
    ("typed", "title"),
    [
        ("dr strange", "Doctor Strange"),
        ("doctor strange", "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb"),
        ("saint louis b", "St. Louis Blues"),
    ],
)
def test_suggest_finds_a_title_typed_with_an_abbreviation_the_other_way(conn: Any, typed: str, title: str) -> None:
    found = [s["title"] for s in movie_search.suggest_titles(conn, prefix=typed, limit=10)]
    assert title in found and len(found) == len(
        {s["id"] for s in movie_search.suggest_titles(conn, prefix=typed, limit=10)}
    )
