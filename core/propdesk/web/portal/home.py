"""``/``: the trader's dashboard (every challenge, the live ones watched), or the desk's landing
page for a visitor."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from propdesk.engine.views import account_server
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.lifecycle.service import trader_challenges
from propdesk.orders.service import trader_orders
from propdesk.web.pages import render
from propdesk.web.portal.shop import offers_for
from propdesk.web.portal.standing import chart_of, standing_of
from propdesk.web.portal.trader import OPEN, trader_of


@get("/", opt=OPEN)
async def home(
    request: Request[Any, Any, Any], runtime: RuntimeDep, session: SessionDep, tenant: TenantDep
) -> Template:
    trader = await trader_of(request, session)
    if trader is None:
        offers = await offers_for(session, tenant, None)
        return await render(request, session, "portal/landing.html", trader=None, offers=offers)
    standings = [
        await standing_of(runtime, tenant, session, row)
        for row in await trader_challenges(session, trader.email)
    ]
    charts = {s.challenge.id: await chart_of(session, s) for s in standings if s.live}
    servers = {
        s.challenge.id: await account_server(session, s.account)
        for s in standings
        if s.live and s.account is not None
    }
    unpaid = [o for o in await trader_orders(session, trader.id) if o.status == "pending_payment"]
    return await render(
        request,
        session,
        "portal/dashboard.html",
        trader=trader,
        standings=standings,
        charts=charts,
        servers=servers,
        unpaid=unpaid,
    )


ROUTES = [home]
