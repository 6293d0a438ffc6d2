"""The desk overview and the breach queue: a breach shows on the queue's live part with its rule
and explanation, the desk page counts what waits, and the queue is the desk's own."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from backoffice_desks import desk_runtime, http, open_desk  # noqa: F401

from propdesk.lifecycle.service import apply_transition
from propdesk.lifecycle.transitions import Breached
from propdesk.runtime import Runtime
from propdesk.testing.payouts import open_funded

pytestmark = pytest.mark.asyncio(loop_scope="session")
WHY = "equity 89,000.00 fell below the maximum-loss floor 90,000.00"


async def test_a_breach_appears_on_the_live_queue(
    desk_runtime: Runtime,  # noqa: F811
    http: httpx.AsyncClient,  # noqa: F811
) -> None:
    desk = await open_desk(desk_runtime)
    other = await open_desk(desk_runtime, name="Summit Futures")
    risk = await desk.staff(http, "risk")
    challenge_id, _ = await open_funded(desk_runtime, desk.tenant, trader_name="Dee Trader")

    page = await http.get("/backoffice/risk", headers=risk)
    assert page.status_code == 200, page.text
    assert 'hx-get="/backoffice/risk/live"' in page.text and 'hx-trigger="every 5s"' in page.text
    assert "No rule has failed or paused an account yet." in page.text

    async with desk_runtime.db.unit_of_work(desk.tenant) as session:
        breach = Breached(at=datetime.now(UTC), rule="max_loss", explanation=WHY)
        await apply_transition(session, None, challenge_id, breach, actor="engine")
    live = await http.get("/backoffice/risk/live", headers=risk)
    assert live.status_code == 200 and "<html" not in live.text  # a part of the page
    assert f'id="breach-{challenge_id}-' in live.text
    assert "max_loss" in live.text and WHY in live.text and "Dee Trader" in live.text
    assert f'href="/backoffice/challenges/{challenge_id}"' in live.text

    elsewhere = await http.get("/backoffice/risk/live", headers=await other.staff(http, "risk"))
    assert "Dee Trader" not in elsewhere.text
    bad = await http.get("/backoffice/risk?within=lots", headers=risk)
    assert bad.status_code == 422 and "within" in bad.text

    desk_page = await http.get("/backoffice/", headers=risk)
    assert desk_page.status_code == 200
    assert "Latest breaches and pauses" in desk_page.text and WHY in desk_page.text
    assert 'data-chart="' in desk_page.text  # challenges by status


async def test_the_desk_counts_payouts_waiting_for_finance(
    desk_runtime: Runtime,  # noqa: F811
    http: httpx.AsyncClient,  # noqa: F811
) -> None:
    desk = await open_desk(desk_runtime)
    await desk.pending_payout("ana@traders.example", "Ana Trader")
    finance = await desk.staff(http, "finance")
    support = await desk.staff(http, "support")

    page = await http.get("/backoffice/", headers=finance)
    assert page.status_code == 200, page.text
    assert "Payouts waiting" in page.text and "Purchases today" in page.text
    assert 'href="/backoffice/payouts"' in page.text
    # The nav shows what the role may open.
    assert (
        'href="/backoffice/catalogue"' in page.text and 'href="/backoffice/staff"' not in page.text
    )
    seen = await http.get("/backoffice/", headers=support)
    assert "Near a breach" in seen.text
