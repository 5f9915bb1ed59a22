"""bcrypt password hashing (no database)."""

from __future__ import annotations

import pytest

from movie_common.passwords import MAX_PASSWORD_BYTES, hash_password, verify_password


def test_a_hash_verifies_its_password_only() -> None:
    hashed = hash_password("correct horse battery staple", rounds=4)
    assert hashed.startswith("$2b$04$") and len(hashed) == 60
    assert "correct horse" not in hashed
    assert verify_password("correct horse battery staple", hashed)
    assert not verify_password("correct horse battery stapl", hashed)


def test_the_same_password_hashes_differently_each_time() -> None:
    assert hash_password("same password", rounds=4) != hash_password("same password", rounds=4)


def test_unicode_passwords_work() -> None:
    hashed = hash_password("pässwörd-密码", rounds=4)
    assert verify_password("pässwörd-密码", hashed) and not verify_password("passwort-密码", hashed)


@pytest.mark.slow
def test_passwords_past_bcrypts_72_bytes_are_refused_not_truncated() -> None:
    with pytest.raises(ValueError, match="72 bytes"):
        hash_password("x" * (MAX_PASSWORD_BYTES + 1), rounds=4)
    hashed = hash_password("x" * MAX_PASSWORD_BYTES, rounds=4)
    assert not verify_password("x" * MAX_PASSWORD_BYTES + "y", hashed)


@pytest.mark.slow
def test_no_hash_or_a_foreign_one_never_verifies() -> None:
    assert not verify_password("anything", None)
    assert not verify_password("anything", "not-a-bcrypt-hash")
