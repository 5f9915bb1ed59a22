-- Developer sign-in failures are counted per account *and* client address (README, "Limits"), as the admins' are
-- since 0015. Until now five wrong passwords from anywhere locked the account for every address, so anyone who knew
-- a developer's email could keep that developer out of the portal, over and over. Now (movie_auth.accounts.login):
--   * failures from one address lock the account for that address only (LOGIN_LOCKOUT, counted in auth_attempts
--     under `login_failure_address`, subject "<canonical email>|<address>");
--   * failures from all addresses together (LOGIN_ACCOUNT_LOCKOUT) and the per-account attempt limit
--     (LOGIN_PER_ACCOUNT) refuse only addresses this developer has not signed in from within 90 days.
-- auth_attempts rows are purged two days after their window, so the known addresses live here: a row per account and
-- address, written by a sign-in (or an email confirmation or password reset, which prove the same) from it.
CREATE TABLE developer_login_addresses (
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address       text NOT NULL,         -- the client address API Gateway saw (sourceIp)
    last_login_at timestamptz NOT NULL,  -- the latest success from here: known while within 90 days
    PRIMARY KEY (user_id, address)
);
