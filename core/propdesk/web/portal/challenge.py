"""One of the trader's challenges: its objectives live, the equity chart, the account to trade
on, the lifecycle so far and the rulebook of the version it was bought under."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from propdesk.catalogue.families import rule_families
from propdesk.catalogue.rulebook import rulebook_html
from propdesk.engine.views import account_server
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.lifecycle.service import trader_challenge
from propdesk.web.pages import render
from propdesk.web.portal.standing import chart_of, standing_of
from propdesk.web.portal.trader import OPEN, signed_in


@get("/challenges/{challenge_id:int}", opt=OPEN)
async def challenge_page(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    challenge_id: FromPath[int],
) -> Template:
    trader = await signed_in(request, session)
    row, state = await trader_challenge(session, challenge_id, trader.email)
    standing = await standing_of(runtime, tenant, session, row)
    server = await account_server(session, standing.account) if standing.account else None
    families = rule_families(runtime.host, tenant)
    return await render(
        request,
        session,
        "portal/challenge.html",
        trader=trader,
        standing=standing,
        server=server,
        chart=await chart_of(session, standing),
        history=list(reversed(state.history)),
        rulebook=rulebook_html(standing.product.content, families),
    )


@get("/challenges/{challenge_id:int}/live", opt=OPEN)
async def challenge_live(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    challenge_id: FromPath[int],
) -> Template:
    """The objectives part, every few seconds."""
    trader = await signed_in(request, session)
    row, _ = await trader_challenge(session, challenge_id, trader.email)
    standing = await standing_of(runtime, tenant, session, row)
    return await render(request, session, "portal/_standing.html", trader=trader, standing=standing)


@get("/challenges/{challenge_id:int}/chart", opt=OPEN)
async def challenge_chart(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    challenge_id: FromPath[int],
) -> Template:
    """The equity chart part, now and then."""
    trader = await signed_in(request, session)
    row, _ = await trader_challenge(session, challenge_id, trader.email)
    standing = await standing_of(runtime, tenant, session, row)
    chart = await chart_of(session, standing)
    return await render(
        request, session, "portal/_chart.html", trader=trader, standing=standing, chart=chart
    )


ROUTES = [challenge_page, challenge_live, challenge_chart]
