-- Genres that sources spell differently are one genre (README, "Genres"): the bundled catalogue (Wikipedia) says
-- `Animated`, `Sport` and `Historical` where TMDB says `Animation`, `Sports` (the catalogue's own commoner spelling)
-- and `History`, and people type `sci-fi` for TMDB's `Science Fiction`. Until now `genre=animation` missed the
-- catalogue's 897 animated films and /genres listed both spellings. A genre's key (what `genre=`, /genres and
-- similar movies compare) is now its normalised name mapped through a short synonym list; names are stored as given.
-- Musical and Music stay apart: a musical is not a concert film.

CREATE OR REPLACE FUNCTION marquee_genre_key(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN CASE marquee_normalize(value)
    WHEN 'animated' THEN 'animation'
    WHEN 'sport' THEN 'sports'
    WHEN 'historical' THEN 'history'
    WHEN 'sci-fi' THEN 'science fiction'
    WHEN 'scifi' THEN 'science fiction'
    WHEN 'sci fi' THEN 'science fiction'
    WHEN 'science-fiction' THEN 'science fiction'
    WHEN 'biographical' THEN 'biography'
    WHEN 'biopic' THEN 'biography'
    WHEN 'film noir' THEN 'noir'
    WHEN 'film-noir' THEN 'noir'
    WHEN 'documentaries' THEN 'documentary'
    ELSE marquee_normalize(value)
END;

CREATE OR REPLACE FUNCTION marquee_genre_keys(value text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN ARRAY(SELECT marquee_genre_key(v) FROM unnest(value) AS v);

-- 0011's definition, with the genre keys through the synonyms.
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
    keys.genre_keys := marquee_genre_keys(genre);
    keys.director_norm := marquee_normalize(director);
    keys.director_words := marquee_names_words(ARRAY[director]);
    keys.director_key := replace(keys.director_words, ' ', '');
    keys.actors_words := marquee_names_words(actors);
    keys.actors_key := replace(keys.actors_words, ' ', '');
    keys.search_doc := setweight(to_tsvector('english', keys.title_norm) || to_tsvector('english', keys.title_search),
                                 'A')
        || setweight(to_tsvector('simple', unaccent('unaccent'::regdictionary,
                                                    coalesce(director, '') || ' ' || marquee_join(actors))), 'B')
        || setweight(to_tsvector('english', unaccent('unaccent'::regdictionary, coalesce(plot, ''))), 'C');
    RETURN keys;
END $$;

-- Only the movies with a synonym change (a few percent): the update trigger (0010) computes every key of a row whose
-- genre_keys changed, with the definition above. No table-wide rewrite.
UPDATE movies SET genre_keys = marquee_genre_keys(genre) WHERE genre_keys IS DISTINCT FROM marquee_genre_keys(genre);
