-- A job's identity includes how its file was asked to be read. An upload whose x-amz-meta-delimiter or
-- x-amz-meta-encoding was wrong failed (say unreadable_file); the same object delivered again with corrected metadata
-- (a copy in place in an unversioned bucket keeps the key and the ETag; the drop folder's metadata sidecar) found
-- that failed job by (bucket, key, version) and was refused as already processed, so the file could never load
-- without being renamed. The reading options the object's metadata gives (canonical: `delimiter=semicolon
-- encoding=cp1252`, '' for none) are now part of the key: the same object with the same options is still one job,
-- run once; other options are a job of their own.

ALTER TABLE ingest_jobs ADD COLUMN read_options text NOT NULL DEFAULT '';

ALTER TABLE ingest_jobs DROP CONSTRAINT ingest_jobs_object_key;
ALTER TABLE ingest_jobs
    ADD CONSTRAINT ingest_jobs_object_key UNIQUE (bucket, object_key, object_version, read_options);
