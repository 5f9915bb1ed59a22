"""People's names as accounts store them: the developer sign-up's and the admin's "issue a key to a named owner"."""

from __future__ import annotations

import unicodedata


def clean_name(name: str, *, max_chars: int) -> str | None:
    """The name with whitespace runs made one space and its ends trimmed; None when nothing is left, when it is
    longer than `max_chars`, or when it holds a character of Unicode's "Other" categories (controls, format
    characters such as the bidirectional overrides U+202A-U+202E and U+2066-U+2069, with which `Bob ` + U+202E +
    `evil` displays as `Bob live`, private-use or unassigned code points)."""
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > max_chars or any(unicodedata.category(c).startswith("C") for c in cleaned):
        return None
    return cleaned
