"""The desk's challenges on sale, their rulebooks, and buying one: the order goes through the
orders domain exactly as ``POST /api/orders`` does, then the browser goes to the payment
provider's checkout, which sends it back to the order's page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.catalogue import service as catalogue
from propdesk.catalogue.families import rule_families
from propdesk.catalogue.rulebook import rulebook_html
from propdesk.errors import NotFound
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.orders.checkout import Purchase, place_and_checkout
from propdesk.plugins.desk import PAYMENT_PROVIDERS, desk_codes
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.traders.models import Trader
from propdesk.web.brand import brand_of
from propdesk.web.pages import form_of, render, see_other
from propdesk.web.portal.forms import NOT_REFUSED, Refused, attempt, form_key, once
from propdesk.web.portal.offers import Offer, offer_of
from propdesk.web.portal.trader import OPEN, sign_in_first, site_url, trader_of

#: Add-on checkboxes are named ``addon:<code>``.
ADDON = "addon:"
CANCELLED = "Payment+cancelled:+nothing+was+charged."


async def offers_for(
    session: AsyncSession, tenant: TenantContext, trader: Trader | None
) -> list[Offer]:
    """What is on sale, priced in the desk's currency where it can be, and held for a trader
    who must verify their identity first."""
    currency = (await brand_of(session, tenant)).currency
    status = trader.kyc_status if trader is not None else None
    reason = trader.kyc_reason if trader is not None else None
    return [offer_of(row, currency, status, reason) for row in await catalogue.on_sale(session)]


async def _catalogue(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    session: AsyncSession,
    tenant: TenantContext,
    trader: Trader | None,
    *,
    chosen: dict[str, str] | None = None,
    refused: Refused = NOT_REFUSED,
) -> Template:
    offers = await offers_for(session, tenant, trader)
    return await render(
        request,
        session,
        "portal/challenges.html",
        status=refused.status,
        trader=trader,
        offers=offers,
        providers=desk_codes(runtime.host, tenant, PAYMENT_PROVIDERS),
        keys={o.code: form_key() for o in offers},
        chosen=chosen or {},
        refused=refused,
    )


@get("/challenges", opt=OPEN)
async def challenges(
    request: Request[Any, Any, Any], runtime: RuntimeDep, session: SessionDep, tenant: TenantDep
) -> Template:
    """What the desk sells, with a Buy form per product."""
    return await _catalogue(request, runtime, session, tenant, await trader_of(request, session))


@get("/challenges/{code:str}/rules", opt=OPEN)
async def rules(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    code: FromPath[str],
) -> Template:
    """The rulebook of the version on sale, written from the JSON the engine runs."""
    row = await catalogue.latest_published(session, code)
    if row is None:
        raise NotFound(f"the desk sells no challenge {code!r}")
    return await render(
        request,
        session,
        "portal/rulebook.html",
        trader=await trader_of(request, session),
        offer=offer_of(row, ""),
        rulebook=rulebook_html(row.content, rule_families(runtime.host, tenant)),
    )


def purchase_of(request: Request[Any, Any, Any], code: str, form: dict[str, str]) -> Purchase:
    order_page = site_url(request, "/orders/{ORDER_ID}")
    return Purchase(
        product_code=code,
        size=form.get("size", ""),
        currency=form.get("currency", ""),
        provider=form.get("provider", ""),
        success_url=order_page,
        cancel_url=f"{order_page}?done={CANCELLED}",
        addons=tuple(sorted(k.removeprefix(ADDON) for k in form if k.startswith(ADDON))),
        coupon=form.get("coupon", "").strip() or None,
    )


@post("/challenges/{code:str}/buy", opt=OPEN, status_code=303)
async def buy(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    code: FromPath[str],
) -> Response[Any] | Template:
    """Order the product and go to the provider's checkout (a double submit buys once)."""
    trader = await trader_of(request, session)
    if trader is None:
        return sign_in_first(request, "/challenges")
    form = await form_of(request)
    purchase = purchase_of(request, code, form)

    async def place() -> dict[str, Any]:
        placed = await place_and_checkout(runtime, session, tenant, trader, purchase)
        return {"order": placed.order.id, "checkout_url": placed.checkout_url}

    scope = f"trader:{trader.id}"
    done, refused = await attempt(session, lambda: once(request, session, scope, form, place))
    if done is None:
        chosen = {**form, "product": code}
        return await _catalogue(
            request, runtime, session, tenant, trader, chosen=chosen, refused=refused or NOT_REFUSED
        )
    return see_other(done["checkout_url"] or f"/orders/{done['order']}", request)


ROUTES = [challenges, rules, buy]
