-- Genres as people write them in a search (the twentieth tester): `genre=westerns`, `genre=comedies`,
-- `genre=thrillers`, `genre=superheroes` found nothing (the catalogue has 4,434 Westerns), nor `genre=romcom`,
-- `rom-com` or `romantic comedy`. A genre a search asks for is now read in the singular (`comedies` is `comedy`,
-- `superheroes` `superhero`) before 0013's synonyms, and a romantic comedy is both Romance and Comedy.
--
-- Query-side only: the movies' genre keys (marquee_genre_keys, 0014) are unchanged, so nothing is rewritten and the
-- ingest does no more work per row. The genres whose own name ends in s keep it: `sports` (the key of 0013),
-- `martial arts`, TMDB's `news`, `kids` and `politics` (of `war & politics`), and `series`.

CREATE OR REPLACE FUNCTION marquee_genre_singular(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN CASE
    WHEN value IN ('sports', 'martial arts', 'news', 'kids', 'politics', 'series') OR length(value) < 4 THEN value
    WHEN value ~ 'ies$' THEN regexp_replace(value, 'ies$', 'y')
    WHEN value ~ 'oes$' THEN regexp_replace(value, 'es$', '')
    WHEN value ~ '[^su]s$' THEN regexp_replace(value, 's$', '')
    ELSE value
END;

-- The keys a search's genres ask for: each genre (or each part of a pair, as 0014 splits them) in the singular,
-- through 0013's synonyms; a romantic comedy is two keys. Each key once (the order does not matter to `@>`).
-- IMMUTABLE: the planner computes the keys once, from the query's constant, as it did marquee_genre_keys'.
CREATE OR REPLACE FUNCTION marquee_genre_query_keys(value text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN ARRAY(
    SELECT DISTINCT x.k
    FROM unnest(value) AS genre,
         unnest(marquee_genre_key_set(genre)) AS part,
         LATERAL (SELECT marquee_genre_key(marquee_genre_singular(marquee_normalize(part))) AS single) AS s,
         unnest(CASE WHEN s.single IN ('romcom', 'rom-com', 'rom com', 'romantic comedy')
                     THEN ARRAY['romance', 'comedy'] ELSE ARRAY[s.single] END) AS x (k));
