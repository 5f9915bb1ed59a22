-- Developer accounts (issue 8): email verification and password-reset tokens (hashes only), key reissue requests,
-- attempt counters for the portal's per-IP / per-account limits and lockouts, and login bookkeeping on users.

ALTER TABLE users
    ADD COLUMN verified_at         timestamptz,
    ADD COLUMN password_changed_at timestamptz,
    ADD COLUMN last_login_at       timestamptz;

-- One row per link sent. `token` is the SHA-256 of the random token in the link; the raw token exists only in the
-- email. A token is single-use (used_at) and expires 24 h after it was sent; verifying spends every token of the user.
CREATE TABLE email_verifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token      bytea NOT NULL UNIQUE CHECK (octet_length(token) = 32),
    email      citext NOT NULL,                 -- the address the link was sent to
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX email_verifications_user_idx ON email_verifications (user_id, created_at DESC);

-- Same rules for password resets: hash only, single use, short expiry; a new request or a completed reset spends
-- the user's other outstanding tokens.
CREATE TABLE password_resets (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token      bytea NOT NULL UNIQUE CHECK (octet_length(token) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id, created_at DESC);

-- A developer who lost a key asks for a new one with a reason; an admin approves or denies it. On approval the
-- developer reveals the new key once (fulfilled_at, new_api_key_id) and the old key is revoked in the same
-- transaction: the raw key is never stored, not even for the admin.
CREATE TABLE key_requests (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    api_key_id     bigint REFERENCES api_keys (id) ON DELETE SET NULL,   -- the key to replace
    reason         text NOT NULL CHECK (char_length(btrim(reason)) BETWEEN 1 AND 1000),
    status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    decided_at     timestamptz,
    decided_by     bigint,          -- the admin's id; no foreign key: the decision outlives the admin account
    decision_note  text CHECK (char_length(decision_note) <= 1000),
    fulfilled_at   timestamptz,
    new_api_key_id bigint REFERENCES api_keys (id) ON DELETE SET NULL,
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK (fulfilled_at IS NULL OR status = 'approved')
);
-- At most one open request per developer: pending, or approved and not yet revealed.
CREATE UNIQUE INDEX key_requests_one_open_idx ON key_requests (user_id)
    WHERE status = 'pending' OR (status = 'approved' AND fulfilled_at IS NULL);
CREATE INDEX key_requests_status_idx ON key_requests (status, created_at);
CREATE INDEX key_requests_user_idx ON key_requests (user_id, created_at DESC);

-- Fixed-window counters for the portal's limits: `scope` names the limit (signup_ip, login_ip, login_failure, …),
-- `subject` is what it counts (a client IP or a canonical email). A lockout sets locked_until. Counting is one
-- upsert per attempt; rows whose window and lock are long over are deleted by purge_auth_attempts.
CREATE TABLE auth_attempts (
    scope        text NOT NULL,
    subject      text NOT NULL,
    window_start timestamptz NOT NULL DEFAULT now(),
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    locked_until timestamptz,
    PRIMARY KEY (scope, subject)
);
CREATE INDEX auth_attempts_window_idx ON auth_attempts (window_start);

-- The developer's request log shows the method (the API answers GET and HEAD).
ALTER TABLE usage_logs ADD COLUMN method text NOT NULL DEFAULT 'GET';

-- The daily rollup split by outcome, for the dashboard's chart: 2xx/3xx, 4xx other than 429 (refusals by key
-- status included), 429, 5xx. The admission counts a request as ok and record_status moves it once the response
-- is known. requests/rejected stay as they were (admitted vs refused).
ALTER TABLE usage_daily
    ADD COLUMN ok            integer NOT NULL DEFAULT 0,
    ADD COLUMN client_errors integer NOT NULL DEFAULT 0,
    ADD COLUMN limited       integer NOT NULL DEFAULT 0,
    ADD COLUMN server_errors integer NOT NULL DEFAULT 0;
-- Rows from before the split: admitted requests count as 2xx and refusals as 429 (the usual refusal).
UPDATE usage_daily SET ok = requests, limited = rejected;
