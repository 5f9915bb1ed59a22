-- People's names without their middle names (the thirteenth tester): `actor=samuel jackson` found nothing, though
-- Samuel L. Jackson has 95 films, nor `director=francis coppola` Francis Ford Coppola. A name query's words of three
-- letters or more may now have whole words of the name between them, in order and within one name; shorter words
-- (initials, "de", "o") stay joined to their neighbours as before, so "DW Griffith", "OBrien" and "de niro" read as
-- they did, and every part of the candidate LIKE pattern keeps trigrams for the index.

-- A name query's runs: its letters and digits, word by word, a word joined to the previous one unless both have three
-- letters or more ("samuel jackson" -> {samuel,jackson}; "D.W. Griffith" -> {dwgriffith}; "samuel l. jackson" ->
-- {samuelljackson}). Empty when it has no letter or digit.
CREATE OR REPLACE FUNCTION marquee_name_runs(query text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
AS $$
DECLARE
    runs text[] := '{}';
    word text;
    previous text;
BEGIN
    FOREACH word IN ARRAY string_to_array(btrim(regexp_replace(marquee_normalize(query), '[^[:alnum:]]+', ' ', 'g')), ' ')
    LOOP
        IF word = '' THEN
            CONTINUE;
        ELSIF previous IS NULL THEN
            runs := ARRAY[word];
        ELSIF length(previous) >= 3 AND length(word) >= 3 THEN
            runs := runs || word;
        ELSE
            runs[cardinality(runs)] := runs[cardinality(runs)] || word;
        END IF;
        previous := word;
    END LOOP;
    RETURN runs;
END $$;

-- The pattern of a word start in marquee_names_words: each run's letters and digits in order, a space allowed between
-- any two, and between two runs a space or whole words of the same name ("samuel jackson" ->
-- "[| ]s ?a ?m ?u ?e ?l(?: ?| (?:[^| ]+ )+)j ?a ?c ?k ?s ?o ?n"). Letters and digits are never regex syntax. NULL
-- when the query has no letter or digit (then it matches nothing).
CREATE OR REPLACE FUNCTION marquee_name_pattern(query text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN nullif('[| ]' || array_to_string(ARRAY(
    SELECT regexp_replace(r.run, '(.)(?=.)', '\1 ?', 'g')
    FROM unnest(marquee_name_runs(query)) WITH ORDINALITY AS r (run, n) ORDER BY r.n), '(?: ?| (?:[^| ]+ )+)'), '[| ]');

-- The candidates' LIKE pattern over marquee_names_compact: the runs in order ("%samuel%jackson%"), which every name
-- the pattern matches satisfies, and whose runs the trigram index reads. NULL when the query has no letter or digit.
-- Letters and digits are never LIKE syntax.
CREATE OR REPLACE FUNCTION marquee_name_like(query text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN nullif('%' || array_to_string(marquee_name_runs(query), '%') || '%', '%%');

-- Whether a name pattern (marquee_name_pattern) matches marquee_names_words. Search passes the pattern, which the
-- planner computes once for the statement, not once a row; PL/pgSQL for the reason marquee_name_matches is (0005).
CREATE OR REPLACE FUNCTION marquee_name_pattern_matches(words text, pattern text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
AS $$ BEGIN RETURN words ~ pattern; END $$;
