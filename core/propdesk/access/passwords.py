"""Staff passwords, hashed with Argon2id (argon2-cffi) and never stored in clear."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

#: Shorter passwords are refused when a staff user is created or changes password.
MIN_PASSWORD_LENGTH = 12


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # argon2-cffi's defaults follow RFC 9106's second recommended option (Argon2id).
    return PasswordHasher()


def hash_password(password: str) -> str:
    """An encoded Argon2id hash (``$argon2id$v=19$...``) with its own random salt."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; a malformed hash never matches."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's (rehash on next login)."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against when the e-mail is unknown, so timing does not reveal users."""
    return hash_password("not a real password: timing equaliser")


def password_problem(password: str) -> str | None:
    """Why ``password`` is not acceptable for a staff account, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"use at least {MIN_PASSWORD_LENGTH} characters"
    if password.strip() != password:
        return "remove leading or trailing spaces"
    return None
