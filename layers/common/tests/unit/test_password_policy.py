"""Password rules: minimum length, bcrypt's 72-byte ceiling, the common-password list and zxcvbn's estimate."""

from __future__ import annotations

import pytest

from movie_common.errors import PasswordTooLongError, WeakPasswordError
from movie_common.password_policy import MAX_BYTES, MIN_LENGTH, check_password, common_passwords


def test_a_long_uncommon_password_is_accepted() -> None:
    check_password("velvet-orbit-canyon-42", user_inputs=("Jane Doe", "jane.doe@gmail.com"))


def test_too_short_names_the_minimum() -> None:
    with pytest.raises(WeakPasswordError) as refused:
        check_password("x7#kQ9!")
    assert refused.value.code == "weak_password"
    assert str(MIN_LENGTH) in refused.value.detail


@pytest.mark.parametrize("password", ["password123", "1234567890", "qwertyuiop", "Password12", "iloveyou12"])
def test_common_passwords_are_refused(password: str) -> None:
    assert len(password) >= MIN_LENGTH
    with pytest.raises(WeakPasswordError) as refused:
        check_password(password)
    assert refused.value.code == "weak_password"


def test_the_common_list_comes_from_the_package_and_is_large() -> None:
    listed = common_passwords()
    assert len(listed) > 25_000
    assert {"password", "123456", "qwerty", "dragon"} <= listed


def test_a_password_made_of_the_users_own_name_and_email_is_easy_to_guess() -> None:
    with pytest.raises(WeakPasswordError) as refused:
        check_password("janedoejanedoe", user_inputs=("Jane Doe", "janedoe@gmail.com"))
    assert "easy to guess" in refused.value.detail


def test_more_than_72_bytes_is_refused_rather_than_silently_cut() -> None:
    exactly = ("kX4!velvet-orbit-canyon-mauve-tundra-pelican-quartz-ember-fjord-lantern-" + "z" * 72)[:MAX_BYTES]
    assert len(exactly.encode()) == MAX_BYTES
    check_password(exactly)
    with pytest.raises(PasswordTooLongError) as refused:
        check_password(exactly[:-1] + "é")  # 73 bytes in UTF-8, 72 characters
    assert refused.value.code == "password_too_long"
