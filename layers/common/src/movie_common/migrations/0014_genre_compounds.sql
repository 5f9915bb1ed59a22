-- A genre named as a pair is both genres (README, "Search rules"). TMDB names three TV genres so: `Action &
-- Adventure`, `Sci-Fi & Fantasy` and `War & Politics`, which the sync stores as given; older catalogues write
-- `Action/Adventure`. Until now each pair was a genre of its own: a TV show of `Sci-Fi & Fantasy` was not found by
-- `genre=Science Fiction` (nor `sci-fi`), shared no genre with any film for similar movies, and /genres listed the
-- pair beside its parts. A genre's keys are now the keys of its parts (split at `&` and `/`).
-- Also: a movie whose genres name one genre twice (`Sci-Fi` and `Science Fiction`) has that key once, so /genres,
-- which now counts movies by key, counts it once.

CREATE OR REPLACE FUNCTION marquee_genre_key_set(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN CASE
    WHEN strpos(value, '&') = 0 AND strpos(value, '/') = 0 THEN ARRAY[marquee_genre_key(value)]
    ELSE coalesce(
        nullif(ARRAY(SELECT marquee_genre_key(part)
                     FROM regexp_split_to_table(value, '[&/]') WITH ORDINALITY AS s (part, n)
                     WHERE marquee_normalize(part) <> '' ORDER BY n), '{}'),
        ARRAY[marquee_genre_key(value)])
END;

-- Every genre's keys, each once, in the order the genres first name them (so a row without pairs or repeats keeps
-- the keys it has: no rewrite of those). PL/pgSQL: as fast as 0013's one-line definition (about 8 us a row, in
-- the ingest's trigger), where the same in one SQL statement (unnest, GROUP BY) took twice that.
CREATE OR REPLACE FUNCTION marquee_genre_keys(value text[]) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    keys text[] := '{}';
    genre text;
    k text;
BEGIN
    FOREACH genre IN ARRAY value LOOP
        IF strpos(genre, '&') = 0 AND strpos(genre, '/') = 0 THEN
            k := marquee_genre_key(genre);
            IF k <> ALL (keys) THEN
                keys := keys || k;
            END IF;
        ELSE
            FOREACH k IN ARRAY marquee_genre_key_set(genre) LOOP
                IF k <> ALL (keys) THEN
                    keys := keys || k;
                END IF;
            END LOOP;
        END IF;
    END LOOP;
    RETURN keys;
END $$;

-- Only the movies with a pair or a repeated genre change; the update trigger (0010) computes their keys.
UPDATE movies SET genre_keys = marquee_genre_keys(genre) WHERE genre_keys IS DISTINCT FROM marquee_genre_keys(genre);
