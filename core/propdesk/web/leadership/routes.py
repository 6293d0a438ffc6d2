"""The leadership view (``/leadership``): figures across desks."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from propdesk.access.permissions import requires
from propdesk.http.deps import SessionDep
from propdesk.http.tenant import NO_TENANT_OPT
from propdesk.tenancy.directory import load_tenants
from propdesk.web.pages import area_router, render


@get("/", opt={**requires("reports", "read"), NO_TENANT_OPT: True})
async def overview(request: Request[Any, Any, Any], session: SessionDep) -> Template:
    desks = await load_tenants(session)
    return await render(request, session, "leadership/overview.html", desks=desks)


ROUTER = area_router("/leadership", "leadership", [overview])
