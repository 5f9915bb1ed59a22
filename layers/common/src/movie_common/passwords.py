"""Password hashing with bcrypt, for developer and admin accounts (imported only by the functions that log in)."""

from __future__ import annotations

import bcrypt

BCRYPT_ROUNDS = 12
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further; longer passwords are refused rather than silently cut

# Checked against when an account does not exist, so that a login takes as long either way (a constant: hashing
# it at import would add a quarter second to every cold start).
_DUMMY_HASH = "$2b$12$lCMFComlZvQ75BBR6sZjc.B2vNev/SiIw3wgJGQDHMfdOtTRuNODO"


def hash_password(plain: str, *, rounds: int = BCRYPT_ROUNDS) -> str:
    """The bcrypt hash (`$2b$…`, 60 characters) of a password; ValueError when it is over 72 bytes in UTF-8."""
    encoded = plain.encode()
    if len(encoded) > MAX_PASSWORD_BYTES:
        raise ValueError(f"passwords longer than {MAX_PASSWORD_BYTES} bytes are not supported")
    return bcrypt.hashpw(encoded, bcrypt.gensalt(rounds)).decode()


def verify_password(plain: str, hashed: str | None) -> bool:
    """Whether `plain` matches `hashed`; with no hash (no such account, or none set) it still spends the same
    bcrypt time and answers False."""
    encoded = plain.encode()
    if hashed is None or len(encoded) > MAX_PASSWORD_BYTES:
        bcrypt.checkpw(b"marquee-no-such-account", _DUMMY_HASH.encode())
        return False
    try:
        return bcrypt.checkpw(encoded, hashed.encode())
    except ValueError:  # not a bcrypt hash
        return False
