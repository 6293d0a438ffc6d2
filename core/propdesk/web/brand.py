"""A desk's look: its name, logo, colours and currency, from the tenant registry."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.models import Tenant

DEFAULT_PRIMARY = "#1F2A44"
DEFAULT_ACCENT = "#3B82F6"


@dataclass(frozen=True)
class Brand:
    name: str
    primary: str = DEFAULT_PRIMARY
    accent: str = DEFAULT_ACCENT
    #: A ``data:`` URI, or "" for the name alone.
    logo: str = ""
    currency: str = "USD"
    timezone: str = "UTC"
    slug: str = ""


PROPDESK = Brand("Propdesk")


async def brand_of(session: AsyncSession, tenant: TenantContext | None) -> Brand:
    """The desk's brand, or Propdesk's own where no desk applies (leadership, sign-in)."""
    if tenant is None:
        return PROPDESK
    row = await session.scalar(select(Tenant).where(Tenant.slug == tenant.slug))
    if row is None:
        return PROPDESK
    theme = row.theme or {}
    return Brand(
        name=row.display_name,
        primary=theme.get("primary_color", DEFAULT_PRIMARY),
        accent=theme.get("accent_color", DEFAULT_ACCENT),
        logo=theme.get("logo_data", ""),
        currency=row.base_currency,
        timezone=row.timezone,
        slug=row.slug,
    )
