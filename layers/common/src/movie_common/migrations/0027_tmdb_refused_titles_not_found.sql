-- tmdb_refused_titles.kind 'not_found': a title a TMDB list shows whose details answer 404 (TMDB deleted it after
-- the list was built) and that the catalogue does not hold (a held one is flagged tmdb_gone_at instead). Remembered
-- as 'malformed' and 'given_up' are: reported once, and fetched again when TMDB's list shows another title or year,
-- or once TMDB_REFRESH_AFTER_DAYS have passed since `refused_at`. It was skipped in silence and fetched every run.
ALTER TABLE tmdb_refused_titles DROP CONSTRAINT tmdb_refused_titles_kind_check;
ALTER TABLE tmdb_refused_titles ADD CONSTRAINT tmdb_refused_titles_kind_check
    CHECK (kind IN ('title_year_taken', 'malformed', 'given_up', 'not_found'));
