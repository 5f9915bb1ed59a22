-- A deleted key keeps its history. usage_logs and usage_daily name keys by id with no foreign key, so their rows
-- outlive the key; but every read that needs the key's owner (the overview's active developers and keys, the
-- rollup of closed days, the request log's owner column and owner filter, a developer's usage and timeline) joined
-- api_keys, so deleting a key took its traffic away from its developer and from today's, the window's and the
-- not yet closed days' counts. Now a deleted key leaves a row in deleted_api_keys (a trigger: whatever deletes it),
-- and those reads join issued_api_keys, every key ever issued. api_keys itself keeps only keys that exist, so the
-- admission, the authorizer's check and every admin list still cannot see a deleted key.
--
-- The overview's cost does not change in kind: its headline counts over issued_api_keys (api_keys plus the
-- tombstones, two small tables, as before one), the closed days still come from usage_daily_active, and the days
-- read live still join usage_daily to keys by primary key (now an index scan into each of the two tables).

CREATE TABLE deleted_api_keys (
    id                bigint PRIMARY KEY,   -- the id it had in api_keys, which usage_logs and usage_daily still name
    owner_id          bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last4             text NOT NULL,
    plan              text NOT NULL,        -- as it was when deleted (no foreign key: plans may go later)
    status            text NOT NULL,        -- as it was when deleted
    usage_count       integer NOT NULL,     -- admitted during usage_day: a developer's requests today stay theirs
    usage_day         date NOT NULL,
    total_count       bigint NOT NULL,
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz,
    last_used_at      timestamptz,
    status_changed_at timestamptz,
    deleted_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deleted_api_keys_owner_idx ON deleted_api_keys (owner_id);

CREATE OR REPLACE FUNCTION marquee_keep_deleted_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- A key deleted with its account (users' ON DELETE CASCADE) leaves nothing behind: the owner is gone too.
    IF EXISTS (SELECT 1 FROM users WHERE id = OLD.owner_id) THEN
        INSERT INTO deleted_api_keys (id, owner_id, last4, plan, status, usage_count, usage_day, total_count,
                                      created_at, expires_at, last_used_at, status_changed_at)
        VALUES (OLD.id, OLD.owner_id, OLD.last4, OLD.plan, OLD.status, OLD.usage_count, OLD.usage_day,
                OLD.total_count, OLD.created_at, OLD.expires_at, OLD.last_used_at, OLD.status_changed_at)
        ON CONFLICT (id) DO NOTHING;
    END IF;
    RETURN OLD;
END $$;

CREATE TRIGGER api_keys_keep_deleted BEFORE DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION marquee_keep_deleted_key();

-- Every key ever issued: those that exist (deleted_at NULL) and the deleted ones. For history; never for a decision.
CREATE VIEW issued_api_keys AS
SELECT id, owner_id, last4, plan, status, usage_count, usage_day, total_count, created_at, last_used_at,
       status_changed_at, NULL::timestamptz AS deleted_at
FROM api_keys
UNION ALL
SELECT id, owner_id, last4, plan, status, usage_count, usage_day, total_count, created_at, last_used_at,
       status_changed_at, deleted_at
FROM deleted_api_keys;

-- A reissue request names the key it replaces and the key it gave; the foreign keys set those to NULL when a key
-- was deleted, which lost which key a request was about. Ids now stay, as in usage_logs (issued_api_keys has them).
ALTER TABLE key_requests DROP CONSTRAINT IF EXISTS key_requests_api_key_id_fkey;
ALTER TABLE key_requests DROP CONSTRAINT IF EXISTS key_requests_new_api_key_id_fkey;

-- Revoking a developer's other keys when they reveal a reissued one did not record when (status_changed_at); the
-- timeline needs the time of every revocation. Those revocations happened when a request was fulfilled.
UPDATE api_keys a SET status_changed_at = (
    SELECT min(r.fulfilled_at) FROM key_requests r
    WHERE r.user_id = a.owner_id AND r.fulfilled_at >= a.created_at
)
WHERE a.status = 'revoked' AND a.status_changed_at IS NULL;

-- The rollup of closed days counts deleted keys and their developers too.
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
    FROM usage_daily d JOIN issued_api_keys k ON k.id = d.api_key_id
    WHERE d.day >= done_to AND d.day < target AND d.requests + d.not_modified > 0
    GROUP BY d.day
    ON CONFLICT (day) DO UPDATE SET developers = excluded.developers, keys = excluded.keys;
    UPDATE usage_rollup_state SET open_from = target, updated_at = now();
    RETURN target;
END $$;
