"""Finance reviews payouts in the back office: the queue explains each amount, a payout page
shows the frozen quote and the approval check, the forms approve, reject and confirm the
transfer through the payouts service, and bad input or a role without the right changes nothing."""

from __future__ import annotations

import httpx
import pytest
from backoffice_desks import ORIGIN, desk_runtime, http, open_desk  # noqa: F401

from propdesk.payouts.runner import advance
from propdesk.runtime import Runtime

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_finance_reviews_the_queue_and_approves(
    desk_runtime: Runtime,  # noqa: F811
    http: httpx.AsyncClient,  # noqa: F811
) -> None:
    desk = await open_desk(desk_runtime)
    payout = await desk.pending_payout("ana@traders.example", "Ana Trader")
    finance = await desk.staff(http, "finance")

    queue = await http.get("/backoffice/payouts", headers=finance)
    assert queue.status_code == 200, queue.text
    assert f'href="/backoffice/payouts/{payout.id}"' in queue.text
    assert "Ana Trader" in queue.text and "1,000.00 USD" in queue.text
    # The quote's explanation: 80% of the counted profit.
    assert "80% of 1,250.00 counted profit = 1,000.00 USD" in queue.text

    page = await http.get(f"/backoffice/payouts/{payout.id}", headers=finance)
    assert page.status_code == 200
    assert "Quoted again now, it holds: 1,000.00 USD." in page.text
    assert "DE89370400440532013000" in page.text  # where finance sends the money
    assert ">Approve</button>" in page.text

    approved = await http.post(
        f"/backoffice/payouts/{payout.id}/approve", headers={**finance, **ORIGIN}
    )
    assert approved.status_code == 303
    assert approved.headers["location"] == f"/backoffice/payouts/{payout.id}?done=Approved."
    assert (await desk.payout(payout.id)).status == "approved"
    after = await http.get(approved.headers["location"], headers=finance)
    assert "Approved." in after.text and "desk.example" in after.text  # who approved, by e-mail

    # The worker submits it to the bank rail: finance records the transfer it made.
    await advance(desk_runtime, desk.tenant, payout.id)
    assert (await desk.payout(payout.id)).status == "paying"
    confirm = f"/backoffice/payouts/{payout.id}/confirm"
    blank = await http.post(confirm, data={"reference": " "}, headers={**finance, **ORIGIN})
    assert blank.status_code == 422
    assert "the bank&#39;s reference of the transfer" in blank.text
    assert (await desk.payout(payout.id)).status == "paying"
    paid = await http.post(confirm, data={"reference": "SEPA-42"}, headers={**finance, **ORIGIN})
    assert paid.status_code == 303
    done = await desk.payout(payout.id)
    assert (done.status, done.rail_reference) == ("paid", "SEPA-42")


async def test_a_rejection_needs_a_reason_and_support_cannot_approve(
    desk_runtime: Runtime,  # noqa: F811
    http: httpx.AsyncClient,  # noqa: F811
) -> None:
    desk = await open_desk(desk_runtime)
    payout = await desk.pending_payout("bo@traders.example", "Bo Trader")
    finance = await desk.staff(http, "finance")
    support = await desk.staff(http, "support")

    seen = await http.get(f"/backoffice/payouts/{payout.id}", headers=support)
    assert seen.status_code == 200 and "1,000.00 USD" in seen.text
    assert 'id="approve"' not in seen.text and "/reject" not in seen.text
    refused = await http.post(
        f"/backoffice/payouts/{payout.id}/approve", headers={**support, **ORIGIN}
    )
    assert refused.status_code == 403
    assert (await desk.payout(payout.id)).status == "pending_review"

    reject = f"/backoffice/payouts/{payout.id}/reject"
    no_reason = await http.post(
        reject, data={"disposition": "return", "reason": ""}, headers={**finance, **ORIGIN}
    )
    assert no_reason.status_code == 422
    assert 'id="e-reason"' in no_reason.text and "Nothing was changed" in no_reason.text
    assert 'value="return" checked' in no_reason.text  # what was chosen stays chosen
    assert (await desk.payout(payout.id)).status == "pending_review"

    rejected = await http.post(
        reject,
        data={"disposition": "forfeit", "reason": "copy trading"},
        headers={**finance, **ORIGIN},
    )
    assert rejected.status_code == 303
    done = await desk.payout(payout.id)
    assert (done.status, done.disposition, done.rejection_reason) == (
        "rejected",
        "forfeit",
        "copy trading",
    )
    # A form post from another site is refused before anything happens.
    foreign = await http.post(
        f"/backoffice/payouts/{payout.id}/retry",
        headers={**finance, "Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403


async def test_another_desks_payouts_are_not_there(
    desk_runtime: Runtime,  # noqa: F811
    http: httpx.AsyncClient,  # noqa: F811
) -> None:
    ours = await open_desk(desk_runtime)
    theirs = await open_desk(desk_runtime, name="Summit Futures")
    payout = await theirs.pending_payout("cy@traders.example", "Cy Trader")
    finance = await ours.staff(http, "finance")
    queue = await http.get("/backoffice/payouts?status=all", headers=finance)
    assert "Cy Trader" not in queue.text
    missing = await http.get(f"/backoffice/payouts/{payout.id}", headers=finance)
    assert missing.status_code == 404 and "Not found" in missing.text
    wrong = await http.get("/backoffice/payouts?status=nonsense", headers=finance)
    assert wrong.status_code == 422 and "nonsense" in wrong.text
    anonymous = await http.get("/backoffice/payouts", headers=ours.header)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/backoffice/login?next=/backoffice/payouts"
