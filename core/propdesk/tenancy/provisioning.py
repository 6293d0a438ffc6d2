"""Creating and migrating schemas: the shared one and one per tenant."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from propdesk.db.engine import Database
from propdesk.db.migrate import upgrade_shared, upgrade_tenant
from propdesk.db.roles import ensure_app_role, grant_schema
from propdesk.plugins.manager import PluginHost
from propdesk.tenancy.models import Tenant
from propdesk.tenancy.naming import SHARED_SCHEMA, quote_schema, schema_for


async def migrate_shared(db: Database, host: PluginHost) -> tuple[str, ...]:
    """Migrate the shared schema and (re)grant the application role; return new heads."""
    async with db.owner_engine.begin() as conn:
        heads = await upgrade_shared(conn, host.migrations())
        if db.app_role:
            await ensure_app_role(conn, db.app_role)
            await grant_schema(conn, SHARED_SCHEMA, db.app_role)
    return heads


async def migrate_tenant_schema(
    conn: AsyncConnection, db: Database, host: PluginHost, slug: str
) -> tuple[str, ...]:
    """Create (if needed) and migrate ``slug``'s schema inside the caller's transaction."""
    schema = schema_for(slug)
    heads = await upgrade_tenant(conn, schema, host.migrations())
    if db.app_role:
        await grant_schema(conn, schema, db.app_role)
    return heads


async def drop_tenant(db: Database, slug: str) -> None:
    """Remove a desk with all its data (its schema, its registry row and plugin settings); the
    audit records about it stay. For desks made to be thrown away: benchmarks, the demo."""
    async with db.owner_engine.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {quote_schema(schema_for(slug))} CASCADE"))
        await conn.execute(delete(Tenant).where(Tenant.slug == slug))


@dataclass
class UpgradeReport:
    shared: tuple[str, ...] = ()
    tenants: dict[str, tuple[str, ...]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


async def upgrade_all(db: Database, host: PluginHost) -> UpgradeReport:
    """Migrate the shared schema, then every tenant schema, each in its own transaction.

    A tenant whose migration fails is rolled back and reported; the others still migrate.
    """
    report = UpgradeReport(shared=await migrate_shared(db, host))
    async with db.owner_engine.connect() as conn:
        slugs = (await conn.scalars(select(Tenant.slug).order_by(Tenant.slug))).all()
    for slug in slugs:
        try:
            async with db.owner_engine.begin() as conn:
                report.tenants[slug] = await migrate_tenant_schema(conn, db, host, slug)
        except Exception as exc:
            report.failures[slug] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return report
