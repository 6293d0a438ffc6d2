"""Reading each desk for the consolidated report: its ledger, orders and lifecycle history.

One session per desk, each in its own schema (queries never span desks); each desk is read
in one repeatable-read snapshot, so its money and its counts agree with each other.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, String, and_, cast, func, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.ledger.models import LedgerEntry, LedgerTransaction
from propdesk.lifecycle import machine
from propdesk.lifecycle.models import ChallengeHistory, ChallengeRow
from propdesk.orders.models import OrderRow
from propdesk.reports.conversion import Rates
from propdesk.reports.figures import (
    Consolidated,
    DayMoney,
    Desk,
    DeskActivity,
    Money,
    PhaseOutcome,
    consolidate,
)
from propdesk.reports.period import Period, period_of
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.models import Tenant

if TYPE_CHECKING:
    from propdesk.runtime import Runtime

#: Ledger account -> the figure its movements make, with the sign that makes it positive.
FIGURES: dict[str, tuple[str, int]] = {
    "fee_revenue": ("revenue", -1),
    "refunds": ("refunds", 1),
    "chargebacks": ("chargebacks", 1),
    "payout_expense": ("payouts", 1),
}
#: Cash leaving for payouts: the cash side of a paid payout (and of its reversal, if any).
CASH = ("cash_at_bank", "cash_at_psp")
PAYOUT_KINDS = ("payout", "payout.reversal")
#: History events that end an attempt at a phase with a verdict, and those that undo one.
PASSING = ("passed", "advance")
ENDING = (*PASSING, "breached", "expired")
REOPENING = ("reinstate", "extend")
FUNDED_KINDS = (machine.FUNDED, machine.INSTANT)
TRADING = (machine.ACTIVE, machine.FUNDED, machine.PAUSED)


async def report(
    runtime: Runtime,
    *,
    preset: str | None = None,
    first: str | None = None,
    last: str | None = None,
    now: datetime | None = None,
) -> Consolidated:
    """The report for the period asked for (``period.period_of``), at the configured rates.

    :raises InvalidInput: the period is not valid (naming ``period``, ``from`` or ``to``).
    """
    now = now or datetime.now(UTC)
    period = period_of(preset=preset, first=first, last=last, today=now.date())
    return await consolidated(runtime, period, Rates.from_settings(runtime.settings), now=now)


async def consolidated(
    runtime: Runtime, period: Period, rates: Rates, *, now: datetime | None = None
) -> Consolidated:
    """Every desk's figures for ``period``, converted at ``rates`` and added up."""
    read: list[tuple[Desk, DeskActivity]] = []
    for desk in await desks(runtime):
        tenant = TenantContext(desk.slug, desk.name, desk.status)
        async with runtime.db.session(tenant) as session:
            read.append((desk, await activity(session, period)))
    return consolidate(period, rates, read, now or datetime.now(UTC))


async def desks(runtime: Runtime) -> list[Desk]:
    """Every desk in the registry, suspended ones too (their books still count), by name."""
    async with runtime.db.session() as session:
        rows = await session.scalars(select(Tenant).order_by(Tenant.display_name, Tenant.slug))
        return [Desk(t.slug, t.display_name, t.base_currency, t.status) for t in rows]


async def activity(session: AsyncSession, period: Period) -> DeskActivity:
    """One desk's money, orders and phase outcomes in ``period`` (the session's desk)."""
    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    days = await _days(session, period)
    booked: dict[str, Money] = defaultdict(Money)
    for (_, currency), money in days.items():
        booked[currency] += money
    orders = await _paid_orders(session, period)
    return DeskActivity(
        booked=dict(booked),
        days=tuple(DayMoney(d, c, m.revenue, m.payouts) for (d, c), m in days.items()),
        purchases=orders.get("purchase", 0),
        resets=orders.get("reset", 0) + orders.get("retry", 0),
        funded=await _funded_now(session),
        phases=await _phase_outcomes(session, period),
    )


def _within(column: Any, period: Period) -> Any:
    upper = column < period.end
    return upper if period.start is None else and_(column >= period.start, upper)


def _figure(account: str, amount: Decimal) -> Money:
    """What a movement of ``amount`` on ``account`` adds to the figures."""
    if account in FIGURES:
        name, sign = FIGURES[account]
        return Money(**{name: sign * amount})
    return Money(paid_out=-amount)  # cash out for a payout


async def _days(session: AsyncSession, period: Period) -> dict[tuple[date, str], Money]:
    """Money per UTC day and currency."""
    tx, entry = LedgerTransaction, LedgerEntry
    day = cast(func.timezone("UTC", tx.occurred_at), Date)
    rows = await session.execute(
        select(day, tx.currency, entry.account, func.sum(entry.amount))
        .join(tx, tx.id == entry.transaction_id)
        .where(
            _within(tx.occurred_at, period),
            or_(
                entry.account.in_(FIGURES),
                and_(entry.account.in_(CASH), tx.kind.in_(PAYOUT_KINDS)),
            ),
        )
        .group_by(day, tx.currency, entry.account)
        .order_by(day, tx.currency)
    )
    found: dict[tuple[date, str], Money] = defaultdict(Money)
    for day_, currency, account, amount in rows.all():
        found[(day_, currency)] += _figure(account, Decimal(amount))
    return found


async def _paid_orders(session: AsyncSession, period: Period) -> dict[str, int]:
    rows = await session.execute(
        select(OrderRow.kind, func.count())
        .where(OrderRow.paid_at.is_not(None), _within(OrderRow.paid_at, period))
        .group_by(OrderRow.kind)
    )
    return {kind: count for kind, count in rows.all()}


def _phase_kind(phase: Any) -> Any:
    """The kind (evaluation, funded, instant) of phase index ``phase`` of the challenge."""
    return ChallengeRow.phases.op("->")(phase).op("->>", return_type=String)("kind")


async def _funded_now(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).where(
            ChallengeRow.status.in_(TRADING), _phase_kind(ChallengeRow.phase).in_(FUNDED_KINDS)
        )
    )
    return int(count or 0)


async def _phase_outcomes(session: AsyncSession, period: Period) -> tuple[PhaseOutcome, ...]:
    """Per evaluation phase: attempts whose verdict fell in the period, and those that passed.

    An attempt's verdict is its last passing or failing event, unless an operator reopened it
    since (reinstated or extended it): then it has none yet.
    """
    h = ChallengeHistory
    last = (
        select(h.challenge_id, h.phase, h.event, h.at)
        .where(h.event.in_(ENDING + REOPENING))
        .ext(distinct_on(h.challenge_id, h.phase, h.attempt))
        .order_by(h.challenge_id, h.phase, h.attempt, h.seq.desc())
        .subquery()
    )
    rows = await session.execute(
        select(last.c.phase, func.count().filter(last.c.event.in_(PASSING)), func.count())
        .join(ChallengeRow, ChallengeRow.id == last.c.challenge_id)
        .where(
            last.c.event.in_(ENDING),
            _within(last.c.at, period),
            _phase_kind(last.c.phase) == machine.EVALUATION,
        )
        .group_by(last.c.phase)
        .order_by(last.c.phase)
    )
    return tuple(PhaseOutcome(phase + 1, passed, ended) for phase, passed, ended in rows.all())
