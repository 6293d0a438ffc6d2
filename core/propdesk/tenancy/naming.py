"""Slugs and schema names. Schema names only ever come from here, validated."""

from __future__ import annotations

import re

SLUG_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
_SLUG = re.compile(SLUG_PATTERN)
SCHEMA_PREFIX = "t_"
SHARED_SCHEMA = "propdesk"


def is_valid_slug(slug: str) -> bool:
    return bool(_SLUG.fullmatch(slug))


def schema_for(slug: str) -> str:
    """The tenant schema of ``slug``; raises ``ValueError`` for an unsafe slug."""
    if not is_valid_slug(slug):
        raise ValueError(
            f"tenant slug {slug!r} is not a safe identifier: use 2-40 lowercase letters, "
            "digits or underscores, starting with a letter"
        )
    return SCHEMA_PREFIX + slug


def quote_schema(schema: str) -> str:
    """Quote a schema name produced by ``schema_for`` (or the shared one) for DDL."""
    if schema != SHARED_SCHEMA and not (
        schema.startswith(SCHEMA_PREFIX) and is_valid_slug(schema[len(SCHEMA_PREFIX) :])
    ):
        raise ValueError(f"refusing unsafe schema name {schema!r}")
    return f'"{schema}"'
