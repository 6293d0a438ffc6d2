"""Desk registry API for operators and leadership (group-wide routes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import get, post
from litestar.params import Body, FromPath

from propdesk.access.permissions import requires
from propdesk.access.principal import Principal
from propdesk.errors import NotFound, Unauthenticated
from propdesk.http.deps import PrincipalDep, RuntimeDep
from propdesk.tenancy import service
from propdesk.tenancy.context import TenantContext


@dataclass
class TenantView:
    slug: str
    display_name: str
    schema: str
    status: str
    plugins: list[str]


@dataclass
class StatusChange:
    reason: str | None = None


def _view(tenant: TenantContext) -> TenantView:
    return TenantView(
        tenant.slug, tenant.display_name, tenant.schema, tenant.status, sorted(tenant.plugins)
    )


@get("/api/tenants", opt=requires("tenants", "read"), operation_id="listTenants")
async def list_tenants(runtime: RuntimeDep) -> list[TenantView]:
    """Every desk with its schema and status."""
    return [_view(t) for t in await service.list_tenants(runtime)]


async def _change(
    runtime: RuntimeDep,
    principal: Principal | None,
    slug: str,
    status: str,
    data: StatusChange | None,
) -> TenantView:
    if principal is None:
        raise Unauthenticated("sign in first")
    await service.set_status(runtime, slug, status, principal.actor, data.reason if data else None)
    tenant = await service.get_tenant(runtime, slug)
    if tenant is None:
        raise NotFound(f"no desk with slug {slug!r}")
    return _view(tenant)


@post(
    "/api/tenants/{slug:str}/suspend",
    opt=requires("tenants", "manage"),
    operation_id="suspendTenant",
    status_code=200,
)
async def suspend_tenant(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    slug: FromPath[str],
    data: Annotated[StatusChange | None, Body(title="Why")] = None,
) -> TenantView:
    """Suspend a desk: its routes answer 403 and its jobs wait until it is resumed."""
    return await _change(runtime, principal, slug, "suspended", data)


@post(
    "/api/tenants/{slug:str}/resume",
    opt=requires("tenants", "manage"),
    operation_id="resumeTenant",
    status_code=200,
)
async def resume_tenant(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    slug: FromPath[str],
    data: Annotated[StatusChange | None, Body(title="Why")] = None,
) -> TenantView:
    """Resume a suspended desk."""
    return await _change(runtime, principal, slug, "active", data)


ROUTES = [list_tenants, suspend_tenant, resume_tenant]
