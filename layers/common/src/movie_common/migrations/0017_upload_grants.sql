-- One upload form, one job. The admin portal's "request an upload" is a grant: a queued job (origin 'upload') for a
-- random key, and a presigned POST for that key valid 15 minutes. The form could be posted again in that time with
-- other content (a new ETag, or a new version id), which made a second job under the granted key with no audit entry
-- of its own. The ingest now refuses such a second object (a failed job, `upload_already_used`, changing nothing),
-- and tells the same content delivered again (a new version id, the same ETag) by the ETag kept here.

ALTER TABLE ingest_jobs ADD COLUMN object_etag text;  -- the object's ETag (no quotes) when its job claimed it

-- The jobs of granted keys, found by key when a version the grant's job does not hold arrives.
CREATE INDEX ingest_jobs_upload_key_idx ON ingest_jobs (bucket, object_key) WHERE origin = 'upload';
