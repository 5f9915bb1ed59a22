-- TMDB sync (issue 11): TMDB provenance on movies, the record of each run, the fetch queue that is the sync's cursor,
-- the change-feed watermarks, TMDB's list ranks and the cache of /configuration and the genre lists.

-- Provenance, as TMDB's terms ask: when TMDB last answered for a row (the sync refreshes rows older than its
-- configured age), and when TMDB said the title no longer exists (kept, flagged, reported). A csv or admin row that
-- the sync matched keeps its own values; the columns TMDB filled in because they were empty are listed in
-- tmdb_filled, so that later syncs keep them current and `purge-tmdb` can empty exactly those.
ALTER TABLE movies
    ADD COLUMN original_language text,
    ADD COLUMN tmdb_fetched_at timestamptz,
    ADD COLUMN tmdb_gone_at timestamptz,
    ADD COLUMN tmdb_filled text[] NOT NULL DEFAULT '{}';
-- The refresh of old TMDB rows looks them up by fetch time.
CREATE INDEX movies_tmdb_fetched_idx ON movies (media_type, tmdb_fetched_at) WHERE tmdb_id IS NOT NULL;

-- One row per run, written as the run goes (an admin sees a running sync's progress) and closed at its end.
CREATE TABLE sync_runs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    triggered_by     text NOT NULL CHECK (triggered_by IN ('schedule', 'admin', 'cli')),
    status           text NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    requests         integer NOT NULL DEFAULT 0,   -- HTTP requests sent to TMDB, retries included
    pages            integer NOT NULL DEFAULT 0,   -- list and change-feed pages read
    titles_new       integer NOT NULL DEFAULT 0,
    titles_updated   integer NOT NULL DEFAULT 0,
    titles_unchanged integer NOT NULL DEFAULT 0,
    titles_skipped   integer NOT NULL DEFAULT 0,   -- adult, malformed, conflicting or given up after retries
    titles_gone      integer NOT NULL DEFAULT 0,   -- TMDB answered 404 for a title the catalogue holds
    queued           integer NOT NULL DEFAULT 0,   -- titles left in the queue for the next run
    error_count      integer NOT NULL DEFAULT 0,
    errors           jsonb NOT NULL DEFAULT '[]',  -- the first 100: {stage, media_type, tmdb_id, reason}
    message          text,                         -- why a run failed or stopped early
    CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX sync_runs_started_idx ON sync_runs (started_at DESC);

-- Titles whose details are still to be fetched: the sync's cursor. A run that reaches its time budget leaves the rest
-- here and the next run starts with them. A title fails at most a few times before it is dropped and reported.
CREATE TABLE tmdb_sync_queue (
    media_type   text NOT NULL CHECK (media_type IN ('movie', 'tv')),
    tmdb_id      integer NOT NULL CHECK (tmdb_id > 0),
    reason       text NOT NULL CHECK (reason IN ('list', 'changed', 'gap', 'stale')),
    attempts     smallint NOT NULL DEFAULT 0,
    attempted_at timestamptz,
    last_error   text,
    queued_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (media_type, tmdb_id)
);

-- The change feeds' watermarks: every change TMDB reported up to the end of this UTC day has been applied or queued.
CREATE TABLE tmdb_sync_state (
    media_type      text PRIMARY KEY CHECK (media_type IN ('movie', 'tv')),
    changes_through date NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- TMDB's /configuration and genre lists, refreshed every few days rather than on every run.
CREATE TABLE tmdb_cache (
    name       text PRIMARY KEY,              -- 'configuration', 'genres/movie', 'genres/tv'
    body       jsonb NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now()
);

-- The latest ranks of TMDB's lists, by TMDB id (a title whose details are not in yet simply does not show).
CREATE TABLE tmdb_list_ranks (
    list       text NOT NULL CHECK (list IN ('trending', 'popular', 'upcoming', 'now_playing')),
    media_type text NOT NULL CHECK (media_type IN ('movie', 'tv')),
    rank       integer NOT NULL CHECK (rank > 0),
    tmdb_id    integer NOT NULL CHECK (tmdb_id > 0),
    fetched_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (list, media_type, rank)
);
