-- `q` (free text) reads what it searches the way every other filter does (README, search rules): accents do not
-- matter ("leon" finds Léon, "penelope cruz" finds Penélope Cruz), and a title's words count in both spellings, as
-- written and as title search reads them, punctuation inside words dropped and numerals as digits ("spiderman" and
-- "spider man" find Spider-Man, "rocky 2" finds Rocky II, "9 1/2 weeks" and "9½ weeks" find 9½ Weeks). Until now the
-- free-text document was built from the raw title, names and plot, so `q=leon the professional` found nothing.
-- The query side (movie_common.db.movie_search) normalises `q` with marquee_normalize before parsing it.
--
-- Only the document changes: unaccent alone for the names and the plot (the parser lower-cases; a full
-- marquee_normalize of the plot cost 13 us a row, unaccent 1 us), the normalised title and its search text for the
-- title. The keys function is redefined and every row's document is computed again: the update trigger (0010)
-- computes all keys of a row whose search_doc changed, so setting it to NULL recomputes it with the new definition.

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
    keys.search_doc := setweight(to_tsvector('english', keys.title_norm) || to_tsvector('english', keys.title_search),
                                 'A')
        || setweight(to_tsvector('simple', unaccent('unaccent'::regdictionary,
                                                    coalesce(director, '') || ' ' || marquee_join(actors))), 'B')
        || setweight(to_tsvector('english', unaccent('unaccent'::regdictionary, coalesce(plot, ''))), 'C');
    RETURN keys;
END $$;

UPDATE movies SET search_doc = NULL;
