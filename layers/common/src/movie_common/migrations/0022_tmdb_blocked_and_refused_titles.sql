-- Two memories of the TMDB sync, so that it stops undoing an admin's decision and stops asking TMDB the same
-- question every run.
--
-- tmdb_blocked_titles: a TMDB title (media type, TMDB id) an admin deleted from the catalogue. The sync never adds it
-- again (it is not queued from a list, and a queued one is dropped), until an admin allows it again
-- (DELETE /admin/movies/blocked/{media_type}/{tmdb_id}). `title` and `year` are the deleted row's, for the admin's
-- list; `movie_id` is the deleted row's id (its audit entry, movie.delete, has the rest).
CREATE TABLE tmdb_blocked_titles (
    media_type text NOT NULL CHECK (media_type IN ('movie', 'tv')),
    tmdb_id    integer NOT NULL CHECK (tmdb_id > 0),
    title      text NOT NULL,
    year       smallint,
    movie_id   bigint NOT NULL,
    blocked_by bigint REFERENCES admins (id) ON DELETE SET NULL,
    actor      text NOT NULL,                 -- the admin's email or cli:<user>, as the audit log names them
    blocked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (media_type, tmdb_id)
);

-- tmdb_refused_titles: a TMDB title the sync refused because another row holds its normalised title + year
-- (movies_title_year_key: another film of that name and year, or a series of a film's name and year). The sync
-- fetched and reported it again on every run while a list showed it; now a list entry whose title and year are still
-- these, while a row still holds that title + year, is not queued. A new title or year on TMDB's list, or the other
-- row gone or renamed, and it is fetched again. Deleted when the title is written, and by the TMDB purge.
CREATE TABLE tmdb_refused_titles (
    media_type text NOT NULL CHECK (media_type IN ('movie', 'tv')),
    tmdb_id    integer NOT NULL CHECK (tmdb_id > 0),
    title      text NOT NULL,
    year       smallint,
    reason     text NOT NULL,
    refused_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (media_type, tmdb_id)
);
