"""Support finds traders in the back office and reads each one's story on one page: filters
filter, another desk's traders never show, the audit trail is for those who may read it, and an
operator's action on a challenge needs a reason."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from backoffice_desks import (  # noqa: F401
    ORIGIN,
    Desk,
    RefundingProvider,
    desk_runtime,
    http,
    open_desk,
)
from sqlalchemy import update

from propdesk.lifecycle.service import apply_transition, load_challenge, open_challenge
from propdesk.lifecycle.transitions import Breached
from propdesk.runtime import Runtime
from propdesk.testing.payouts import open_funded
from propdesk.traders.models import Trader

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _traders(desk: Desk) -> dict[str, int]:
    """Ana (DE) trades a funded account; Bo (GB, identity check pending) has not paid yet."""
    ana = await desk.trader("ana@traders.example", "Ana Trader", "DE")
    bo = await desk.trader("bo_1@traders.example", "Bo Trader", "GB")
    await open_funded(desk.runtime, desk.tenant, trader_email="ana@traders.example")
    async with desk.runtime.db.unit_of_work(desk.tenant) as session:
        await open_challenge(
            session,
            None,
            product_code="funded-payouts",
            size="100k",
            addons=[],
            trader_email="bo_1@traders.example",
            trader_name="Bo Trader",
            actor="test",
        )
        await session.execute(update(Trader).where(Trader.id == bo).values(kyc_status="pending"))
    return {"ana": ana, "bo": bo}


def _names(page: httpx.Response) -> set[str]:
    return {name for name in ("Ana Trader", "Bo Trader", "Cy Trader") if name in page.text}


async def test_the_search_filters_and_stays_on_its_desk(
    desk_runtime: Runtime,  # noqa: F811
    http: httpx.AsyncClient,  # noqa: F811
) -> None:
    desk = await open_desk(desk_runtime)
    other = await open_desk(desk_runtime, name="Summit Futures")
    ids = await _traders(desk)
    await other.trader("cy@traders.example", "Cy Trader", "GB")
    support = await desk.staff(http, "support")

    async def search(query: str) -> httpx.Response:
        return await http.get(f"/backoffice/traders{query}", headers=support)

    assert _names(await search("")) == {"Ana Trader", "Bo Trader"}
    assert _names(await search("?q=ANA")) == {"Ana Trader"}
    assert _names(await search("?q=bo_")) == {"Bo Trader"}  # "_" is a letter, not a wildcard
    assert _names(await search("?q=o_1")) == {"Bo Trader"}
    assert _names(await search("?status=active")) == {"Ana Trader"}
    assert _names(await search("?status=awaiting_payment")) == {"Bo Trader"}
    assert _names(await search("?phase=instant&status=active")) == {"Ana Trader"}
    assert _names(await search("?phase=funded")) == set()
    assert _names(await search("?kyc=pending")) == {"Bo Trader"}
    assert _names(await search("?country=gb")) == {"Bo Trader"}
    listed = await search("?country=DE")
    assert f'href="/backoffice/traders/{ids["ana"]}"' in listed.text

    wrong = await search("?status=flying&kyc=maybe")
    assert wrong.status_code == 422
    assert "<code>status</code>" in wrong.text and "<code>kyc</code>" in wrong.text
    assert _names(wrong) == set()


async def test_the_trader_page_tells_the_whole_story(
    desk_runtime: Runtime,  # noqa: F811
    http: httpx.AsyncClient,  # noqa: F811
) -> None:
    desk = await open_desk(desk_runtime)
    ids = await _traders(desk)
    payout = await desk.pending_payout("ana@traders.example", "Ana Trader")
    support = await desk.staff(http, "support")
    admin = await desk.staff(http, "desk_admin")

    page = await http.get(f"/backoffice/traders/{ids['ana']}", headers=support)
    assert page.status_code == 200, page.text
    text = page.text
    assert "ana@traders.example" in text and "DE" in text
    assert f'id="challenge-{payout.challenge_id}"' in text
    assert "provisioned" in text and "paid" in text  # the lifecycle
    assert "the engine has not evaluated this account yet" in text  # why it stands there
    assert f'href="/backoffice/payouts/{payout.id}"' in text
    assert 'id="audit"' not in text  # support does not read the audit trail

    seen = await http.get(f"/backoffice/traders/{ids['ana']}", headers=admin)
    assert 'id="audit"' in seen.text
    audit = seen.text.split('id="audit"')[1]
    assert "payout.requested" in audit and "account.provisioned" in audit
    assert "challenge.paid" in audit and "trader.registered" in audit

    link = await http.get(f"/backoffice/challenges/{payout.challenge_id}", headers=support)
    assert link.status_code == 303
    assert link.headers["location"] == (
        f"/backoffice/traders/{ids['ana']}#challenge-{payout.challenge_id}"
    )
    other = await open_desk(desk_runtime, name="Summit Futures")
    stranger = await other.staff(http, "support")
    elsewhere = await http.get(f"/backoffice/traders/{ids['ana']}", headers=stranger)
    assert elsewhere.status_code == 404 and "ana@traders.example" not in elsewhere.text


async def test_an_operator_reinstates_with_a_reason(
    desk_runtime: Runtime,  # noqa: F811
    http: httpx.AsyncClient,  # noqa: F811
) -> None:
    desk = await open_desk(desk_runtime)
    ana = await desk.trader("ana@traders.example", "Ana Trader")
    challenge_id, _ = await open_funded(desk_runtime, desk.tenant)
    async with desk_runtime.db.unit_of_work(desk.tenant) as session:
        breach = Breached(
            at=datetime.now(UTC), rule="max_loss", explanation="equity 89,000.00 below 90,000.00"
        )
        await apply_transition(session, None, challenge_id, breach, actor="engine")
    risk = await desk.staff(http, "risk")
    support = await desk.staff(http, "support")

    page = await http.get(f"/backoffice/traders/{ana}", headers=risk)
    assert "Act on this challenge" in page.text and '<option value="reinstate"' in page.text
    act = f"/backoffice/challenges/{challenge_id}/actions"
    denied = await http.post(
        act, data={"action": "reinstate", "reason": "x"}, headers={**support, **ORIGIN}
    )
    assert denied.status_code == 403

    bare = await http.post(
        act, data={"action": "reinstate", "reason": " "}, headers={**risk, **ORIGIN}
    )
    assert bare.status_code == 422 and f'id="challenge-{challenge_id}-reason-error"' in bare.text
    async with desk_runtime.db.session(desk.tenant) as session:
        assert (await load_challenge(session, challenge_id))[1].status == "failed"

    done = await http.post(
        act,
        data={"action": "reinstate", "reason": "the platform sent a bad quote"},
        headers={**risk, **ORIGIN},
    )
    assert done.status_code == 303
    assert done.headers["location"].endswith(f"#challenge-{challenge_id}")
    async with desk_runtime.db.session(desk.tenant) as session:
        assert (await load_challenge(session, challenge_id))[1].status == "active"


async def test_finance_refunds_an_order_once(
    desk_runtime: Runtime,  # noqa: F811
    http: httpx.AsyncClient,  # noqa: F811
) -> None:
    desk = await open_desk(desk_runtime)
    ana = await desk.trader("ana@traders.example", "Ana Trader")
    order_id = await desk.paid_order(ana)
    finance = await desk.staff(http, "finance")
    support = await desk.staff(http, "support")

    seen = await http.get(f"/backoffice/traders/{ana}", headers=support)
    assert "540.00 USD" in seen.text and f'id="order-{order_id}-refund"' not in seen.text
    page = await http.get(f"/backoffice/traders/{ana}", headers=finance)
    assert f'action="/backoffice/orders/{order_id}/refund"' in page.text
    key = page.text.split('name="key" value="')[1].split('"')[0]
    refund = f"/backoffice/orders/{order_id}/refund"
    denied = await http.post(
        refund, data={"reason": "x", "key": key}, headers={**support, **ORIGIN}
    )
    assert denied.status_code == 403

    too_much = await http.post(
        refund,
        data={"amount": "600", "reason": "duplicate", "key": key},
        headers={**finance, **ORIGIN},
    )
    assert too_much.status_code == 422
    assert (
        f'id="order-{order_id}-amount-error"' in too_much.text and "at most 540.00" in too_much.text
    )
    assert RefundingProvider.refunds.get(f"order-{order_id}-{key}") is None

    for _ in range(2):  # sent twice: the provider refunds once
        asked = await http.post(
            refund,
            data={"amount": "", "reason": "duplicate purchase", "key": key},
            headers={**finance, **ORIGIN},
        )
        assert asked.status_code == 303
    assert RefundingProvider.refunds[f"order-{order_id}-{key}"] == Decimal("540.00")
