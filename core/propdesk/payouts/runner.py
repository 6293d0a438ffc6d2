"""The payout worker: withdraws the profit, pays through the rail, returns a rejected payout.

``advance`` does whatever the payout's status asks of the worker, step by step, each step
ending in a commit (a recovery point):

``requested``  withdraw the counted profit from the trading account under the platform
               reference ``po<id>w`` (a repeat finds the first withdrawal) -> ``pending_review``
``approved``   record the payment attempt and its idempotency key -> ``paying``
``paying``     ask the rail to pay, always with the attempt's key -> ``paid`` / ``failed``
               (the bank rail waits here for finance's confirmation)
``rejected``   with ``return``: deposit the profit back under ``po<id>r``
``paid``       review the scaling plan once (``scaling.review``); a payout that meets it
               stops the account and scales the challenge onto a larger one (``scaled``)

It may run any number of times, in any number of processes, and be killed anywhere: a lock on
the payout lets one process at a time act on it, the platform and the rail recognise a repeated
reference or key, and a partial unique index allows one live payment per payout. arq is only
the trigger: the outbox delivers ``payout.*`` events at least once, and ``sweep_payouts`` picks
up every payout the worker owes a step, so a killed worker's payout moves on within seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import or_, select

from propdesk.db.locks import exclusive
from propdesk.engine.models import TradingAccount
from propdesk.payouts import workflow
from propdesk.payouts.contract import PayoutInstruction, PayoutRefused
from propdesk.payouts.faults import crash_point
from propdesk.payouts.models import PayoutPayment, PayoutRow
from propdesk.payouts.service import live_payment, locked, settle_paid, step
from propdesk.platforms.contract import Refused
from propdesk.plugins.desk import desk_payout_rail, desk_platform
from propdesk.rules.money import money

if TYPE_CHECKING:
    from propdesk.runtime import Runtime
    from propdesk.tenancy.context import TenantContext

log = structlog.get_logger(__name__)

ACTOR = "system:payouts"
#: Payouts the worker has not moved for this long are picked up by the sweep.
STALE_AFTER = timedelta(seconds=3)


def withdrawal_reference(payout_id: int) -> str:
    return f"po{payout_id}w"


def return_reference(payout_id: int) -> str:
    return f"po{payout_id}r"


def payment_key(tenant: TenantContext, payout_id: int, attempt: int) -> str:
    """The rail's idempotency key of one payment attempt: fixed for the attempt's life."""
    return f"propdesk-{tenant.slug}-payout-{payout_id}-{attempt}"


async def advance(runtime: Runtime, tenant: TenantContext, payout_id: int) -> str | None:
    """Do every step the worker owes the payout now; its status afterwards (None: unknown)."""
    async with exclusive(runtime, f"propdesk.payout:{tenant.schema}:{payout_id}"):
        for _ in range(4):
            async with runtime.db.session(tenant) as session:
                payout = await session.get(PayoutRow, payout_id)
                if payout is None:
                    return None
                account = await session.get(TradingAccount, payout.account_id)
                assert account is not None
                session.expunge_all()
            status = payout.status
            if status == workflow.REQUESTED:
                await _withdraw(runtime, tenant, payout, account)
            elif status == workflow.APPROVED:
                await _submit(runtime, tenant, payout)
            elif status == workflow.PAYING:
                if not await _pay(runtime, tenant, payout):
                    return status
            elif status == workflow.REJECTED and _owes_return(payout):
                await _return(runtime, tenant, payout, account)
            elif status == workflow.PAID and payout.scaling_reviewed_at is None:
                await review_scaling(runtime, tenant, payout, account)
            else:
                return status
        return None


def _owes_return(payout: PayoutRow) -> bool:
    return (
        payout.disposition == "return"
        and payout.withdrawal_ticket is not None
        and payout.returned_at is None
    )


async def _withdraw(
    runtime: Runtime, tenant: TenantContext, payout: PayoutRow, account: TradingAccount
) -> None:
    adapter = desk_platform(runtime.host, tenant, account.platform)
    try:
        done = await adapter.withdraw(
            account.login, payout.counted, withdrawal_reference(payout.id)
        )
    except Refused as exc:
        async with runtime.db.unit_of_work(tenant) as session:
            row = await locked(session, payout.id)
            if row.status != workflow.REQUESTED:
                return
            row.status = workflow.move(row.status, "withdrawal_refused")
            row.failure = f"the platform refused the withdrawal: {exc}"
            await step(session, runtime.queue, row, "withdrawal_refused", ACTOR, row.failure)
        return
    crash_point("withdrawn_not_recorded")
    async with runtime.db.unit_of_work(tenant) as session:
        row = await locked(session, payout.id)
        if row.status != workflow.REQUESTED:
            return
        row.status = workflow.move(row.status, "withdrawn")
        row.withdrawal_ticket, row.withdrawn_at = done.ticket, done.time
        await step(
            session,
            runtime.queue,
            row,
            "withdrawn",
            ACTOR,
            f"{money(payout.counted)} {payout.currency} withdrawn from {account.platform}:"
            f"{account.login} (ticket {done.ticket}); awaiting review",
        )


async def _submit(runtime: Runtime, tenant: TenantContext, payout: PayoutRow) -> None:
    """The recovery point before money moves: the attempt and its key are committed first."""
    async with runtime.db.unit_of_work(tenant) as session:
        row = await locked(session, payout.id)
        if row.status != workflow.APPROVED:
            return
        attempts = await session.scalars(
            select(PayoutPayment.attempt).where(PayoutPayment.payout_id == row.id)
        )
        attempt = 1 + max(attempts, default=0)
        session.add(
            PayoutPayment(
                payout_id=row.id,
                attempt=attempt,
                rail=row.rail,
                idempotency_key=payment_key(tenant, row.id, attempt),
                status="submitted",
            )
        )
        row.status = workflow.move(row.status, "submitted")
        await step(
            session, None, row, "submitted", ACTOR, f"payment attempt {attempt} to {row.rail}"
        )
    crash_point("submitted")


async def _pay(runtime: Runtime, tenant: TenantContext, payout: PayoutRow) -> bool:
    """Ask the rail; False when the payout now waits for someone (a bank confirmation)."""
    async with runtime.db.session(tenant) as session:
        payment = await live_payment(session, payout.id)
        if payment is None:
            raise RuntimeError(f"payout {payout.id} is paying without a payment attempt")
        session.expunge_all()
    rail = desk_payout_rail(runtime.host, tenant, payout.rail)
    instruction = PayoutInstruction(
        reference=f"payout:{payout.id}",
        idempotency_key=payment.idempotency_key,
        amount=payout.amount,
        currency=payout.currency,
        trader_email=payout.trader_email,
        trader_name=payout.trader_name,
        destination=payout.destination,
        description=f"{tenant.display_name or tenant.slug} payout {payout.number} "
        f"(challenge {payout.challenge_id})",
    )
    try:
        result = await rail.pay(instruction)
    except PayoutRefused as exc:
        async with runtime.db.unit_of_work(tenant) as session:
            row = await locked(session, payout.id)
            live = await live_payment(session, payout.id)
            if row.status != workflow.PAYING or live is None or live.id != payment.id:
                return True
            live.status, live.failure = "failed", str(exc)
            live.settled_at = datetime.now(UTC)
            row.status = workflow.move(row.status, "payment_refused")
            code = f" ({exc.provider_code})" if exc.provider_code else ""
            row.failure = f"{payout.rail} refused the payment{code}: {exc}"
            await step(session, runtime.queue, row, "payment_refused", ACTOR, row.failure)
        return True
    if result.status != "paid" or result.rail_reference is None:
        return False
    crash_point("paid_not_recorded")
    async with runtime.db.unit_of_work(tenant) as session:
        row = await locked(session, payout.id)
        live = await live_payment(session, payout.id)
        if row.status != workflow.PAYING or live is None or live.id != payment.id:
            return True
        await settle_paid(
            session,
            runtime.queue,
            row,
            live,
            reference=result.rail_reference,
            actor=ACTOR,
            at=result.at,
        )
    crash_point("paid_recorded")
    return True


async def _return(
    runtime: Runtime, tenant: TenantContext, payout: PayoutRow, account: TradingAccount
) -> None:
    adapter = desk_platform(runtime.host, tenant, account.platform)
    done = await adapter.deposit(account.login, payout.counted, return_reference(payout.id))
    async with runtime.db.unit_of_work(tenant) as session:
        row = await locked(session, payout.id)
        if not _owes_return(row):
            return
        row.returned_ticket, row.returned_at = done.ticket, done.time
        await step(
            session,
            runtime.queue,
            row,
            "returned",
            ACTOR,
            f"{money(payout.counted)} {payout.currency} returned to {account.platform}:"
            f"{account.login} (ticket {done.ticket})",
        )


async def owed(runtime: Runtime, tenant: TenantContext, *, older_than: timedelta) -> list[int]:
    """Payouts the worker owes a step and has not touched for ``older_than``."""
    cutoff = datetime.now(UTC) - older_than
    async with runtime.db.session(tenant) as session:
        rows = await session.scalars(
            select(PayoutRow.id)
            .where(
                PayoutRow.updated_at <= cutoff,
                or_(
                    PayoutRow.status.in_((workflow.REQUESTED, workflow.APPROVED)),
                    (PayoutRow.status == workflow.PAYING) & (PayoutRow.rail != "bank"),
                    (PayoutRow.status == workflow.PAID) & PayoutRow.scaling_reviewed_at.is_(None),
                    (PayoutRow.status == workflow.REJECTED)
                    & (PayoutRow.disposition == "return")
                    & PayoutRow.withdrawal_ticket.is_not(None)
                    & PayoutRow.returned_at.is_(None),
                ),
            )
            .order_by(PayoutRow.id)
            .limit(500)
        )
        return list(rows)


async def review_scaling(
    runtime: Runtime, tenant: TenantContext, payout: PayoutRow, account: TradingAccount
) -> None:
    """Once per paid payout: grow the account if the plan says so, and say why or why not."""
    from propdesk.catalogue.product import size as size_of
    from propdesk.lifecycle.service import apply_transition
    from propdesk.lifecycle.transitions import Scaled
    from propdesk.payouts.case import NotPayable, funded_account
    from propdesk.payouts.models import ScalingStep
    from propdesk.payouts.scaling import ScalingReview, review

    async with runtime.db.session(tenant) as session:
        try:
            funded = await funded_account(session, tenant.schema, payout.challenge_id)
        except NotPayable:
            funded = None
        decision = None
        if funded is not None and funded.scaling and funded.account.id == account.id:
            last = await session.scalar(
                select(ScalingStep)
                .where(ScalingStep.challenge_id == payout.challenge_id)
                .order_by(ScalingStep.step.desc())
                .limit(1)
            )
            start = last.at if last is not None else funded.funded_at
            profits = await session.scalars(
                select(PayoutRow.profit).where(
                    PayoutRow.challenge_id == payout.challenge_id,
                    PayoutRow.status == workflow.PAID,
                    PayoutRow.requested_at >= start,
                )
            )
            live = await desk_platform(runtime.host, tenant, account.platform).account_state(
                account.login
            )
            facts = ScalingReview(
                now=datetime.now(UTC),
                cycle_start=start,
                initial_balance=account.initial_balance,
                size_balance=Decimal(size_of(funded.product, funded.row.size or "")["balance"]),
                balance=live.balance,
                paid_profits=list(profits),
            )
            decision = review(funded.scaling, facts)
            step_number = (last.step if last is not None else 0) + 1
        session.expunge_all()
    if decision is not None and decision.scales:
        # The old account stops before the new one exists: the trader never trades on both.
        await desk_platform(runtime.host, tenant, account.platform).disable_trading(account.login)
    async with runtime.db.unit_of_work(tenant) as session:
        row = await locked(session, payout.id)
        if row.scaling_reviewed_at is not None:
            return
        row.scaling_reviewed_at = datetime.now(UTC)
        if decision is None:
            return
        if not decision.scales:
            await step(session, None, row, "scaling_reviewed", ACTOR, decision.explanation)
            return
        assert decision.balance is not None
        session.add(
            ScalingStep(
                challenge_id=row.challenge_id,
                step=step_number,
                payout_id=row.id,
                at=row.scaling_reviewed_at,
                from_balance=account.initial_balance,
                balance=decision.balance,
                split_percent=decision.split_percent,
                explanation=decision.explanation,
            )
        )
        await apply_transition(
            session,
            runtime.queue,
            row.challenge_id,
            Scaled(
                at=row.scaling_reviewed_at,
                balance=str(decision.balance),
                explanation=decision.explanation,
            ),
            actor=ACTOR,
        )
        await step(session, runtime.queue, row, "scaled", ACTOR, decision.explanation)
