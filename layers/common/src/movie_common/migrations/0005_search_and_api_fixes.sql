-- The public API as clients use it (issue 6): search keys that forgive punctuation, spacing and sequel numbers,
-- people's names matched across punctuation, initials and spacing, an index for every list sort, LIKE patterns
-- escaped after normalising, /usage's own limit, and free 304s.
--
-- title_norm (and with it movies_title_year_key, which the CSV ingest and the TMDB sync match on) is NOT changed:
-- "M*A*S*H" and "MASH" stay two titles. Search reads separate keys, so no existing row can collide.

-- ------------------------------------------------------------------------------------------------ search keys

-- Roman numerals 2-20 read as the number: "Rocky II" and "Rocky 2" are the same words. ("i" stays a word.)
CREATE OR REPLACE FUNCTION marquee_numeral(part text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN CASE part
    WHEN 'ii' THEN '2' WHEN 'iii' THEN '3' WHEN 'iv' THEN '4' WHEN 'v' THEN '5' WHEN 'vi' THEN '6'
    WHEN 'vii' THEN '7' WHEN 'viii' THEN '8' WHEN 'ix' THEN '9' WHEN 'x' THEN '10' WHEN 'xi' THEN '11'
    WHEN 'xii' THEN '12' WHEN 'xiii' THEN '13' WHEN 'xiv' THEN '14' WHEN 'xv' THEN '15' WHEN 'xvi' THEN '16'
    WHEN 'xvii' THEN '17' WHEN 'xviii' THEN '18' WHEN 'xix' THEN '19' WHEN 'xx' THEN '20'
    ELSE part END;

-- Numerals in a space-separated text of normalised words: only texts that have a word made of i, v and x pay for
-- the split.
CREATE OR REPLACE FUNCTION marquee_numerals(words text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN CASE WHEN words ~ '\m[ivx]+\M'
            THEN array_to_string(ARRAY(SELECT marquee_numeral(w) FROM unnest(string_to_array(words, ' ')) AS w), ' ')
            ELSE words END;

-- The search text of a title: marquee_normalize's words with their inner punctuation dropped ("M*A*S*H" -> "mash",
-- "Spider-Man:" -> "spiderman", "O'Brien" -> "obrien", "E.T." -> "et"), numerals as digits ("Rocky II" ->
-- "rocky 2"), single spaces. Anything that is not a letter, a digit or a space is punctuation. The *_of_normal
-- functions take text already through marquee_normalize, so each row normalises its title once per column.
CREATE OR REPLACE FUNCTION marquee_search_text_of_normal(normal text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN marquee_numerals(btrim(regexp_replace(regexp_replace(normal, '[^[:alnum:] ]+', '', 'g'), ' {2,}', ' ', 'g')));

CREATE OR REPLACE FUNCTION marquee_search_text(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN marquee_search_text_of_normal(marquee_normalize(value));

-- The words a title is found by: the words of its search text and, where punctuation joined parts into a word, the
-- parts too ("spider-man" -> spiderman, spider, man; "m*a*s*h" -> mash, m, a, s, h), so a query may type either.
CREATE OR REPLACE FUNCTION marquee_search_words_of_normal(normal text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN array_remove(
    string_to_array(marquee_search_text_of_normal(normal), ' ')
    || CASE WHEN normal ~ '[[:alnum:]][^[:alnum:] ]+[[:alnum:]]'
            THEN string_to_array(marquee_numerals(btrim(regexp_replace(normal, '[^[:alnum:]]+', ' ', 'g'))), ' ')
            ELSE '{}' END,
    '');

CREATE OR REPLACE FUNCTION marquee_search_words(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN marquee_search_words_of_normal(marquee_normalize(value));

-- A title's lead: its search text without a leading article and without spaces. Equal leads are the same title up to
-- punctuation, spacing, case and article ("The Godfather" ~ "godfather", "M*A*S*H" ~ "MASH", "Rocky II" ~
-- "rocky 2"); a lead that starts with a query's lead is a title that starts with the query.
CREATE OR REPLACE FUNCTION marquee_search_lead(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN replace(regexp_replace(marquee_search_text(value), '^(?:the|an|a) (?=.)', ''), ' ', '');

-- People's names: every name's parts, space-separated, between '|' ("|tom hanks|d w griffith|o brien|"), and the
-- same without the spaces ("|tomhanks|dwgriffith|obrien|"). A query matches at the start of a word of one name,
-- whatever the spacing and punctuation in either: "OBrien", "O Brien" and "o'brien" all find O'Brien, "DW Griffith"
-- and "D.W. Griffith" find D. W. Griffith (see marquee_name_pattern). NULL when there is no name.
CREATE OR REPLACE FUNCTION marquee_names_words(value text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN nullif('|' || btrim(regexp_replace(regexp_replace(btrim(regexp_replace(
    marquee_normalize(array_to_string(value, '|')), '[^[:alnum:]|]+', ' ', 'g')), ' *\| *', '|', 'g'),
    '\|{2,}', '|', 'g'), '|') || '|', '||');

CREATE OR REPLACE FUNCTION marquee_names_compact(value text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN replace(marquee_names_words(value), ' ', '');

-- A name query as marquee_names_compact has it (letters and digits only), to find candidates by trigrams; NULL when
-- it has no letter or digit.
CREATE OR REPLACE FUNCTION marquee_name_key(query text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN nullif(regexp_replace(marquee_normalize(query), '[^[:alnum:]]+', '', 'g'), '');

-- A name query as the pattern of a word start in marquee_names_words: its letters and digits in order, a space
-- allowed between any two ("obrien" -> "[| ]o ?b ?r ?i ?e ?n"). Letters and digits are never regex syntax. NULL
-- when the query has no letter or digit (then it matches nothing).
CREATE OR REPLACE FUNCTION marquee_name_pattern(query text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN nullif('[| ]' || regexp_replace(regexp_replace(marquee_normalize(query), '[^[:alnum:]]+', '', 'g'),
                                      '(.)(?=.)', '\1 ?', 'g'), '[| ]');

-- Whether a name query matches a word start of marquee_names_words. PL/pgSQL on purpose: the planner cannot see the
-- regular expression inside, so it estimates the match as an ordinary condition instead of guessing a pattern of a
-- dozen characters matches almost nothing (which made it sort every candidate instead of walking an index).
CREATE OR REPLACE FUNCTION marquee_name_matches(words text, query text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
AS $$ BEGIN RETURN words ~ marquee_name_pattern(query); END $$;

-- LIKE's wildcards and escape character, escaped. Applied to text AFTER it is normalised: normalising maps
-- full-width '％', '＿' and '＼' to '%', '_' and '\', which escaping first would have let through.
CREATE OR REPLACE FUNCTION marquee_like_escape(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN replace(replace(replace(value, '\', '\\'), '%', '\%'), '_', '\_');

-- Computed once per row (stored) so that search reads them from the index or the row, never re-parses titles.
ALTER TABLE movies
    ADD COLUMN title_search text GENERATED ALWAYS AS (marquee_search_text(title)) STORED,
    ADD COLUMN title_lead text GENERATED ALWAYS AS (marquee_search_lead(title)) STORED,
    ADD COLUMN title_words tsvector GENERATED ALWAYS AS (array_to_tsvector(marquee_search_words(title))) STORED,
    ADD COLUMN director_words text GENERATED ALWAYS AS (marquee_names_words(ARRAY[director])) STORED,
    ADD COLUMN director_key text GENERATED ALWAYS AS (marquee_names_compact(ARRAY[director])) STORED,
    ADD COLUMN actors_words text GENERATED ALWAYS AS (marquee_names_words(actors)) STORED,
    ADD COLUMN actors_key text GENERATED ALWAYS AS (marquee_names_compact(actors)) STORED;

-- The word index of title search, on the new words (0003's indexed the 'simple' parser's words of title_norm).
DROP INDEX movies_title_words_idx;
CREATE INDEX movies_title_words_idx ON movies USING gin (title_words);
-- Leads: a title equal to the query, or starting with it (title search and suggest), ranked by popularity.
CREATE INDEX movies_title_lead_idx ON movies (title_lead text_pattern_ops) INCLUDE (popularity, id);
DROP INDEX movies_title_prefix_cover_idx;
-- The popularity order carries the title's lead and words, so that suggest and a broad title search walk it in
-- order (a dense prefix like "th", a common word like "love") and stop after the page, without visiting the table.
DROP INDEX movies_popularity_idx;
CREATE INDEX movies_popularity_idx ON movies (popularity DESC, id) INCLUDE (title_lead, title_words);
-- Trigram similarity on the search text (the fallback of title search; suggest's word starts).
CREATE INDEX movies_title_search_trgm_idx ON movies USING gin (title_search gin_trgm_ops);
-- People: candidates by trigrams of the compact names, checked against the word starts.
DROP INDEX movies_director_trgm_idx;
DROP INDEX movies_actors_trgm_idx;
CREATE INDEX movies_director_key_trgm_idx ON movies USING gin (director_key gin_trgm_ops);
CREATE INDEX movies_actors_key_trgm_idx ON movies USING gin (actors_key gin_trgm_ops);
-- (movies_title_trgm_idx on title_norm stays: the admin portal's movie search reads it.)
-- Similar movies: candidates sharing the director or an actor, found by index rather than by reading the catalogue.
CREATE INDEX movies_director_norm_idx ON movies (director_norm);
CREATE INDEX movies_actors_idx ON movies USING gin (actors);

-- Every list sort has an index in its exact order, so a page (and a cursor's next page) reads only its rows
-- instead of sorting the catalogue. Nullable columns sort through a sentinel (NULLS LAST with plain comparisons,
-- which a cursor needs). popularity.asc and title.desc are the backward scans of the popularity and title indexes
-- (their tie-break, id, runs backwards too).
-- (An index-only scan needs the columns an expression reads, hence INCLUDE.)
CREATE INDEX movies_year_desc_idx ON movies ((coalesce(year, -1)) DESC, id) INCLUDE (year);
CREATE INDEX movies_year_asc_idx ON movies ((coalesce(year, 32767)), id) INCLUDE (year);
CREATE INDEX movies_title_sort_idx ON movies (title_norm, id);
CREATE INDEX movies_rating_desc_idx ON movies ((coalesce(rating, -1)) DESC, id) INCLUDE (rating);
CREATE INDEX movies_rating_asc_idx ON movies ((coalesce(rating, 11)), id) INCLUDE (rating);

-- The typo table holds the new words (joined and parts, numerals as digits).
TRUNCATE movie_title_words;
INSERT INTO movie_title_words (word)
SELECT DISTINCT w FROM movies, unnest(tsvector_to_array(title_words)) AS w;

CREATE OR REPLACE FUNCTION marquee_add_title_words() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO movie_title_words (word)
        SELECT DISTINCT w
        FROM (SELECT title_words FROM new_rows EXCEPT SELECT title_words FROM old_rows) AS changed,
             unnest(tsvector_to_array(changed.title_words)) AS w
        ORDER BY w
        ON CONFLICT (word) DO NOTHING;
    ELSE
        INSERT INTO movie_title_words (word)
        SELECT DISTINCT w
        FROM new_rows, unnest(tsvector_to_array(new_rows.title_words)) AS w
        ORDER BY w
        ON CONFLICT (word) DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

-- How many titles a word query matches is estimated from the most common words (pg_stats.most_common_elems): keep
-- the 10,000 commonest, so every broad word is among them.
ALTER TABLE movies ALTER COLUMN title_words SET STATISTICS 1000;

-- ------------------------------------------------------------------------------------------------ API keys

-- GET /usage is free but not unlimited: its own window per key (marquee_minute_used reads it like the others).
ALTER TABLE api_keys
    ADD COLUMN usage_reads_minute_start timestamptz NOT NULL DEFAULT 'epoch',
    ADD COLUMN usage_reads_minute_count integer NOT NULL DEFAULT 0,
    -- 304 Not Modified is free: admitted, then refunded; at most per_minute refunds per key and minute.
    ADD COLUMN free_minute_start timestamptz NOT NULL DEFAULT 'epoch',
    ADD COLUMN free_minute_count integer NOT NULL DEFAULT 0;

-- 304s in the daily rollup: neither counted (requests) nor refused (rejected).
ALTER TABLE usage_daily ADD COLUMN not_modified integer NOT NULL DEFAULT 0;

ANALYZE movie_title_words;
ANALYZE movies;
