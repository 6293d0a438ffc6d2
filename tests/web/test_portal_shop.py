"""Shopping in the trader portal: what is on sale with its prices and rulebook, the Buy form
placing one order however often it is sent and going to the provider's checkout, refusals shown
next to the form with nothing written, and orders only their trader sees."""

from __future__ import annotations

import copy
from decimal import Decimal

import httpx
import portal_desks
import pytest
from portal_desks import EVALUATION, EVALUATION_PRODUCT, ORIGIN, Desk, HostedCheckout, form_key
from portal_desks import open_desk as open_portal_desk
from sqlalchemy import select

from propdesk.catalogue.families import rule_families
from propdesk.catalogue.service import publish_content
from propdesk.orders.models import CouponRow, OrderRow
from propdesk.runtime import Runtime

pytestmark = pytest.mark.asyncio(loop_scope="session")
portal_runtime, web = portal_desks.portal_runtime, portal_desks.web  # the fixtures
BUY = f"/challenges/{EVALUATION}/buy"


async def orders(desk: Desk) -> list[OrderRow]:
    async with desk.runtime.db.session(desk.tenant) as session:
        return list(await session.scalars(select(OrderRow).order_by(OrderRow.id)))


async def test_a_visitor_sees_the_products_their_prices_and_rulebooks(
    portal_runtime: Runtime, web: httpx.AsyncClient
) -> None:
    desk = await open_portal_desk(portal_runtime, name="Portal Shop FX")
    landing = await web.get("/", headers=desk.header)
    assert landing.status_code == 200
    assert "Trade Portal Shop FX" in landing.text and "Portal Two-Step" in landing.text
    assert "From <strong>99.00 USD</strong>" in landing.text

    shop = await web.get("/challenges", headers=desk.header)
    assert shop.status_code == 200
    for text in ("Portal Two-Step", "100,000.00 USD", "540.00 USD", "499.00 EUR", "90% split"):
        assert text in shop.text, text
    assert "<strong>funded</strong> account" in shop.text  # the description's Markdown
    assert "Sign up to buy" in shop.text and ">Buy</button>" not in shop.text

    rules = await web.get(f"/challenges/{EVALUATION}/rules", headers=desk.header)
    assert rules.status_code == 200 and "version 1" in rules.text
    assert "Each day your equity" in rules.text  # the daily-loss family's own words
    missing = await web.get("/challenges/nothing-here/rules", headers=desk.header)
    assert missing.status_code == 404 and "sells no challenge" in missing.text


async def test_one_buy_form_places_one_order_and_goes_to_the_checkout(
    portal_runtime: Runtime, web: httpx.AsyncClient
) -> None:
    desk = await open_portal_desk(portal_runtime)
    ana = await desk.sign_up(web, "ana@traders.example")
    shop = await web.get("/challenges", headers=ana.headers)
    assert ">Buy</button>" in shop.text and 'name="addon:split-90"' in shop.text
    form = {
        "idempotency_key": form_key(shop.text, BUY),
        "size": "100k",
        "currency": "EUR",
        "addon:split-90": "on",
        "provider": "hosted",
    }
    first = await web.post(BUY, data=form, headers=ana.posts)
    again = await web.post(BUY, data=form, headers=ana.posts)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    [order] = await orders(desk)
    assert (order.total, order.currency, order.addons) == (Decimal("554.00"), "EUR", ["split-90"])
    checkout = HostedCheckout.made[f"checkout:{desk.tenant.slug}:{order.id}"]
    assert (
        first.headers["location"] == f"https://pay.example/checkout:{desk.tenant.slug}:{order.id}"
    )
    assert checkout.success_url == f"http://testserver.local/orders/{order.id}"
    assert checkout.cancel_url.startswith(f"http://testserver.local/orders/{order.id}?done=")

    page = await web.get(f"/orders/{order.id}", headers=ana.headers)
    assert page.status_code == 200
    assert "554.00 EUR" in page.text and "Awaiting payment" in page.text
    assert f'hx-get="/orders/{order.id}/status"' in page.text  # it watches for the payment
    back = await web.post(f"/orders/{order.id}/pay", headers=ana.posts)
    assert back.status_code == 303 and back.headers["location"] == first.headers["location"]

    # Nobody else sees it, and a visitor is asked to sign in.
    bo = await desk.sign_up(web, "bo@traders.example", "Bo Trader")
    for path in (f"/orders/{order.id}", f"/orders/{order.id}/status"):
        theirs = await web.get(path, headers=bo.headers)
        assert theirs.status_code == 404 and f"no order {order.id} of this trader" in theirs.text
    assert (await web.post(f"/orders/{order.id}/pay", headers=bo.posts)).status_code == 404
    visitor = await web.get(f"/orders/{order.id}", headers=desk.header)
    assert visitor.headers["location"] == f"/login?next=/orders/{order.id}"


