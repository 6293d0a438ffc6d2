"""An account's balance and equity over time, with its loss floors, for the trader's chart.

The points are the journal's readings (the opening and the platform's snapshots), thinned to at
most ``points`` evenly spread ones (always keeping the last); each carries the daily-loss and
maximum-loss floors of its trading day as the engine recorded them (``account_days``). Read
only; the session is the desk's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.engine.models import AccountDay, AccountEvent
from propdesk.engine.wire import decode
from propdesk.rules.clock import LocalTime
from propdesk.rules.events import AccountOpened, Snapshot

DEFAULT_POINTS = 240
READINGS = ("account_opened", "snapshot")


@dataclass(frozen=True, slots=True)
class CurvePoint:
    time: datetime
    #: The trading day the reading belongs to.
    day: date
    balance: Decimal
    equity: Decimal
    daily_floor: Decimal | None
    max_loss_floor: Decimal | None


async def equity_curve(
    session: AsyncSession, account_id: int, trading_day: LocalTime, *, points: int = DEFAULT_POINTS
) -> list[CurvePoint]:
    """The account's readings, oldest first, at most ``points`` of them (see the module)."""
    ranked = (
        select(
            AccountEvent.seq,
            AccountEvent.body,
            func.row_number().over(order_by=AccountEvent.seq).label("n"),
            func.count().over().label("total"),
        )
        .where(AccountEvent.account_id == account_id, AccountEvent.type.in_(READINGS))
        .subquery()
    )
    step = func.greatest(1, ranked.c.total // points)
    bodies = await session.scalars(
        select(ranked.c.body)
        .where(((ranked.c.n - 1) % step == 0) | (ranked.c.n == ranked.c.total))
        .order_by(ranked.c.seq)
    )
    floors = await _floors(session, account_id)
    curve = []
    for body in bodies:
        event = decode(body.encode())
        if isinstance(event, Snapshot):
            balance, equity = event.balance, event.equity
        elif isinstance(event, AccountOpened):
            balance = equity = event.balance
        else:
            continue
        day = trading_day.day_of(event.time)
        daily, max_loss = floors.get(day, (None, None))
        curve.append(CurvePoint(event.time, day, balance, equity, daily, max_loss))
    return curve


async def _floors(
    session: AsyncSession, account_id: int
) -> dict[date, tuple[Decimal | None, Decimal | None]]:
    rows = await session.execute(
        select(AccountDay.day, AccountDay.daily_floor, AccountDay.max_loss_floor).where(
            AccountDay.account_id == account_id
        )
    )
    return {day: (daily, max_loss) for day, daily, max_loss in rows}
