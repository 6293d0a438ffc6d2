"""Staff passwords: Argon2id hashes, wrong passwords refused, weak hashes upgraded."""

from __future__ import annotations

from argon2 import PasswordHasher

from propdesk.access.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from propdesk.access.tokens import looks_like_api_token, new_api_token, secret_hash


def test_a_password_is_stored_as_a_salted_argon2id_hash() -> None:
    first = hash_password("correct horse battery staple")
    second = hash_password("correct horse battery staple")
    assert first.startswith("$argon2id$v=19$")
    assert "correct horse" not in first
    assert first != second  # a fresh salt every time


def test_only_the_right_password_verifies() -> None:
    stored = hash_password("correct horse battery staple")
    assert verify_password(stored, "correct horse battery staple")
    assert not verify_password(stored, "correct horse battery stapler")
    assert not verify_password(stored, "")
    assert not verify_password("not-a-hash", "correct horse battery staple")


def test_a_hash_made_with_weaker_parameters_needs_rehashing() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("some password 1")
    assert verify_password(weak, "some password 1")
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password("some password 1"))


def test_short_passwords_are_refused() -> None:
    assert password_problem("short") is not None
    assert password_problem("long enough passphrase") is None


def test_api_tokens_are_random_prefixed_and_hashed_for_lookup() -> None:
    token = new_api_token()
    assert token.startswith("pdk_") and looks_like_api_token(token)
    assert token != new_api_token()
    assert len(secret_hash(token)) == 64 and token not in secret_hash(token)
