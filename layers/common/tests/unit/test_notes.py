"""movie_common.names.clean_note: the notes people write for each other (key request reasons, deny reasons)."""

from __future__ import annotations

import pytest

from movie_common.names import clean_note


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("My laptop was stolen.", "My laptop was stolen."),
        ("  Lost it.\r\n\r\nPlease reissue.  ", "Lost it.\n\nPlease reissue."),
        ("a\tb   c\rd", "a b c\nd"),
        # A right-to-left override displayed "Bob live" for "Bob evil"; isolates and embeddings too.
        ("Bob \u202eevil", "Bob evil"),
        ("\u2066x\u2069 \u202ay\u202c", "x y"),
        # Controls and zero-width spaces go; the joiners Persian and Indic words need stay.
        ("a\x00b\x1bc\u200bd\ufeff", "abcd"),
        ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"),
        # Nothing visible: empty, so the caller refuses it.
        ("\u200b\u200b", ""),
        ("\u202e \n \u200d", ""),
        ("   ", ""),
    ],
)
def test_a_note_keeps_its_lines_and_loses_what_cannot_be_seen(typed: str, stored: str) -> None:
    assert clean_note(typed) == stored
