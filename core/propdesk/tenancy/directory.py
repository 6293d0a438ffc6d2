"""Reading the tenant registry into ``TenantContext`` values."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.models import Tenant, TenantPlugin


async def load_tenants(session: AsyncSession) -> list[TenantContext]:
    """Every tenant, ordered by slug, with its enabled plugins' settings."""
    tenants = (await session.scalars(select(Tenant).order_by(Tenant.slug))).all()
    rows = (await session.scalars(select(TenantPlugin))).all()
    plugins: dict[int, dict[str, dict]] = {}
    for row in rows:
        plugins.setdefault(row.tenant_id, {})[row.plugin] = row.settings
    return [TenantContext(t.slug, t.display_name, t.status, plugins.get(t.id, {})) for t in tenants]


async def load_tenant(session: AsyncSession, slug: str) -> TenantContext | None:
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        return None
    rows = await session.scalars(select(TenantPlugin).where(TenantPlugin.tenant_id == tenant.id))
    plugins = {row.plugin: row.settings for row in rows}
    return TenantContext(tenant.slug, tenant.display_name, tenant.status, plugins)


async def domain_map(session: AsyncSession) -> dict[str, str]:
    """Host name (lowercase) to tenant slug."""
    rows = (await session.execute(select(Tenant.slug, Tenant.domains))).all()
    return {domain.lower(): slug for slug, domains in rows for domain in domains}
