-- Admin sign-in failures are counted per account *and* client address (README, "Admin accounts"). Until now they
-- were counted per account only, so anyone who knew an admin's email could keep that admin locked out by failing
-- logins from anywhere, until an operator ran `marquee reset-admin-password`. Now:
--   * failures from one address lock the account for that address only (ADMIN_MAX_FAILED_LOGINS, as before);
--   * failures from all addresses together still lock the account (ADMIN_MAX_FAILED_LOGINS_ACCOUNT, ten times as
--     many by default, the columns of `admins` as before), but not for an address this admin signed in from within
--     the last 90 days: the admin's own desk keeps working while a distributed guesser is stopped.
-- Rows are written under the admin row's lock (movie_common.db.admins.reserve_login_attempt), so parallel guesses
-- cannot get past either count.
CREATE TABLE admin_login_addresses (
    admin_id             bigint NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    address              text NOT NULL,      -- the client address API Gateway saw (sourceIp)
    failed_logins        integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    last_failed_login_at timestamptz,
    locked_until         timestamptz,
    last_login_at        timestamptz,        -- a successful sign-in from here: a known address
    PRIMARY KEY (admin_id, address)
);
