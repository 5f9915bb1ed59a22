-- CSV ingest (issue 10): one row per ingest job with its status, counts and timings, and the per-row errors.

-- A job is one file read once: an S3 object (bucket, key and version id, else ETag), a file dropped in the local
-- uploads folder, or a file given to `marquee ingest`. The same object delivered twice finds its job by
-- (bucket, object_key, object_version) and is not processed again; new content under the same key has a new
-- ETag (or version id), hence a new job.
CREATE TABLE ingest_jobs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'validating', 'loading', 'done', 'failed')),
    mode            text NOT NULL CHECK (mode IN ('upsert', 'replace', 'validate')),
    keep_tmdb       boolean NOT NULL DEFAULT true,    -- replace mode: rows whose source is TMDB stay
    origin          text NOT NULL CHECK (origin IN ('s3', 'upload', 'drop_folder', 'cli', 'catalogue')),
    file_name       text,
    bucket          text,
    object_key      text,
    object_version  text,                             -- the S3 version id, else the ETag
    size_bytes      bigint,
    bytes_read      bigint NOT NULL DEFAULT 0,        -- progress: bytes of the (decompressed) file read so far
    encoding        text,
    delimiter       text,
    columns         jsonb NOT NULL DEFAULT '{}',      -- movie field -> the file's column names
    unknown_columns text[] NOT NULL DEFAULT '{}',
    warnings        text[] NOT NULL DEFAULT '{}',
    rows            integer NOT NULL DEFAULT 0,       -- data rows read (header and blank lines excluded)
    valid           integer NOT NULL DEFAULT 0,
    invalid         integer NOT NULL DEFAULT 0,
    duplicates      integer NOT NULL DEFAULT 0,       -- valid rows merged into another row of the same file
    inserted        integer NOT NULL DEFAULT 0,
    updated         integer NOT NULL DEFAULT 0,
    unchanged       integer NOT NULL DEFAULT 0,
    deleted         integer NOT NULL DEFAULT 0,
    error_count     integer NOT NULL DEFAULT 0,       -- rows in ingest_job_errors
    error_code      text,                             -- why a failed job failed (a problem `code`)
    error_detail    text,
    report_key      text,                             -- where the error report CSV was written
    requested_by    text,                             -- who asked (an admin's email, `cli`, ...), for the audit
    attempts        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    loading_at      timestamptz,
    finished_at     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ingest_jobs_object_key UNIQUE (bucket, object_key, object_version)
);
CREATE INDEX ingest_jobs_created_idx ON ingest_jobs (created_at DESC, id DESC);
-- A presigned upload waits as a queued job without a version until its S3 event names the object's ETag.
CREATE INDEX ingest_jobs_pending_object_idx ON ingest_jobs (bucket, object_key) WHERE object_version IS NULL;

-- Every reported row: bad rows (one line per bad field), rows merged into a later duplicate, rows refused at load
-- time (their title and year belong to another movie). `line` is where the row starts in the file (line 1 is the
-- header); `column_name` is the file's own column name.
CREATE TABLE ingest_job_errors (
    job_id      bigint NOT NULL REFERENCES ingest_jobs (id) ON DELETE CASCADE,
    seq         integer NOT NULL,
    line        integer,
    column_name text,
    value       text,                                 -- cut to 200 characters
    reason      text NOT NULL,
    code        text NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- Ingest matches file rows to movies by IMDb id when the file has one.
CREATE INDEX IF NOT EXISTS movies_imdb_id_idx ON movies (imdb_id) WHERE imdb_id IS NOT NULL;
