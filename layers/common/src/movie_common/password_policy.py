"""The password rules for developer accounts: length, the common-password list, not made from the account's email
address, and a guessability estimate (zxcvbn).

zxcvbn is imported when first used and ships with the functions that call this module (functions/auth)."""

from __future__ import annotations

import functools
import re

from movie_common.errors import PasswordLikeEmailError, PasswordTooLongError, WeakPasswordError

MIN_LENGTH = 10
# bcrypt reads at most 72 bytes; a longer password would be silently cut (and bcrypt 5 refuses it outright).
MAX_BYTES = 72
# zxcvbn's score: 0-1 fall to an online attack (under 10^6 guesses), 2 needs ~10^8, 3 ~10^10, 4 more.
MIN_SCORE = 2
# A local part this short ("ann", "jo") is too common a fragment to refuse every password that contains it.
MIN_LOCAL_PART = 4
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def _squeezed(text: str) -> str:
    """Lower case with everything but ASCII letters and digits removed: `Jane.B3+x` -> `janeb3x`."""
    return _NOT_ALNUM.sub("", text.lower())


def email_inputs(email: str) -> list[str]:
    """What an attacker who knows the address would try, for zxcvbn's user inputs: the local part with and without
    its dots and its `+tag`, the domain and each of its labels (`jane.b3+news@gmail.com` -> `jane.b3+news`,
    `jane.b3`, `janeb3news`, `janeb3`, `gmail.com`, `gmail`, `com`)."""
    local, _, domain = email.strip().lower().rpartition("@")
    if not local:
        local, domain = domain, ""
    untagged = local.split("+", 1)[0]
    candidates = [local, untagged, local.replace(".", ""), untagged.replace(".", ""), _squeezed(untagged)]
    if domain:
        candidates += [domain, *domain.split(".")]
    return list(dict.fromkeys(c for c in candidates if c))


def email_core(email: str) -> str:
    """The address's local part without its `+tag`, dots or other punctuation (`Jane.B3+news@gmail.com` ->
    `janeb3`): the part that, in a password, makes it the address."""
    local = email.strip().lower().rpartition("@")[0] or email.strip().lower()
    return _squeezed(local.split("+", 1)[0])


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords (lower case) from zxcvbn's frequency lists (Dropbox's maintained package,
    built from leaked-password corpora); loaded on first use."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def check_password(password: str, *, user_inputs: tuple[str, ...] = (), email: str | None = None) -> None:
    """Accept a new password or raise WeakPasswordError (shorter than MIN_LENGTH characters, a common password,
    or easy to guess: zxcvbn score below MIN_SCORE, counting `user_inputs` such as the name, and the pieces of
    `email` (email_inputs), as known to an attacker), PasswordLikeEmailError (the password, lower-cased with
    everything but letters and digits removed, contains the address's local part without dots or tag, when that
    has at least MIN_LOCAL_PART characters: `jane.b3gmail` for jane.b3@gmail.com) or PasswordTooLongError (over
    MAX_BYTES bytes of UTF-8). The detail says what to change."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"Use at least {MIN_LENGTH} characters.")
    if len(password.encode()) > MAX_BYTES:
        raise PasswordTooLongError(f"Use at most {MAX_BYTES} bytes (about {MAX_BYTES} plain characters).")
    if password.lower() in common_passwords() or password.strip().lower() in common_passwords():
        raise WeakPasswordError("This is one of the most common passwords; choose one that nobody else uses.")
    if email:
        core = email_core(email)
        if len(core) >= MIN_LOCAL_PART and core in _squeezed(password):
            raise PasswordLikeEmailError(
                f"This password is made from your email address (it contains “{core}”), the first thing anyone "
                "who knows the address would try. Choose one without it."
            )
    from zxcvbn import zxcvbn

    inputs = [part for value in user_inputs for part in (value, *value.replace("@", " ").split()) if part]
    if email:
        inputs += email_inputs(email)
    estimate = zxcvbn(password, user_inputs=inputs)
    if estimate["score"] < MIN_SCORE:
        feedback = estimate["feedback"]
        hints = [feedback.get("warning") or "", *feedback.get("suggestions", [])]
        reason = " ".join(h if h.endswith(".") else h + "." for h in hints if h)
        raise WeakPasswordError(f"This password is easy to guess. {reason or 'Add a few more uncommon words.'}")
