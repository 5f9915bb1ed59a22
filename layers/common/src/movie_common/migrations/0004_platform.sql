-- The platform (issue 5): one definition of a key's standing, bounded logging of refused requests, sessions that
-- both portals share, and TMDB identity per media type.

-- Key policy, once: why a key is refused at a moment (NULL when it is not). A suspended owner refuses every key.
CREATE OR REPLACE FUNCTION marquee_key_refusal(
    key_status text, expires_at timestamptz, owner_status text, at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN key_status <> 'active' THEN 'key_' || key_status
    WHEN owner_status IS DISTINCT FROM 'active' THEN 'account_suspended'
    WHEN expires_at IS NOT NULL AND expires_at <= at THEN 'key_expired'
END;

-- The limit windows, once: the UTC day and the minute that hold `at`, and when each resets.
CREATE OR REPLACE FUNCTION marquee_day_start(at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (at AT TIME ZONE 'UTC')::date;

CREATE OR REPLACE FUNCTION marquee_minute_start(at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN date_trunc('minute', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';

CREATE OR REPLACE FUNCTION marquee_day_reset(at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (marquee_day_start(at) + 1)::timestamp AT TIME ZONE 'UTC';

CREATE OR REPLACE FUNCTION marquee_minute_reset(at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN marquee_minute_start(at) + interval '1 minute';

-- What a key has used in the windows that hold `at`: a stored counter belongs to the window it was counted in, so
-- a counter of an earlier day or minute reads as 0. A counter of a LATER window counts too: a transaction that
-- began just before a minute turned may get the row lock after one that began just after it, and must neither
-- reset that newer window nor move it back (writers store greatest(stored start, own start)); otherwise two such
-- transactions could reset each other's counts at every boundary and over-admit. (Scalar functions, evaluated in
-- a target list: under FOR UPDATE, PostgreSQL recomputes the target list on the newest row version after a lock
-- wait, which it does not do for a LATERAL function scan.)
CREATE OR REPLACE FUNCTION marquee_day_used(usage_day date, usage_count integer, at timestamptz) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN usage_day >= marquee_day_start(at) THEN usage_count ELSE 0 END;

CREATE OR REPLACE FUNCTION marquee_minute_used(minute_start timestamptz, minute_count integer, at timestamptz)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN minute_start >= marquee_minute_start(at) THEN minute_count ELSE 0 END;

-- Refused requests are counted in usage_daily, but only the first few per key and minute get a usage_logs row:
-- an exhausted key must not be able to grow the log without bound.
ALTER TABLE api_keys
    ADD COLUMN refused_minute_start timestamptz NOT NULL DEFAULT 'epoch',
    ADD COLUMN refused_minute_count integer NOT NULL DEFAULT 0;

-- Sessions of developers and admins: the JWT carries the id; revoking the row ends the session at once (logout,
-- password change, suspension) although the token itself is still unexpired.
CREATE TABLE sessions (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    role           text NOT NULL CHECK (role IN ('developer', 'admin')),
    subject_id     bigint NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_reason text
);
CREATE INDEX sessions_subject_idx ON sessions (role, subject_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- TMDB numbers movies and TV shows separately: a movie and a show may share an id.
ALTER TABLE movies DROP CONSTRAINT movies_tmdb_id_key;
ALTER TABLE movies ADD CONSTRAINT movies_media_type_tmdb_id_key UNIQUE (media_type, tmdb_id);
