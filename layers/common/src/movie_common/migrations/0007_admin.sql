-- Admin accounts, the admin audit log, the rollups the admin analytics read, and the indexes of the admin queries.

-- Admins sign in separately from developers. Failed logins are counted before the password is checked (see
-- movie_common.db.admins.reserve_login_attempt), so parallel guesses cannot get past the lockout.
CREATE TABLE admins (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email                citext NOT NULL UNIQUE,
    hashed_password      text NOT NULL,                  -- bcrypt
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    failed_logins        integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),  -- since the last success
    last_failed_login_at timestamptz,
    locked_until         timestamptz,
    last_login_at        timestamptz,
    password_changed_at  timestamptz NOT NULL DEFAULT now(),
    created_at           timestamptz NOT NULL DEFAULT now()
);

-- Every admin action, written in the same transaction as the action (movie_admin services). `actor` keeps the
-- admin's email (or `cli:<user>` for the command line) so the entry still reads right after an admin is removed;
-- `developer_id` is the developer the action concerns, kept after their keys or account are deleted, for the
-- developer timeline. Snapshots never hold a key, a key hash, a token or a password: the CHECKs refuse those names.
CREATE TABLE admin_audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    admin_id     bigint REFERENCES admins (id) ON DELETE SET NULL,
    actor        text NOT NULL CHECK (btrim(actor) <> ''),
    source       text NOT NULL CHECK (source IN ('api', 'cli')),
    action       text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),   -- <target type>.<verb>, e.g. api_key.suspend
    target_type  text NOT NULL CHECK (target_type ~ '^[a-z_]+$'),
    target_id    text,
    developer_id bigint,
    before       jsonb CHECK (jsonb_typeof(before) = 'object'
                              AND NOT before ?| ARRAY['key', 'raw_key', 'api_key', 'hashed_password', 'password',
                                                      'token', 'access_token']),
    after        jsonb CHECK (jsonb_typeof(after) = 'object'
                              AND NOT after ?| ARRAY['key', 'raw_key', 'api_key', 'hashed_password', 'password',
                                                     'token', 'access_token']),
    request_id   text
);
CREATE INDEX admin_audit_log_time_idx ON admin_audit_log (occurred_at DESC, id DESC);
CREATE INDEX admin_audit_log_target_idx ON admin_audit_log (target_type, target_id, occurred_at DESC);
CREATE INDEX admin_audit_log_developer_idx ON admin_audit_log (developer_id, occurred_at DESC)
    WHERE developer_id IS NOT NULL;
CREATE INDEX admin_audit_log_admin_idx ON admin_audit_log (admin_id, occurred_at DESC);
CREATE INDEX admin_audit_log_action_idx ON admin_audit_log (action, occurred_at DESC);

-- When an admin (or a reissue) last changed the key's status.
ALTER TABLE api_keys ADD COLUMN status_changed_at timestamptz;
-- The keys table's sort orders. Only columns the admission statement never writes are indexed: indexing
-- total_count or last_used_at would turn every admitted request's UPDATE into a non-HOT one that writes every
-- index of the table. Those sorts read the whole (small) table instead.
CREATE INDEX api_keys_created_idx ON api_keys (created_at DESC, id DESC);

-- Developers: search by name or email (substring, trigram), newest first, signups per day.
CREATE INDEX users_search_trgm_idx ON users USING gin ((lower(email::text || ' ' || name)) gin_trgm_ops);
CREATE INDEX users_created_idx ON users (created_at DESC, id DESC);

