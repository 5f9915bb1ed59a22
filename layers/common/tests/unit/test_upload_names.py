"""The admin upload's file names (movie_common.ingest_uploads): readable in any script, safe in an S3 key, a local
file name and a download's Content-Disposition."""

from __future__ import annotations

import pytest

from movie_common.ingest_uploads import MAX_FILE_NAME_BYTES, attachment_disposition, cut_file_name, safe_file_name


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("Søren.csv", "Søren.csv"),  # used to lose its ø: `Sren.csv`
        ("Ærø æble ß łódź.csv", "Ærø æble ß łódź.csv"),
        ("東京物語 1953.csv", "東京物語 1953.csv"),
        ("Ψυχώ.tsv.gz", "Ψυχώ.tsv.gz"),
        ("C:\\Users\\me\\Mes Films été.csv", "Mes Films été.csv"),  # a Windows browser's full path: the last part
        ("Se\u0301ance.csv", "Séance.csv"),  # decomposed (as macOS writes names) becomes NFC
        (
            "\u0645\u0647\u0631\u200c\u0633\u0627\u0646.csv",
            "\u0645\u0647\u0631\u200c\u0633\u0627\u0646.csv",
        ),  # the zero-width non-joiner is part of the word
        ("Top 100 \u2013 2024.csv", "Top 100 - 2024.csv"),  # an en dash, and a no-break space, as ASCII
        ("a\u00a0b.csv", "a b.csv"),
        ("new films (v2)+extra.csv", "new films (v2)+extra.csv"),
    ],
)
def test_letters_and_digits_of_any_script_are_kept(given: str, kept: str) -> None:
    assert safe_file_name(given) == kept


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../../etc/passwd.csv", "passwd.csv"),  # path separators: only the last part
        ("..\\..\\x.csv", "x.csv"),
        ("a..b...csv", "a.b.csv"),  # no `..` anywhere
        (".hidden.csv", "hidden.csv"),  # no leading dot (a hidden file the drop folder skips)
        ("  .csv", "csv"),
        ("..", ""),
        ("x\x00y\x01\x7f.csv", "x_y_.csv"),  # control characters
        ("invoice\u202egpj.csv", "invoice_gpj.csv"),  # a right-to-left override (a name that reads backwards)
        ('q"uote;%#?*:<>|.csv', "q_uote_.csv"),
        ("★ films ★.csv", "_ films _.csv"),
    ],
)
def test_separators_controls_dots_and_unsafe_characters_go(given: str, safe: str) -> None:
    assert safe_file_name(given) == safe


@pytest.mark.parametrize("letter", ["a", "ø", "東"])
def test_long_names_are_cut_in_utf8_bytes_before_their_suffix(letter: str) -> None:
    name = safe_file_name(letter * 400 + ".csv.gz")
    assert name.endswith(letter + ".csv.gz") and name.startswith(letter)
    assert MAX_FILE_NAME_BYTES - 3 < len(name.encode()) <= MAX_FILE_NAME_BYTES
    assert cut_file_name("short.csv", 20) == "short.csv"
    assert cut_file_name("ab東京.csv", 8) == "ab.csv"  # never half a character
    assert cut_file_name("ab東京.csv", 9) == "ab東.csv"


def test_a_download_name_has_an_ascii_fallback_and_the_utf8_name() -> None:
    assert attachment_disposition("job-1.errors.csv") == 'attachment; filename="job-1.errors.csv"'
    assert attachment_disposition("Søren Café.job-3.errors.csv") == (
        "attachment; filename=\"S_ren Cafe.job-3.errors.csv\"; filename*=UTF-8''S%C3%B8ren%20Caf%C3%A9.job-3.errors.csv"
    )
    assert (
        attachment_disposition("東京.csv") == "attachment; filename=\"_.csv\"; filename*=UTF-8''%E6%9D%B1%E4%BA%AC.csv"
    )
