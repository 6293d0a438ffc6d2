"""The trader portal (``/`` on the desk's domain)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from propdesk.access.permissions import public
from propdesk.http.deps import SessionDep, TenantDep
from propdesk.traders import sessions
from propdesk.web.pages import area_router, render


@get("/", opt=public())
async def home(request: Request[Any, Any, Any], session: SessionDep, tenant: TenantDep) -> Template:
    secret = request.cookies.get(sessions.COOKIE)
    trader = await sessions.trader_for(session, secret) if secret else None
    return await render(request, session, "portal/home.html", trader=trader)


ROUTER = area_router("/", "portal", [home])