-- The request log, newest first and by time range (the admin's request table and its CSV export). The BRIN index
-- of 0001 finds a range but cannot return rows in order; a top-N by time over a month would sort the whole month.
CREATE INDEX usage_logs_time_desc_idx ON usage_logs ("timestamp" DESC, id DESC);

-- The admin analytics read days, never the log: usage_daily counts every request (usage_logs keeps only the first
-- few refusals per key and minute), but it has a row per key, day and endpoint, too many to sum over 90 days for
-- every page view. Closed days are summed once into usage_day_totals (per endpoint) and usage_daily_active
-- (distinct developers and keys, which do not add up across days); days from usage_rollup_state.open_from on are
-- read live from usage_daily (today alone while the rollup keeps up), so the figures are exact either way.
CREATE TABLE usage_day_totals (
    day           date NOT NULL,
    endpoint      text NOT NULL,
    requests      bigint NOT NULL,   -- every request: admitted (free 304s included) and refused
    ok            bigint NOT NULL,   -- 2xx and 3xx
    client_errors bigint NOT NULL,   -- 4xx other than 429, refusals by key status included
    limited       bigint NOT NULL,   -- 429
    server_errors bigint NOT NULL,   -- 5xx
    PRIMARY KEY (day, endpoint)
);

CREATE TABLE usage_daily_active (
    day        date PRIMARY KEY,
    developers integer NOT NULL,   -- with at least one admitted request that day (a free 304 is one)
    keys       integer NOT NULL
);

CREATE TABLE usage_rollup_state (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    open_from  date NOT NULL,      -- the first UTC day not rolled up yet
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO usage_rollup_state (open_from)
SELECT coalesce(min(day), (now() AT TIME ZONE 'UTC')::date) FROM usage_daily;

-- Closes the days from open_from to the last one that ended `grace` ago, at most `max_days` of them (NULL: no cap);
-- returns the new open_from, or NULL when another session is rolling up right now. The grace covers requests of a
-- day's last seconds whose outcome is corrected when their response is known (the functions time out in seconds).
-- Run by the daily schedule and by the analytics reads.
CREATE OR REPLACE FUNCTION marquee_roll_up_usage(max_days integer DEFAULT NULL, grace interval DEFAULT '10 minutes')
RETURNS date
LANGUAGE plpgsql AS $$
DECLARE
    done_to date;
    target date := ((now() - grace) AT TIME ZONE 'UTC')::date;
BEGIN
    SELECT open_from INTO done_to FROM usage_rollup_state FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF max_days IS NOT NULL THEN
        target := least(target, done_to + max_days);
    END IF;
    IF target <= done_to THEN
        RETURN done_to;
    END IF;
    INSERT INTO usage_day_totals AS t (day, endpoint, requests, ok, client_errors, limited, server_errors)
    SELECT day, endpoint, sum(requests + rejected + not_modified), sum(ok), sum(client_errors), sum(limited),
           sum(server_errors)
    FROM usage_daily
    WHERE day >= done_to AND day < target
    GROUP BY day, endpoint
    ON CONFLICT (day, endpoint) DO UPDATE SET
        requests = excluded.requests, ok = excluded.ok, client_errors = excluded.client_errors,
        limited = excluded.limited, server_errors = excluded.server_errors;
    INSERT INTO usage_daily_active AS a (day, developers, keys)
    SELECT d.day, count(DISTINCT k.owner_id), count(DISTINCT d.api_key_id)
    FROM usage_daily d JOIN api_keys k ON k.id = d.api_key_id
    WHERE d.day >= done_to AND d.day < target AND d.requests + d.not_modified > 0
    GROUP BY d.day
    ON CONFLICT (day) DO UPDATE SET developers = excluded.developers, keys = excluded.keys;
    UPDATE usage_rollup_state SET open_from = target, updated_at = now();
    RETURN target;
END $$;
-- What is counted already (a database migrated with traffic behind it) is rolled up now, not by the first read.
SELECT marquee_roll_up_usage(NULL);

-- Text cells of the CSV exports: a cell a spreadsheet would read as a formula (=, +, -, @, tab or CR first) gets a
-- leading apostrophe (OWASP's advice on CSV injection); developer names and emails are user input.
CREATE OR REPLACE FUNCTION marquee_csv_text(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN CASE WHEN value ~ '^[=+@\t\r-]' THEN '''' || value ELSE value END;
