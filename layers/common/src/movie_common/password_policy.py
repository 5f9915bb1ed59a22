"""The password rules for developer accounts: length, the common-password list and a guessability estimate (zxcvbn).

zxcvbn is imported when first used and ships with the functions that call this module (functions/auth)."""

from __future__ import annotations

import functools

from movie_common.errors import PasswordTooLongError, WeakPasswordError

MIN_LENGTH = 10
# bcrypt reads at most 72 bytes; a longer password would be silently cut (and bcrypt 5 refuses it outright).
MAX_BYTES = 72
# zxcvbn's score: 0-1 fall to an online attack (under 10^6 guesses), 2 needs ~10^8, 3 ~10^10, 4 more.
MIN_SCORE = 2


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords (lower case) from zxcvbn's frequency lists (Dropbox's maintained package,
    built from leaked-password corpora); loaded on first use."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def check_password(password: str, *, user_inputs: tuple[str, ...] = ()) -> None:
    """Accept a new password or raise WeakPasswordError (shorter than MIN_LENGTH characters, a common password,
    or easy to guess: zxcvbn score below MIN_SCORE, counting `user_inputs` such as the name and email as known
    to an attacker) or PasswordTooLongError (over MAX_BYTES bytes of UTF-8). The detail says what to change."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"Use at least {MIN_LENGTH} characters.")
    if len(password.encode()) > MAX_BYTES:
        raise PasswordTooLongError(f"Use at most {MAX_BYTES} bytes (about {MAX_BYTES} plain characters).")
    if password.lower() in common_passwords() or password.strip().lower() in common_passwords():
        raise WeakPasswordError("This is one of the most common passwords; choose one that nobody else uses.")
    from zxcvbn import zxcvbn

    inputs = [part for value in user_inputs for part in (value, *value.replace("@", " ").split()) if part]
    estimate = zxcvbn(password, user_inputs=inputs)
    if estimate["score"] < MIN_SCORE:
        feedback = estimate["feedback"]
        hints = [feedback.get("warning") or "", *feedback.get("suggestions", [])]
        reason = " ".join(h if h.endswith(".") else h + "." for h in hints if h)
        raise WeakPasswordError(f"This password is easy to guess. {reason or 'Add a few more uncommon words.'}")
