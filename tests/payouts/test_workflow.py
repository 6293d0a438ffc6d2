"""The payout workflow on a funded account of the recording platform: the quote and the request
agree, the profit is withdrawn once, approval re-checks with the quote's code, the rail pays
once, and every step leaves its timeline, audit record and ledger entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from conftest import CountingRail, PayoutDesk, open_payout_desk
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from propdesk.engine.models import TradingAccount
from propdesk.engine.provisioning import provision_account
from propdesk.errors import Conflict
from propdesk.ledger import service as ledger
from propdesk.lifecycle.service import load_challenge
from propdesk.payouts import service
from propdesk.payouts.case import funded_account, live_case, quote_of
from propdesk.payouts.models import PayoutPayment, PayoutRow, PayoutStep, ScalingStep
from propdesk.payouts.runner import advance
from propdesk.payouts.service import NotEligible
from propdesk.payouts.workflow import PayoutStateError
from propdesk.runtime import Runtime
from propdesk.testing.payouts import open_funded
from propdesk.traders import service as traders

pytestmark = pytest.mark.asyncio(loop_scope="session")
BANK = {"account_holder": "Ana Trader", "iban": "DE89370400440532013000"}


async def request(desk: PayoutDesk, challenge_id: int, **values: Any) -> PayoutRow:
    runtime, tenant = desk.runtime, desk.tenant
    async with runtime.db.unit_of_work(tenant) as session:
        funded = await funded_account(session, tenant.schema, challenge_id)
        case = await live_case(runtime, tenant, session, funded)
        return await service.request_payout(
            session,
            None,
            funded,
            case,
            rail=values.get("rail", "bank"),
            destination=values.get("destination", BANK),
            second_approval_above=values.get("threshold"),
            actor="trader:1",
        )


async def approve(desk: PayoutDesk, payout_id: int, approver: str) -> PayoutRow:
    runtime, tenant = desk.runtime, desk.tenant
    async with runtime.db.unit_of_work(tenant) as session:
        payout = await session.get(PayoutRow, payout_id)
        assert payout is not None
        funded = await funded_account(session, tenant.schema, payout.challenge_id, trading=False)
        return await service.approve(
            session,
            None,
            payout_id,
            funded,
            approver=approver,
            kyc_status="approved",
            now=datetime.now(UTC),
        )


async def payout(desk: PayoutDesk, payout_id: int) -> PayoutRow:
    async with desk.runtime.db.session(desk.tenant) as session:
        row = await session.get(PayoutRow, payout_id)
        assert row is not None
        return row


async def balances(desk: PayoutDesk) -> dict[str, Decimal]:
    async with desk.runtime.db.session(desk.tenant) as session:
        assert await ledger.totals(session) in ({"USD": Decimal(0)}, {})
        return {b.account: b.natural for b in await ledger.balances(session) if b.natural}


async def test_a_bank_payout_goes_from_request_to_paid_once(payout_runtime: Runtime) -> None:
    desk = await open_payout_desk(payout_runtime)
    challenge_id, account = await open_funded(payout_runtime, desk.tenant)
    login = account.split(":")[1]
    desk.profit(login, "1000")

    async with payout_runtime.db.session(desk.tenant) as session:
        funded = await funded_account(session, desk.tenant.schema, challenge_id)
        quoted = quote_of(funded, await live_case(payout_runtime, desk.tenant, session, funded))
    assert (quoted.eligible, quoted.payable, quoted.firm_share) == (
        True,
        Decimal("800.00"),
        Decimal("200.00"),
    )
    requested = await request(desk, challenge_id)
    assert (requested.status, requested.amount) == ("requested", quoted.payable)

    assert await advance(payout_runtime, desk.tenant, requested.id) == "pending_review"
    assert await advance(payout_runtime, desk.tenant, requested.id) == "pending_review"
    [withdrawal] = desk.platform.calls("withdraw")
    assert withdrawal.args["amount"] == Decimal("1000.00")
    assert desk.platform.state(login).balance == Decimal("100000.00")
    with pytest.raises(Conflict, match="someone other than who requested"):
        await approve(desk, requested.id, "trader:1")

    approved = await approve(desk, requested.id, "user:finance-1")
    assert approved.status == "approved"
    # The bank rail waits for finance: the worker records the attempt and stops.
    assert await advance(payout_runtime, desk.tenant, requested.id) == "paying"
    async with payout_runtime.db.unit_of_work(desk.tenant) as session:
        paid = await service.confirm(
            session,
            None,
            requested.id,
            actor="user:finance-2",
            reference="BANK-REF-77",
            now=datetime.now(UTC),
        )
    assert (paid.status, paid.rail_reference) == ("paid", "BANK-REF-77")
    async with payout_runtime.db.unit_of_work(desk.tenant) as session:  # a repeat is harmless
        await service.confirm(
            session, None, requested.id, actor="x", reference="BANK-REF-77", now=datetime.now(UTC)
        )
    assert await balances(desk) == {
        "payout_expense": Decimal("800.00"),
        "cash_at_bank": Decimal("-800.00"),
    }
    async with payout_runtime.db.session(desk.tenant) as session:
        steps = list(
            await session.scalars(
                select(PayoutStep.event)
                .where(PayoutStep.payout_id == requested.id)
                .order_by(PayoutStep.seq)
            )
        )
    assert steps == ["requested", "withdrawn", "approved", "submitted", "paid"]


async def test_the_request_refuses_exactly_what_the_quote_refuses(payout_runtime: Runtime) -> None:
    desk = await open_payout_desk(payout_runtime)
    challenge_id, account = await open_funded(payout_runtime, desk.tenant)
    login = account.split(":")[1]
    desk.profit(login, "1000")
    desk.platform.open_position(login, "EURUSD", "buy", "1", "1.10000")

    async with payout_runtime.db.session(desk.tenant) as session:
        funded = await funded_account(session, desk.tenant.schema, challenge_id)
        quoted = quote_of(funded, await live_case(payout_runtime, desk.tenant, session, funded))
    assert [r.rule for r in quoted.refusals] == ["flat_required"]
    with pytest.raises(NotEligible) as refused:
        await request(desk, challenge_id)
    assert refused.value.refusals == quoted.refusals
    assert "close every position first: 1 open" in str(refused.value)
    async with payout_runtime.db.session(desk.tenant) as session:
        assert await session.scalar(select(PayoutRow.id)) is None


async def test_above_the_threshold_a_second_different_approver_is_needed(
    payout_runtime: Runtime,
) -> None:
    desk = await open_payout_desk(payout_runtime)
    challenge_id, account = await open_funded(payout_runtime, desk.tenant)
    desk.profit(account.split(":")[1], "10000")
    requested = await request(desk, challenge_id, threshold=Decimal("5000"))
    assert requested.approvals_required == 2
    await advance(payout_runtime, desk.tenant, requested.id)
    first = await approve(desk, requested.id, "user:a")
    assert first.status == "pending_review"
    with pytest.raises(Conflict, match="another approver must"):
        await approve(desk, requested.id, "user:a")
    second = await approve(desk, requested.id, "user:b")
    assert second.status == "approved"
    with pytest.raises(PayoutStateError, match="approved cannot be approved"):
        await approve(desk, requested.id, "user:c")


async def test_one_payout_at_a_time_and_a_rejected_one_returns_its_profit_once(
    payout_runtime: Runtime,
) -> None:
    desk = await open_payout_desk(payout_runtime)
    challenge_id, account = await open_funded(payout_runtime, desk.tenant)
    login = account.split(":")[1]
    desk.profit(login, "2000")
    requested = await request(desk, challenge_id)
    with pytest.raises(Conflict, match="one payout at a time"):
        await request(desk, challenge_id)
    await advance(payout_runtime, desk.tenant, requested.id)
    assert desk.platform.state(login).balance == Decimal("100000.00")
    async with payout_runtime.db.unit_of_work(desk.tenant) as session:
        await service.reject(
            session,
            None,
            requested.id,
            actor="user:risk",
            disposition="return",
            reason="copy trading across two accounts (case 12)",
            now=datetime.now(UTC),
        )
    assert await advance(payout_runtime, desk.tenant, requested.id) == "rejected"
    assert await advance(payout_runtime, desk.tenant, requested.id) == "rejected"
    assert len(desk.platform.calls("deposit")) == 1
    assert desk.platform.state(login).balance == Decimal("102000.00")
    assert (await payout(desk, requested.id)).returned_ticket is not None
    assert await balances(desk) == {}  # nothing was owed, nothing paid


async def test_a_refused_payment_fails_and_a_retry_pays_with_a_new_attempt(
    payout_runtime: Runtime,
) -> None:
    desk = await open_payout_desk(payout_runtime)
    challenge_id, account = await open_funded(payout_runtime, desk.tenant)
    desk.profit(account.split(":")[1], "1000")
    requested = await request(
        desk, challenge_id, rail="counting", destination={"account": "acct_closed_1"}
    )
    await advance(payout_runtime, desk.tenant, requested.id)
    await approve(desk, requested.id, "user:finance")
    CountingRail.refuse.add("acct_closed_1")
    assert await advance(payout_runtime, desk.tenant, requested.id) == "failed"
    assert "closed" in ((await payout(desk, requested.id)).failure or "")
    CountingRail.refuse.discard("acct_closed_1")
    async with payout_runtime.db.unit_of_work(desk.tenant) as session:
        await service.retry(session, None, requested.id, actor="user:f", now=datetime.now(UTC))
    assert await advance(payout_runtime, desk.tenant, requested.id) == "paid"
    assert CountingRail.transfers[f"payout:{requested.id}"] == 1
    async with payout_runtime.db.session(desk.tenant) as session:
        attempts = list(
            await session.execute(
                select(PayoutPayment.attempt, PayoutPayment.status)
                .where(PayoutPayment.payout_id == requested.id)
                .order_by(PayoutPayment.attempt)
            )
        )
    assert [tuple(a) for a in attempts] == [(1, "failed"), (2, "paid")]
    assert await balances(desk) == {
        "payout_expense": Decimal("800.00"),
        "cash_at_psp": Decimal("-800.00"),
    }
    # The database itself refuses a second live payment of a payout.
    with pytest.raises(IntegrityError):
        async with payout_runtime.db.unit_of_work(desk.tenant) as session:
            session.add(
                PayoutPayment(
                    payout_id=requested.id,
                    attempt=3,
                    rail="counting",
                    idempotency_key="another",
                    status="submitted",
                )
            )


async def test_approval_refuses_what_the_quote_would_refuse_now(payout_runtime: Runtime) -> None:
    policy = {"split_percent": "80", "cadence": "on_demand", "kyc_required": True}
    desk = await open_payout_desk(payout_runtime, payout=policy)
    async with payout_runtime.db.unit_of_work(desk.tenant) as session:
        trader = await traders.register(
            session,
            email="ana@traders.example",
            password="correct horse battery",
            name="Ana Trader",
            country="DE",
            accept_terms=True,
        )
        trader.kyc_status = "approved"
    challenge_id, account = await open_funded(payout_runtime, desk.tenant)
    desk.profit(account.split(":")[1], "1000")
    requested = await request(desk, challenge_id)
    await advance(payout_runtime, desk.tenant, requested.id)
    async with payout_runtime.db.unit_of_work(desk.tenant) as session:
        found = await traders.find(session, "ana@traders.example")
        assert found is not None
        found.kyc_status, found.kyc_reason = "rejected_final", "document forged"
    with pytest.raises(NotEligible) as refused:
        async with payout_runtime.db.unit_of_work(desk.tenant) as session:
            funded = await funded_account(session, desk.tenant.schema, challenge_id, trading=False)
            assert funded.trader is not None
            await service.approve(
                session,
                None,
                requested.id,
                funded,
                approver="user:finance",
                kyc_status=funded.trader.kyc_status,
                now=datetime.now(UTC),
            )
    assert [r.rule for r in refused.value.refusals] == ["kyc"]
    assert (await payout(desk, requested.id)).status == "pending_review"


async def test_a_payout_that_meets_the_plan_scales_the_account(payout_runtime: Runtime) -> None:
    plan = {
        "cycle_months": 1,
        "min_profit_percent": "2",
        "min_payouts": 2,
        "balance_increase_percent": "25",
        "split_percent": "90",
    }
    desk = await open_payout_desk(payout_runtime, scaling=plan)
    challenge_id, account = await open_funded(payout_runtime, desk.tenant)
    login = account.split(":")[1]
    async with payout_runtime.db.unit_of_work(desk.tenant) as session:
        await session.execute(
            update(TradingAccount)
            .where(TradingAccount.challenge_id == challenge_id)
            .values(opened_at=datetime.now(UTC) - timedelta(days=40))
        )

    async def pay_out(profit: str) -> PayoutRow:
        desk.profit(login, profit)
        made = await request(
            desk, challenge_id, rail="counting", destination={"account": "acct_scale"}
        )
        await advance(payout_runtime, desk.tenant, made.id)
        await approve(desk, made.id, "user:finance")
        await advance(payout_runtime, desk.tenant, made.id)
        return await payout(desk, made.id)

    first = await pay_out("2500")
    assert (first.status, first.scaling_reviewed_at is not None) == ("paid", True)
    second = await pay_out("1500")
    assert second.status == "paid"
    async with payout_runtime.db.session(desk.tenant) as session:
        details = dict(
            (
                await session.execute(
                    select(PayoutStep.payout_id, PayoutStep.detail).where(
                        PayoutStep.event.in_(("scaling_reviewed", "scaled"))
                    )
                )
            ).all()
        )
        [step] = (await session.scalars(select(ScalingStep))).all()
        _row, challenge = await load_challenge(session, challenge_id)
    assert "1 payouts in the cycle; the plan needs 2" in details[first.id]
    assert "4.00% net profit and 2 payouts" in details[second.id]
    assert (step.from_balance, step.balance, step.split_percent) == (
        Decimal("100000.00"),
        Decimal("125000.00"),
        Decimal("90"),
    )
    assert (challenge.status, challenge.attempt) == ("provisioning", 2)
    assert not desk.platform.trading_enabled(login)

    made = await provision_account(payout_runtime, desk.tenant, challenge_id)
    assert made is not None
    new_login = made.account.split(":")[1]
    assert desk.platform.state(new_login).balance == Decimal("125000.00")
    desk.profit(new_login, "1000")
    async with payout_runtime.db.session(desk.tenant) as session:
        funded = await funded_account(session, desk.tenant.schema, challenge_id)
        quoted = quote_of(funded, await live_case(payout_runtime, desk.tenant, session, funded))
    assert (quoted.split_percent, quoted.payable) == (Decimal("90"), Decimal("900.00"))
