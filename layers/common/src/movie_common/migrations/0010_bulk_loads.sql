-- Bulk loads (the ingest budget, docs/architecture.md §8): a movie's search keys computed once per row by one function
-- instead of by eleven generated-column expressions that each normalised their text again (four times the title,
-- twice each name list). The columns stay where they are, with the values they hold; what changes is who writes
-- them: a BEFORE trigger on every insert, and on every update that touches a title, genres, people or a plot (or a
-- key itself, which is then put back). Also: actors_norm, read by nothing since 0005, goes; and the words of new
-- titles get their typo variants (movie_title_words' index) from a loop instead of a UNION subquery per word.
--
-- Measured by the ingest's database backend (its CPU seconds, which the machine's other load moves far less than
-- wall time), on bench/ingest.py's file after the bundled catalogue: its first 300,000 rows took 113.2 s of CPU
-- before, 104.9 s after (-7%); its first 100,000, 37.1 s and 29.4 s; the bundled 36,243 rows into an empty
-- catalogue 10.1 to 10.5 s before, 8.7 to 9.4 s after. Modest: most of a row's cost is its 23 indexes.

-- The lead of a title's search text (marquee_search_lead, from text already through marquee_search_text).
CREATE OR REPLACE FUNCTION marquee_search_lead_of_text(search text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN replace(regexp_replace(search, '^(?:the|an|a) (?=.)', ''), ' ', '');

CREATE OR REPLACE FUNCTION marquee_search_lead(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN marquee_search_lead_of_text(marquee_search_text(value));

-- A title's words (marquee_search_words_of_normal) from its normalised text and its search text, so that a caller
-- holding both does not compute the search text again.
CREATE OR REPLACE FUNCTION marquee_search_words_of(normal text, search text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN array_remove(
    string_to_array(search, ' ')
    || CASE WHEN normal ~ '[[:alnum:]][^[:alnum:] ]+[[:alnum:]]'
            THEN string_to_array(marquee_numerals(btrim(regexp_replace(normal, '[^[:alnum:]]+', ' ', 'g'))), ' ')
            ELSE '{}' END,
    '');

CREATE OR REPLACE FUNCTION marquee_search_words_of_normal(normal text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN marquee_search_words_of(normal, marquee_search_text_of_normal(normal));

-- A word and every string one deleted letter away from it (0003's definition), as a loop: the same set of strings
-- at 2.5 us a word instead of 19 us (a subquery with a UNION per call). A load of new titles adds their words to
-- movie_title_words, whose typo index holds these variants: 1,000,000 new words cost 20 s of CPU less. (The index
-- is GIN: it holds the set, not the order.)
CREATE OR REPLACE FUNCTION marquee_word_variants(word text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    variants text[] := ARRAY[word];
    variant text;
BEGIN
    FOR i IN 1..char_length(word) LOOP
        variant := overlay(word PLACING '' FROM i FOR 1);
        IF variant <> ALL (variants) THEN
            variants := variants || variant;
        END IF;
    END LOOP;
    RETURN variants;
END $$;

-- Every search key of a movie, from the columns they derive from (the definitions of 0001 and 0005, unchanged).
CREATE TYPE marquee_movie_keys AS (
    title_norm     text,
    genre_keys     text[],
    director_norm  text,
    search_doc     tsvector,
    title_search   text,
    title_lead     text,
    title_words    tsvector,
    director_words text,
    director_key   text,
    actors_words   text,
    actors_key     text
);

-- COST tells the planner this is expensive (~75 us a row), for any query that calls it over many rows.
CREATE OR REPLACE FUNCTION marquee_movie_keys(title text, genre text[], director text, actors text[], plot text)
RETURNS marquee_movie_keys
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1000 AS $$
DECLARE
    keys marquee_movie_keys;
BEGIN
    keys.title_norm := marquee_normalize(title);
    keys.title_search := marquee_search_text_of_normal(keys.title_norm);
    keys.title_lead := marquee_search_lead_of_text(keys.title_search);
    keys.title_words := array_to_tsvector(marquee_search_words_of(keys.title_norm, keys.title_search));
    keys.genre_keys := marquee_normalize_array(genre);
    keys.director_norm := marquee_normalize(director);
    keys.director_words := marquee_names_words(ARRAY[director]);
    keys.director_key := replace(keys.director_words, ' ', '');
    keys.actors_words := marquee_names_words(actors);
    keys.actors_key := replace(keys.actors_words, ' ', '');
    keys.search_doc := setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('simple', coalesce(director, '') || ' ' || marquee_join(actors)), 'B')
        || setweight(to_tsvector('english', coalesce(plot, '')), 'C');
    RETURN keys;
END $$;

CREATE OR REPLACE FUNCTION marquee_movies_search_keys() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    keys marquee_movie_keys := marquee_movie_keys(NEW.title, NEW.genre, NEW.director, NEW.actors, NEW.plot);
BEGIN
    NEW.title_norm := keys.title_norm;
    NEW.genre_keys := keys.genre_keys;
    NEW.director_norm := keys.director_norm;
    NEW.search_doc := keys.search_doc;
    NEW.title_search := keys.title_search;
    NEW.title_lead := keys.title_lead;
    NEW.title_words := keys.title_words;
    NEW.director_words := keys.director_words;
    NEW.director_key := keys.director_key;
    NEW.actors_words := keys.actors_words;
    NEW.actors_key := keys.actors_key;
    RETURN NEW;
END $$;

-- The columns keep their values (no rewrite); from now on the triggers below write them.
ALTER TABLE movies
    ALTER COLUMN title_norm DROP EXPRESSION,
    ALTER COLUMN genre_keys DROP EXPRESSION,
    ALTER COLUMN director_norm DROP EXPRESSION,
    ALTER COLUMN search_doc DROP EXPRESSION,
    ALTER COLUMN title_search DROP EXPRESSION,
    ALTER COLUMN title_lead DROP EXPRESSION,
    ALTER COLUMN title_words DROP EXPRESSION,
    ALTER COLUMN director_words DROP EXPRESSION,
    ALTER COLUMN director_key DROP EXPRESSION,
    ALTER COLUMN actors_words DROP EXPRESSION,
    ALTER COLUMN actors_key DROP EXPRESSION;
-- Nothing has read actors_norm since 0005 moved people's search to actors_words/actors_key (its index went then);
-- computing it cost 7 us a row.
ALTER TABLE movies DROP COLUMN actors_norm;

CREATE TRIGGER movies_search_keys BEFORE INSERT ON movies
    FOR EACH ROW EXECUTE FUNCTION marquee_movies_search_keys();
-- An update computes the keys again only when it changes what they derive from, or a key itself (which is then put
-- back): refreshing TMDB's fetch time or a popularity costs nothing extra.
CREATE TRIGGER movies_search_keys_update BEFORE UPDATE ON movies
    FOR EACH ROW
    WHEN ((OLD.title, OLD.genre, OLD.director, OLD.actors, OLD.plot, OLD.title_norm, OLD.genre_keys, OLD.director_norm,
           OLD.search_doc, OLD.title_search, OLD.title_lead, OLD.title_words, OLD.director_words, OLD.director_key,
           OLD.actors_words, OLD.actors_key)
          IS DISTINCT FROM
          (NEW.title, NEW.genre, NEW.director, NEW.actors, NEW.plot, NEW.title_norm, NEW.genre_keys, NEW.director_norm,
           NEW.search_doc, NEW.title_search, NEW.title_lead, NEW.title_words, NEW.director_words, NEW.director_key,
           NEW.actors_words, NEW.actors_key))
    EXECUTE FUNCTION marquee_movies_search_keys();
