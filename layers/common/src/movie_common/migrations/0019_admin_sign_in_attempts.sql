-- The admin sign-in lockout now runs on the developers' mechanism (movie_common.attempt_limits.SignInLockout): its
-- failures are counted in auth_attempts, per email *as typed* whether or not an admin has it, under the scopes
-- `admin_login_failure_address` (subject "<email>|<address>") and `admin_login_failure_account` (subject "<email>",
-- the email lower-cased). Until now they were counted on the admin's rows (admins, admin_login_addresses, 0015), so
-- an unknown email was never locked: from one address the sixth wrong attempt answered 429 for an admin's email and
-- 401 for anyone else's, which told a prober who is an admin. admin_login_addresses keeps the known addresses
-- (last_login_at); the failure columns below are no longer read or written (a later migration can drop them, once no
-- function of the previous release runs).
--
-- Carry the state over, so that a deploy neither lifts a lock in force nor forgets the failures counted so far.
-- A lock in force: a locked row whose count starts afresh (what attempt_limits.lock writes).
INSERT INTO auth_attempts (scope, subject, window_start, attempts, locked_until)
SELECT 'admin_login_failure_account', lower(email::text), now(), 0, locked_until
FROM admins WHERE locked_until > now()
ON CONFLICT (scope, subject) DO NOTHING;

INSERT INTO auth_attempts (scope, subject, window_start, attempts, locked_until)
SELECT 'admin_login_failure_address', lower(a.email::text) || '|' || l.address, now(), 0, l.locked_until
FROM admin_login_addresses l JOIN admins a ON a.id = l.admin_id
WHERE l.locked_until > now()
ON CONFLICT (scope, subject) DO NOTHING;

-- Failures with no lock: counted from the latest one (a later window start than the first failure's, so they count
-- a little longer than before, never shorter; the sign-in's window ends them).
INSERT INTO auth_attempts (scope, subject, window_start, attempts)
SELECT 'admin_login_failure_account', lower(email::text), last_failed_login_at, failed_logins
FROM admins WHERE locked_until IS NULL AND failed_logins > 0 AND last_failed_login_at IS NOT NULL
ON CONFLICT (scope, subject) DO NOTHING;

INSERT INTO auth_attempts (scope, subject, window_start, attempts)
SELECT 'admin_login_failure_address', lower(a.email::text) || '|' || l.address, l.last_failed_login_at,
       l.failed_logins
FROM admin_login_addresses l JOIN admins a ON a.id = l.admin_id
WHERE l.locked_until IS NULL AND l.failed_logins > 0 AND l.last_failed_login_at IS NOT NULL
ON CONFLICT (scope, subject) DO NOTHING;

COMMENT ON COLUMN admins.failed_logins IS 'unused since 0019: admin sign-in failures are in auth_attempts';
COMMENT ON COLUMN admins.last_failed_login_at IS 'unused since 0019: admin sign-in failures are in auth_attempts';
COMMENT ON COLUMN admins.locked_until IS 'unused since 0019: admin sign-in locks are kept in auth_attempts';
COMMENT ON COLUMN admin_login_addresses.failed_logins IS 'unused since 0019: see auth_attempts';
COMMENT ON COLUMN admin_login_addresses.last_failed_login_at IS 'unused since 0019: see auth_attempts';
COMMENT ON COLUMN admin_login_addresses.locked_until IS 'unused since 0019: see auth_attempts';
