"""Alembic, run programmatically: one tree for the shared schema, one for every tenant schema.

Plugins add folders of revisions (their own branches) through ``propdesk_register_migrations``;
they are upgraded together with the core's (target ``heads``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from propdesk.tenancy.naming import SHARED_SCHEMA, quote_schema

Scope = Literal["shared", "tenant"]
_TREES = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class MigrationLocation:
    """A folder of Alembic revisions for the shared schema or for every tenant schema.

    The first revision of a plugin's folder has ``down_revision = None`` and
    ``branch_labels = ("<plugin name>",)``; it may ``depends_on`` a core revision.
    """

    scope: Scope
    path: Path


def _config(scope: Scope, extra: list[MigrationLocation]) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_TREES / scope))
    locations = [str(_TREES / scope / "versions")]
    locations += [str(loc.path) for loc in extra if loc.scope == scope]
    config.set_main_option("version_locations", " ".join(locations))
    config.set_main_option("path_separator", "space")
    return config


def _heads(sync_conn: Connection, schema: str) -> tuple[str, ...]:
    context = MigrationContext.configure(sync_conn, opts={"version_table_schema": schema})
    return tuple(sorted(context.get_current_heads()))


def _upgrade(sync_conn: Connection, config: Config, schema: str) -> tuple[str, ...]:
    config.attributes["connection"] = sync_conn
    config.attributes["schema"] = schema
    before = _heads(sync_conn, schema)
    command.upgrade(config, "heads")
    after = _heads(sync_conn, schema)
    return () if after == before else after


async def upgrade_shared(conn: AsyncConnection, extra: list[MigrationLocation]) -> tuple[str, ...]:
    """Migrate the shared schema inside the caller's transaction; return new heads if any."""
    await conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quote_schema(SHARED_SCHEMA)}")
    config = _config("shared", extra)
    return await conn.run_sync(_upgrade, config, SHARED_SCHEMA)


async def upgrade_tenant(
    conn: AsyncConnection, schema: str, extra: list[MigrationLocation]
) -> tuple[str, ...]:
    """Migrate one tenant schema inside the caller's transaction; return new heads if any."""
    await conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quote_schema(schema)}")
    config = _config("tenant", extra)
    heads = await conn.run_sync(_upgrade, config, schema)
    await conn.exec_driver_sql("SET LOCAL search_path TO ''")
    return heads


async def pending(conn: AsyncConnection, scope: Scope, schema: str, extra: Any = ()) -> bool:
    """Whether ``schema`` is behind the newest revisions of its tree."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config(scope, list(extra)))
    current = await conn.run_sync(_heads, schema)
    return set(current) != set(script.get_heads())
