"""Two approvers and two workers race on the same payout, 1,000 times: exactly one payment each
time. Half the races need one approval (the second approver is refused), half need two (both
approvals count, in either order); the workers start before, during and after the approvals."""

from __future__ import annotations

import asyncio
import os
import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from conftest import CountingRail, PayoutDesk, open_payout_desk
from sqlalchemy import func, select

from propdesk.errors import Conflict
from propdesk.ledger import service as ledger
from propdesk.payouts import service
from propdesk.payouts.case import funded_account, live_case
from propdesk.payouts.models import PayoutPayment, PayoutRow
from propdesk.payouts.runner import advance
from propdesk.payouts.workflow import PAID
from propdesk.runtime import Runtime
from propdesk.testing.payouts import open_funded

pytestmark = pytest.mark.asyncio(loop_scope="session")
RACES = int(os.environ.get("PROPDESK_PAYOUT_RACES", "1000"))
#: Challenges racing side by side (each race is still on one payout of one challenge).
LANES = 10


async def seed(desk: PayoutDesk, template: PayoutRow, number: int, required: int) -> int:
    """A payout under review, its profit withdrawn, as the request and the worker leave it."""
    async with desk.runtime.db.unit_of_work(desk.tenant) as session:
        row = PayoutRow(
            **{
                c.key: getattr(template, c.key)
                for c in PayoutRow.__table__.columns
                if c.key not in ("id", "number", "status", "approvals_required")
            },
            number=number,
            status="pending_review",
            approvals_required=required,
        )
        row.withdrawal_ticket, row.withdrawn_at = f"T{number}", datetime.now(UTC)
        session.add(row)
        await session.flush()
        return row.id


async def approver(desk: PayoutDesk, payout_id: int, who: str, delay: float) -> str:
    await asyncio.sleep(delay)
    try:
        async with desk.runtime.db.unit_of_work(desk.tenant) as session:
            payout = await session.get(PayoutRow, payout_id)
            assert payout is not None
            funded = await funded_account(
                session, desk.tenant.schema, payout.challenge_id, trading=False
            )
            await service.approve(
                session,
                None,
                payout_id,
                funded,
                approver=who,
                kyc_status="approved",
                now=datetime.now(UTC),
            )
        return "approved"
    except Conflict:
        return "refused"


async def worker(desk: PayoutDesk, payout_id: int, delay: float) -> None:
    await asyncio.sleep(delay)
    for _ in range(200):
        if await advance(desk.runtime, desk.tenant, payout_id) == PAID:
            return
        await asyncio.sleep(0.01)


async def template(desk: PayoutDesk, trader: int) -> PayoutRow:
    """A payout the real request made on a funded account of its own: what the races copy."""
    challenge_id, account = await open_funded(
        desk.runtime, desk.tenant, trader_email=f"t{trader}@traders.example"
    )
    desk.profit(account.split(":")[1], "1000")
    async with desk.runtime.db.unit_of_work(desk.tenant) as session:
        funded = await funded_account(session, desk.tenant.schema, challenge_id)
        case = await live_case(desk.runtime, desk.tenant, session, funded)
        first = await service.request_payout(
            session,
            None,
            funded,
            case,
            rail="counting",
            destination={"account": "acct_race"},
            second_approval_above=None,
            actor="trader:1",
        )
        first.status = "cancelled"  # a template only: the races bring their own payouts
        return first


async def lane(desk: PayoutDesk, first: PayoutRow, races: range, seed_: int) -> list[int]:
    """Races one after the other on one challenge (one payout in flight at a time)."""
    rng, ids = random.Random(seed_), []
    for race in races:
        required = 1 + race % 2
        payout_id = await seed(desk, first, race + 2, required)
        ids.append(payout_id)
        jitter = [rng.uniform(0, 0.004) for _ in range(4)]
        results = await asyncio.gather(
            approver(desk, payout_id, "user:a", jitter[0]),
            approver(desk, payout_id, "user:b", jitter[1]),
            worker(desk, payout_id, jitter[2]),
            worker(desk, payout_id, jitter[3]),
        )
        approvals = sorted(r for r in results[:2] if r)
        assert approvals == (
            ["approved", "refused"] if required == 1 else ["approved", "approved"]
        ), f"race {race}: {approvals}"
    return ids


async def test_two_approvers_and_two_workers_pay_each_payout_exactly_once(
    payout_runtime: Runtime,
) -> None:
    desk = await open_payout_desk(payout_runtime)
    templates = [await template(desk, n) for n in range(LANES)]
    lanes = await asyncio.gather(
        *(lane(desk, t, range(n, RACES, LANES), n) for n, t in enumerate(templates))
    )
    ids = [i for found in lanes for i in found]
    assert len(ids) == RACES

    assert all(CountingRail.transfers[f"payout:{i}"] == 1 for i in ids)
    async with payout_runtime.db.session(desk.tenant) as session:
        paid = await session.scalar(
            select(func.count()).where(PayoutRow.id.in_(ids), PayoutRow.status == PAID)
        )
        payments = await session.scalar(
            select(func.count()).where(PayoutPayment.payout_id.in_(ids))
        )
        balances = {b.account: b.natural for b in await ledger.balances(session)}
    assert (paid, payments) == (RACES, RACES)
    assert balances["payouts_payable"] == 0
    assert balances["cash_at_psp"] == -RACES * Decimal("800.00")
