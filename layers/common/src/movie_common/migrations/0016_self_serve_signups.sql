-- When an account signed itself up through the portal's sign-up form (NULL: an account named by an admin, by
-- `marquee create-key --owner`, or the local stack's demo@localhost). The admin overview's "Signups" counts these
-- per day, and how many of them have confirmed their address since; it counted every users row before.

ALTER TABLE users ADD COLUMN signed_up_at timestamptz;

-- Accounts from before: a self-serve sign-up is sent a confirmation link (email_verifications), an account named by
-- an admin or the CLI is made verified and is never sent one; an unverified account with a password can only have
-- come from the sign-up form too.
UPDATE users u SET signed_up_at = u.created_at
WHERE EXISTS (SELECT 1 FROM email_verifications v WHERE v.user_id = u.id)
   OR (NOT u.verified AND u.hashed_password IS NOT NULL);

CREATE INDEX users_signed_up_at_idx ON users (signed_up_at) WHERE signed_up_at IS NOT NULL;
