"""Opaque secrets for API tokens and browser sessions.

Only the SHA-256 of a secret is stored; the secret is shown once. A SHA-256 (not a slow
password hash) is right here: the secrets are 256 random bits, so lookup by hash is safe.
"""

from __future__ import annotations

import hashlib
import secrets

#: API tokens start with this, so they are recognisable in logs and by secret scanners.
TOKEN_PREFIX = "pdk_"  # noqa: S105 (a prefix, not a secret)
_ENTROPY_BYTES = 32


def new_api_token() -> str:
    """A fresh API token, ``pdk_`` followed by 43 URL-safe characters."""
    return TOKEN_PREFIX + secrets.token_urlsafe(_ENTROPY_BYTES)


def new_session_secret() -> str:
    """A fresh browser-session cookie value."""
    return secrets.token_urlsafe(_ENTROPY_BYTES)


def looks_like_api_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX) and len(value) > len(TOKEN_PREFIX) + 16


def secret_hash(secret: str) -> str:
    """The hex SHA-256 under which a token or session is stored and looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()
