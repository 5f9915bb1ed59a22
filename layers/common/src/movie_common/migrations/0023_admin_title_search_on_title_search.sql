-- The admin portal's movie search reads title_search (the public title search's text: case, accents and punctuation
-- folded) through its trigram index, movies_title_search_trgm_idx, and falls back to title_norm only for a text of
-- punctuation alone, which is rare and short. title_norm's own trigram index had no other reader, and every movie
-- written paid for it: about 2.8 s of backend CPU per 100,000 rows a CSV ingest inserts (bench/ingest.py), the
-- third dearest index of the table.
DROP INDEX IF EXISTS movies_title_trgm_idx;
