"""After the Buy button: the order's page, where the provider's checkout sends the trader back,
and its live status until the challenge's account is ready."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.engine.views import account_server, challenge_account
from propdesk.errors import Conflict
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.lifecycle import machine
from propdesk.lifecycle.service import trader_challenge
from propdesk.orders.models import OrderRow
from propdesk.orders.service import trader_order
from propdesk.payments.service import start_checkout
from propdesk.plugins.desk import PAYMENT_PROVIDERS, desk_codes
from propdesk.traders.models import Trader
from propdesk.web.pages import render, see_other
from propdesk.web.portal.shop import CANCELLED
from propdesk.web.portal.trader import OPEN, sign_in_first, signed_in, site_url, trader_of

#: Challenge statuses on the way to a trading account: the page keeps watching.
SETTING_UP = (machine.AWAITING_PAYMENT, machine.PROVISIONING)
#: Orders that will not open anything (any more).
CLOSED = ("cancelled", "failed", "refunded")


async def _progress(session: AsyncSession, trader: Trader, order: OrderRow) -> dict[str, Any]:
    """Where the order stands for the trader: paid, the challenge and its account."""
    challenge = account = server = None
    if order.challenge_id is not None:
        challenge, _ = await trader_challenge(session, order.challenge_id, trader.email)
        account = await challenge_account(session, challenge.id)
        if account is not None:
            server = await account_server(session, account)
    settled = order.status in CLOSED or (
        challenge is not None and challenge.status not in SETTING_UP
    )
    return {
        "order": order,
        "challenge": challenge,
        "account": account,
        "server": server,
        "watching": not settled,
    }


@get("/orders/{order_id:int}", opt=OPEN)
async def order_page(
    request: Request[Any, Any, Any], session: SessionDep, tenant: TenantDep, order_id: FromPath[int]
) -> Template:
    """The order, its lines, and where it stands (updating itself until the account is ready)."""
    trader = await signed_in(request, session)
    order = await trader_order(session, trader.id, order_id)
    progress = await _progress(session, trader, order)
    return await render(request, session, "portal/order.html", trader=trader, **progress)


@get("/orders/{order_id:int}/status", opt=OPEN)
async def order_status(
    request: Request[Any, Any, Any], session: SessionDep, tenant: TenantDep, order_id: FromPath[int]
) -> Template:
    """The live part of the order's page."""
    trader = await signed_in(request, session)
    order = await trader_order(session, trader.id, order_id)
    progress = await _progress(session, trader, order)
    return await render(request, session, "portal/_order_status.html", trader=trader, **progress)


@post("/orders/{order_id:int}/pay", opt=OPEN, status_code=303)
async def pay_order(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    order_id: FromPath[int],
) -> Response[Any]:
    """Back to the provider's checkout of an order still awaiting payment (the same one)."""
    trader = await trader_of(request, session)
    if trader is None:
        return sign_in_first(request, f"/orders/{order_id}")
    order = await trader_order(session, trader.id, order_id)
    providers = desk_codes(runtime.host, tenant, PAYMENT_PROVIDERS)
    provider = order.provider or (providers[0] if providers else None)
    if provider is None:
        raise Conflict(f"{tenant.display_name or tenant.slug} does not take payments online yet")
    page = site_url(request, f"/orders/{order.id}")
    checkout = await start_checkout(
        runtime,
        tenant,
        order.id,
        provider=provider,
        success_url=page,
        cancel_url=f"{page}?done={CANCELLED}",
    )
    return see_other(checkout.url, request)


ROUTES = [order_page, order_status, pay_order]
