"""Fixtures of the auth function's tests: new password hashes use bcrypt's lowest cost (4) so that the many
sign-ups stay quick; the hashes are still real bcrypt, checked by the same code (one test checks the
production cost)."""

from __future__ import annotations

import functools

import pytest

from movie_common import passwords


@pytest.fixture(autouse=True)
def quick_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    from movie_auth import accounts

    monkeypatch.setattr(accounts, "hash_password", functools.partial(passwords.hash_password, rounds=4))
