-- What an admin reads of the titles the TMDB sync remembers it could not write (GET /admin/sync/refused): how many
-- times it refused or gave up the title (each run that fetched it and could not write it), and when it first did.
-- `refused_at` stays the last time. A title an admin forgets (DELETE /admin/sync/refused/{media_type}/{tmdb_id}) is
-- deleted from the table, and the next run whose list shows it fetches it again.
ALTER TABLE tmdb_refused_titles
    ADD COLUMN times integer NOT NULL DEFAULT 1 CHECK (times >= 1),
    ADD COLUMN first_refused_at timestamptz;
UPDATE tmdb_refused_titles SET first_refused_at = refused_at;
ALTER TABLE tmdb_refused_titles
    ALTER COLUMN first_refused_at SET NOT NULL,
    ALTER COLUMN first_refused_at SET DEFAULT now();

-- The admin's list reads newest first.
CREATE INDEX tmdb_refused_titles_refused_at_idx ON tmdb_refused_titles (refused_at DESC, media_type, tmdb_id);
