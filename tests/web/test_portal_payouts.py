"""Payouts in the trader portal: the quote explains every refusal in numbers, the request form
takes the rail's destination and asks once however often it is sent, a bad destination is shown
at its field with nothing written, and the history has each payout's steps and statements."""

from __future__ import annotations

import httpx
import portal_desks
import pytest
from portal_desks import Desk, Trader, evaluated_account, form_key, later, reading
from portal_desks import open_desk as open_portal_desk
from sqlalchemy import select

from propdesk.payouts.models import PayoutRow
from propdesk.runtime import Runtime
from propdesk.testing.payouts import open_funded

pytestmark = pytest.mark.asyncio(loop_scope="session")
portal_runtime, web = portal_desks.portal_runtime, portal_desks.web  # the fixtures
BANK = {"destination.account_holder": "Ana Trader", "destination.iban": "DE89370400440532013000"}


async def payouts(desk: Desk) -> list[PayoutRow]:
    async with desk.runtime.db.session(desk.tenant) as session:
        return list(await session.scalars(select(PayoutRow).order_by(PayoutRow.id)))


async def funded(desk: Desk, trader: Trader) -> tuple[int, str]:
    challenge, account = await open_funded(
        desk.runtime, desk.tenant, trader_email=trader.email, trader_name=trader.name
    )
    return challenge, account.split(":")[1]


async def test_the_quote_says_why_not_then_the_form_requests_once(
    portal_runtime: Runtime, web: httpx.AsyncClient
) -> None:
    desk = await open_portal_desk(portal_runtime)
    ana = await desk.sign_up(web, "ana@traders.example")
    challenge, login = await funded(desk, ana)
    request = f"/payouts/{challenge}/request"

    refused = await web.get("/payouts", headers=ana.headers)
    assert refused.status_code == 200
    assert "Not eligible for a payout now" in refused.text
    assert "no profit to pay: the balance 100,000.00 is not above the starting 100,000.00" in (
        refused.text
    )
    assert "Request payout" not in refused.text

    desk.profit(login, "1250")
    page = await web.get("/payouts", headers=ana.headers)
    assert "You can request <strong>1,000.00 USD</strong> now" in page.text
    assert "Your split" in page.text and "80%" in page.text and "1,250.00 USD" in page.text
    for label in ("Account holder", "IBAN", "BIC", "Request payout"):
        assert label in page.text, label
    key = form_key(page.text, request)

    bad = {"idempotency_key": key, "rail": "bank", **BANK, "destination.iban": "not an iban"}
    wrong = await web.post(request, data=bad, headers=ana.posts)
    assert wrong.status_code == 422
    assert f'id="payout-{challenge}-bank-destination-iban-error">' in wrong.text
    assert 'value="not an iban"' in wrong.text
    assert await payouts(desk) == []

    form = {"idempotency_key": form_key(wrong.text, request), "rail": "bank", **BANK}
    asked = await web.post(request, data=form, headers=ana.posts)
    again = await web.post(request, data=form, headers=ana.posts)
    assert asked.status_code == again.status_code == 303
    assert asked.headers["location"] == again.headers["location"]
    [payout] = await payouts(desk)
    assert asked.headers["location"].endswith(f"#payout-{payout.id}")
    assert (payout.amount, payout.rail, payout.destination["iban"]) == (
        1000,
        "bank",
        "DE89370400440532013000",
    )

    history = await web.get("/payouts", headers=ana.headers)
    assert f"Payout 1 of challenge {challenge}: 1,000.00 USD" in history.text
    assert "badge-requested" in history.text
    assert "1,250.00 of 1,250.00 profit at 80" in history.text  # the step's own words
    statement = f"/api/traders/me/payouts/{payout.id}/statement"
    assert f'href="{statement}.html"' in history.text and f'href="{statement}.pdf"' in history.text
    shown = await web.get(f"{statement}.html", headers=ana.headers)
    assert shown.status_code == 200 and "1,000.00 USD" in shown.text

    # While it is under way there is no form for another; a stale one is refused in words.
    assert "Payout 1 (1,000.00 USD) is requested" in history.text
    assert f'action="{request}"' not in history.text
    second = {**form, "idempotency_key": "from-an-old-page"}
    busy = await web.post(request, data=second, headers=ana.posts)
    assert busy.status_code == 409
    assert f"payout {payout.id} of challenge {challenge} is requested: one payout at a time" in (
        busy.text
    )
    assert len(await payouts(desk)) == 1


async def test_another_trader_sees_none_of_it(
    portal_runtime: Runtime, web: httpx.AsyncClient
) -> None:
    desk = await open_portal_desk(portal_runtime)
    ana = await desk.sign_up(web, "ana@traders.example")
    bo = await desk.sign_up(web, "bo@traders.example", "Bo Trader")
    challenge, login = await funded(desk, ana)
    desk.profit(login, "1250")

    # Bo's own challenge is still in its evaluation: nothing to pay from it yet.
    evaluating = await desk.challenge(bo.email)
    await evaluated_account(desk, evaluating, "8101", [reading(later(hours=1), "100500", "100500")])
    page = await web.get("/payouts", headers=bo.headers)
    assert page.status_code == 200
    assert "Once a challenge of yours is funded" in page.text
    assert f"Challenge {challenge}" not in page.text and "No payout yet" in page.text
    form = {"idempotency_key": "bo-1", "rail": "bank", **BANK}
    theirs = await web.post(f"/payouts/{challenge}/request", data=form, headers=bo.posts)
    assert theirs.status_code == 404
    assert f"no challenge {challenge} of this trader" in theirs.text
    # A form sent after the session ended asks to sign in, then returns to the page.
    expired = await web.post(
        f"/payouts/{challenge}/request", data=form, headers=portal_desks.ORIGIN | desk.header
    )
    assert expired.status_code == 303 and expired.headers["location"] == "/login?next=/payouts"
    assert await payouts(desk) == []
