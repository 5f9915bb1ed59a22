-- The TMDB sync remembers every title it could not write, not only those refused for a title + year clash, and
-- names the run the local stack starts at start-up.
--
-- tmdb_refused_titles.kind: why the title was not written. 'title_year_taken' (0022: another row holds its title +
-- year; fetched again when TMDB's list shows another title or year, or the other row is gone), 'malformed' (TMDB's
-- details could not be read: not JSON, a date that is not a date, a cast entry without a name) and 'given_up' (its
-- details failed TMDB_MAX_ATTEMPTS runs). The last two are fetched again when TMDB's list shows the title with
-- another title or year, or once TMDB_REFRESH_AFTER_DAYS have passed since `refused_at`; reported once. `title` and
-- `year` are then those TMDB's list showed (NULL when the title was queued by a change feed or a refresh).
ALTER TABLE tmdb_refused_titles
    ADD COLUMN kind text NOT NULL DEFAULT 'title_year_taken'
        CHECK (kind IN ('title_year_taken', 'malformed', 'given_up')),
    ALTER COLUMN title DROP NOT NULL;

-- What a list showed for a title it queued (its title and year), so that a title the sync cannot write is
-- remembered with them.
ALTER TABLE tmdb_sync_queue
    ADD COLUMN list_title text,
    ADD COLUMN list_year smallint;

-- 'startup': the run `marquee run` starts when no sync succeeded in the last day (it was labelled a daily run).
ALTER TABLE sync_runs DROP CONSTRAINT sync_runs_triggered_by_check;
ALTER TABLE sync_runs ADD CONSTRAINT sync_runs_triggered_by_check
    CHECK (triggered_by IN ('schedule', 'startup', 'admin', 'cli'));
