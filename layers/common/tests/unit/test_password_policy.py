"""Password rules: minimum length, bcrypt's 72-byte ceiling, the common-password list and zxcvbn's estimate."""

from __future__ import annotations

import pytest

from movie_common.errors import PasswordLikeEmailError, PasswordTooLongError, WeakPasswordError
from movie_common.password_policy import (
    MAX_BYTES,
    MIN_LENGTH,
    check_password,
    common_passwords,
    email_core,
    email_inputs,
)


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


@pytest.mark.parametrize(
    "password",
    [
        "jane.b3gmail",  # zxcvbn alone: score 2
        "janeb3gmail.com",  # zxcvbn alone: score 3
        "janeb3@gmail",  # score 3 even with the address's pieces as user inputs
        "JaneB3-Gmail-2024",
        "jane.b3.gmail.com",
    ],
)
def test_a_password_made_from_the_email_address_is_refused_with_its_own_code(password: str) -> None:
    with pytest.raises(PasswordLikeEmailError) as refused:
        check_password(password, user_inputs=("Jane B",), email="jane.b3@gmail.com")
    assert refused.value.code == "password_like_email" and refused.value.status == 422
    assert "janeb3" in refused.value.detail and "email address" in refused.value.detail


def test_the_local_part_counts_without_its_tag_and_dots() -> None:
    with pytest.raises(PasswordLikeEmailError):
        check_password("orbit-jane-b3-2024", email="Jane.B3+news@gmail.com")
    assert email_core("Jane.B3+news@gmail.com") == "janeb3"
    assert email_inputs("Jane.B3+news@gmail.com") == [
        "jane.b3+news",
        "jane.b3",
        "janeb3+news",
        "janeb3",
        "gmail.com",
        "gmail",
        "com",
    ]


@pytest.mark.parametrize("password", ["jane-quartz-lantern-77", "b3-quartz-lantern-fjord", "velvet-orbit-canyon-42"])
def test_a_strong_password_sharing_a_short_fragment_of_the_address_passes(password: str) -> None:
    check_password(password, user_inputs=("Jane B",), email="jane.b3@gmail.com")


def test_a_local_part_under_four_characters_is_not_a_fragment_to_refuse() -> None:
    check_password("velvet-ann-orbit-canyon", email="ann@gmail.com")
    with pytest.raises(WeakPasswordError):
        check_password("ann@gmail.com", email="ann@gmail.com")  # zxcvbn still knows the address
