"""Random single-use tokens for emailed links (verification, password reset): the raw value goes in the link,
only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import re
import secrets

from movie_common.errors import InvalidTokenError

TOKEN_BYTES = 32  # 256 bits from the OS's CSPRNG: guessing is hopeless, so no per-token attempt counter is needed
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # token_urlsafe(32): 43 base64url characters, no padding


def new_token() -> tuple[str, bytes]:
    """(raw token for the link, its SHA-256 digest for the database)."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    return raw, hash_token(raw)


def hash_token(raw: str) -> bytes:
    """SHA-256 of a token as it came back from a link; InvalidTokenError if it cannot be one of ours (cut or
    mangled by a mail client), so a bad link never reaches the database."""
    token = raw.strip()
    if not _SHAPE.match(token):
        raise InvalidTokenError(
            "This link is incomplete or damaged; open it again from the email, or ask for a new one."
        )
    return hashlib.sha256(token.encode()).digest()
