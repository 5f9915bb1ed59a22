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


_KEPT_FORMAT = frozenset("\u200c\u200d")  # the zero-width (non-)joiners: they shape Persian, Arabic and Indic words


def clean_note(text: str) -> str:
    """A note one person writes for another (a key request's reason, an admin's reason for denying it) as it is
    stored and shown: line breaks kept (CR LF and CR become LF), other whitespace runs made one space, each line
    trimmed, blank lines at the ends dropped; controls and the invisible characters of Unicode's "Other" categories
    removed (the bidirectional overrides, with which a reason could display reversed; zero-width spaces, with which it
    could look empty), except the zero-width joiners that some scripts need. "" when nothing visible is left."""
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        kept = "".join(
            " " if c.isspace() else c
            for c in line
            if c.isspace() or c in _KEPT_FORMAT or not unicodedata.category(c).startswith("C")
        )
        lines.append(" ".join(kept.split()))
    note = "\n".join(lines).strip("\n")
    return note if any(not c.isspace() and c not in _KEPT_FORMAT for c in note) else ""
