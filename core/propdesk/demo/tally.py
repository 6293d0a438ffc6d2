"""What happened on the demo's desks, read from their databases (never from the traders'
intentions): orders paid, breaches, passes and payouts paid, each once, as it happens."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from propdesk.access.models import StaffUser
from propdesk.lifecycle.models import ChallengeHistory, ChallengeRow
from propdesk.orders.models import OrderRow
from propdesk.payouts.models import PayoutApproval, PayoutRow
from propdesk.rules.money import money
from propdesk.tenancy.context import TenantContext
from propdesk.traders.models import Trader

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from propdesk.runtime import Runtime

#: What is counted, in the order of the summary line.
COUNTED = ("purchases", "breaches", "passes", "payouts")
_KIND = {"breached": "breaches", "passed": "passes", "paused": "pauses"}


@dataclass(frozen=True)
class Happening:
    #: What it is about (``("order", 7)``): one happening per key.
    key: tuple[str, object]
    at: datetime
    desk: str
    #: ``purchases``, ``breaches``, ``passes``, ``payouts`` (those are counted), ``pauses`` or
    #: ``approvals``.
    kind: str
    who: str
    what: str


class Watcher:
    """Looks at the desks now and then; each look gives what happened since the last one."""

    def __init__(self, runtime: Runtime, desks: list[str], started: float) -> None:
        self.runtime, self.desks, self.started = runtime, desks, started
        self.counts: dict[str, Counter[str]] = {desk: Counter() for desk in desks}
        #: Seconds from ``started`` (a ``time.monotonic()``) to the first of each counted kind.
        self.first: dict[str, float] = {}
        self._seen: set[tuple[str, str, object]] = set()
        #: Staff e-mail by audit actor (``user:<id>``).
        self._staff: dict[str, str] = {}

    async def look(self) -> list[Happening]:
        found = []
        for desk in self.desks:
            async with self.runtime.db.session(TenantContext(desk)) as session:
                for happening in await _happenings(session, desk):
                    if (desk, *happening.key) not in self._seen:
                        self._seen.add((desk, *happening.key))
                        found.append(happening)
        found = [replace(h, who=await self._who(h.who)) for h in found]
        found.sort(key=lambda h: h.at)
        for happening in found:
            self.counts[happening.desk][happening.kind] += 1
            if happening.kind in COUNTED:
                self.first.setdefault(happening.kind, round(time.monotonic() - self.started, 1))
        return found

    async def _who(self, actor: str) -> str:
        if not actor.startswith("user:"):
            return actor
        if actor not in self._staff:
            async with self.runtime.db.session() as session:
                users = await session.execute(select(StaffUser.id, StaffUser.email))
                self._staff.update({f"user:{i}": email for i, email in users})
        return self._staff.get(actor, actor)

    def line(self, desk: str | None = None) -> dict[str, int]:
        """The counts of one desk, or of all."""
        desks = [desk] if desk else self.desks
        return {kind: sum(self.counts[d][kind] for d in desks) for kind in COUNTED}


async def _happenings(session: AsyncSession, desk: str) -> list[Happening]:
    """Everything worth a line."""
    out = []
    orders = await session.execute(
        select(OrderRow, Trader.email)
        .join(Trader, Trader.id == OrderRow.trader_id)
        .where(OrderRow.paid_at.is_not(None))
    )
    for order, email in orders:
        what = f"bought {order.product_code} {order.size} for {money(order.total)} {order.currency}"
        assert order.paid_at is not None
        out.append(Happening(("order", order.id), order.paid_at, desk, "purchases", email, what))
    history = await session.execute(
        select(ChallengeHistory, ChallengeRow.trader_email, ChallengeRow.product_code)
        .join(ChallengeRow, ChallengeRow.id == ChallengeHistory.challenge_id)
        .where(ChallengeHistory.event.in_(_KIND))
    )
    for step, email, product in history:
        why = f": {step.explanation}" if step.explanation else ""
        what = f"{step.event} {product} phase {step.phase + 1}{why}"
        step_key = ("step", (step.challenge_id, step.seq))
        out.append(Happening(step_key, step.at, desk, _KIND[step.event], email, what))
    approvals = await session.execute(
        select(PayoutApproval, PayoutRow).join(PayoutRow, PayoutRow.id == PayoutApproval.payout_id)
    )
    for approval, payout in approvals:
        what = f"payout {payout.id} of {money(payout.amount)} {payout.currency} approved"
        approval_key = ("approval", (approval.payout_id, approval.approver))
        out.append(Happening(approval_key, approval.at, desk, "approvals", approval.approver, what))
    for payout in await session.scalars(select(PayoutRow).where(PayoutRow.status == "paid")):
        what = (
            f"was paid {money(payout.amount)} {payout.currency} by {payout.rail} "
            f"({payout.rail_reference})"
        )
        # Stripe stamps a payment to the second: never before the approval.
        at = max(t for t in (payout.paid_at, payout.approved_at, payout.requested_at) if t)
        who = payout.trader_email
        out.append(Happening(("payout", payout.id), at, desk, "payouts", who, what))
    return out