async def test_a_free_order_is_paid_at_once_and_the_account_is_set_up(
    portal_runtime: Runtime, web: httpx.AsyncClient
) -> None:
    desk = await open_portal_desk(portal_runtime)
    async with desk.runtime.db.unit_of_work(desk.tenant) as session:
        session.add(CouponRow(code="ALLFREE", kind="percent", value=Decimal(100), active=True))
    ana = await desk.sign_up(web, "ana@traders.example")
    shop = await web.get("/challenges", headers=ana.headers)
    form = {
        "idempotency_key": form_key(shop.text, BUY),
        "size": "10k",
        "currency": "USD",
        "coupon": "ALLFREE",
        "provider": "hosted",
    }
    bought = await web.post(BUY, data=form, headers=ana.posts)
    [order] = await orders(desk)
    assert bought.headers["location"] == f"/orders/{order.id}"
    status = await web.get(f"/orders/{order.id}/status", headers=ana.headers)
    assert "Payment received" in status.text and "Account being set up" in status.text
    dashboard = await web.get("/", headers=ana.headers)
    assert "Portal Two-Step · 10k" in dashboard.text and "provisioning" in dashboard.text


async def test_a_refused_order_is_explained_by_the_form_and_nothing_is_written(
    portal_runtime: Runtime, web: httpx.AsyncClient
) -> None:
    desk = await open_portal_desk(portal_runtime)
    ana = await desk.sign_up(web, "ana@traders.example")
    shop = await web.get("/challenges", headers=ana.headers)
    form = {
        "idempotency_key": form_key(shop.text, BUY),
        "size": "100k",
        "currency": "USD",
        "coupon": "NOSUCH",
        "provider": "hosted",
    }
    coupon = await web.post(BUY, data=form, headers=ana.posts)
    assert coupon.status_code == 422
    assert f'id="{EVALUATION}-coupon-error">unknown code' in coupon.text
    assert 'value="NOSUCH"' in coupon.text  # the form comes back as it was sent
    size = await web.post(BUY, data={**form, "coupon": "", "size": "7k"}, headers=ana.posts)
    assert size.status_code == 422 and "unknown size &#39;7k&#39; (sizes: 10k, 100k)" in size.text
    keyless = await web.post(BUY, data={**form, "idempotency_key": ""}, headers=ana.posts)
    assert keyless.status_code == 422 and "Idempotency-Key" in keyless.text
    assert await orders(desk) == []

    visitor = await web.post(BUY, data=form, headers={**desk.header, **ORIGIN})
    assert visitor.status_code == 303 and visitor.headers["location"] == "/login?next=/challenges"


async def test_a_product_that_checks_identity_first_says_so_instead_of_selling(
    portal_runtime: Runtime, web: httpx.AsyncClient
) -> None:
    desk = await open_portal_desk(portal_runtime)
    product = copy.deepcopy(EVALUATION_PRODUCT)
    product.update(code="verified-first", name="Verified First", kyc={"before_purchase": True})
    families = rule_families(desk.runtime.host, desk.tenant)
    async with desk.runtime.db.unit_of_work(desk.tenant) as session:
        await publish_content(session, desk.runtime.queue, families, product, "test")
    ana = await desk.sign_up(web, "ana@traders.example")

    shop = await web.get("/challenges", headers=ana.headers)
    card = shop.text[shop.text.index('id="product-verified-first"') :]
    assert "an approved identity check is required before buying this challenge" in card
    assert "Go to identity check" in card and 'action="/challenges/verified-first/buy"' not in card
    form = {
        "idempotency_key": "tampered-1",
        "size": "10k",
        "currency": "USD",
        "provider": "hosted",
    }
    refused = await web.post("/challenges/verified-first/buy", data=form, headers=ana.posts)
    assert refused.status_code == 403
    assert "verify your identity (start the check from your account page)" in refused.text
    assert await orders(desk) == []
