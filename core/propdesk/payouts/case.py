"""The live facts of a funded account that eligibility reads, gathered in one place.

The quote, the request and the approval all come through here and through
``eligibility.quote``: what differs between them is only *when* the facts are read. Balance and
open positions come from the platform (the broker is the truth); the closed profit of each
trading day since the last payout comes from the account's journal, so that a balance operation
(a withdrawn payout, a returned one) is never mistaken for a day's trading.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.catalogue.product import effective_terms, phases
from propdesk.engine.models import AccountEvent, TradingAccount
from propdesk.engine.store import product_content
from propdesk.engine.wire import decode
from propdesk.errors import Conflict, NotFound
from propdesk.lifecycle.machine import ACTIVE, FUNDED, INSTANT, Challenge
from propdesk.lifecycle.models import ChallengeRow
from propdesk.lifecycle.service import load_challenge
from propdesk.orders.models import OrderRow
from propdesk.payouts.eligibility import PayoutCase, Quote, quote
from propdesk.payouts.models import PayoutRow, ScalingStep
from propdesk.payouts.workflow import PAID
from propdesk.plugins.desk import desk_platform
from propdesk.rules.clock import LocalTime
from propdesk.rules.events import Deal
from propdesk.traders.models import Trader

if TYPE_CHECKING:
    from propdesk.platforms.contract import AccountState
    from propdesk.runtime import Runtime
    from propdesk.tenancy.context import TenantContext


class NotPayable(Conflict):
    """The challenge is not on a funded account now (evaluating, failed, paused ...)."""

    title = "No funded account"
    slug = "not-funded"


@dataclass(frozen=True, slots=True)
class FundedAccount:
    """A challenge trading on a funded (or instant-funded) account, and its payout terms."""

    row: ChallengeRow
    state: Challenge
    account: TradingAccount
    product: Mapping[str, Any]
    #: The product's payout policy after add-ons and scaling (the split may have grown).
    policy: Mapping[str, Any]
    scaling: Mapping[str, Any] | None
    fee_refund_with: int | None
    trader: Trader | None
    #: When the challenge's first funded account opened (the waiting period counts from it).
    funded_at: datetime
    scaled_steps: int

    @property
    def platform(self) -> str:
        return self.account.platform

    @property
    def login(self) -> str:
        return self.account.login


async def funded_account(
    session: AsyncSession, schema: str, challenge_id: int, *, trading: bool = True
) -> FundedAccount:
    """The challenge ``challenge_id`` if it trades on a funded account now (``trading=False``:
    whatever its status, for a payout requested earlier).

    :raises NotFound: no such challenge. :raises NotPayable: it is not funded now.
    """
    row, state = await load_challenge(session, challenge_id)
    product = await product_content(session, schema, state.version_hash)
    listed = phases(product)
    kind = listed[state.phase].kind if 0 <= state.phase < len(listed) else None
    funded = state.status == FUNDED or (state.status == ACTIVE and kind == INSTANT)
    if trading and not funded:
        raise NotPayable(
            f"challenge {challenge_id} is {state.status} (phase {state.phase + 1}, {kind}): "
            "payouts come from a funded account that is trading"
        )
    account = await session.scalar(
        select(TradingAccount).where(
            TradingAccount.challenge_id == challenge_id,
            TradingAccount.phase == state.phase,
            TradingAccount.attempt == state.attempt,
        )
    )
    if account is None:
        raise NotPayable(f"challenge {challenge_id} has no trading account yet")
    terms = effective_terms(product, tuple(row.addons or ()))
    policy = dict(terms.get("payout") or {})
    step = await session.scalar(
        select(ScalingStep)
        .where(ScalingStep.challenge_id == challenge_id)
        .order_by(ScalingStep.step.desc())
        .limit(1)
    )
    if step is not None and step.split_percent is not None:
        policy = {**policy, "split_percent": str(step.split_percent), "split_tiers": []}
    first_funded = await session.scalar(
        select(func.min(TradingAccount.opened_at)).where(
            TradingAccount.challenge_id == challenge_id, TradingAccount.phase == state.phase
        )
    )
    trader = await session.scalar(
        select(Trader).where(func.lower(Trader.email) == row.trader_email.lower())
    )
    refund = terms.get("fee_refund") or {}
    return FundedAccount(
        row=row,
        state=state,
        account=account,
        product=product,
        policy=policy,
        scaling=terms.get("scaling"),
        fee_refund_with=int(refund["with_payout"]) if refund.get("with_payout") else None,
        trader=trader,
        funded_at=first_funded or account.opened_at,
        scaled_steps=step.step if step is not None else 0,
    )


async def payout_case(
    session: AsyncSession, funded: FundedAccount, live: AccountState, now: datetime
) -> PayoutCase:
    """The numbers eligibility reads, with the platform's ``live`` balance and positions."""
    paid = (
        await session.execute(
            select(func.count(), func.max(PayoutRow.requested_at)).where(
                PayoutRow.challenge_id == funded.row.id, PayoutRow.status == PAID
            )
        )
    ).one()
    since = await session.scalar(
        select(func.max(PayoutRow.withdrawn_at)).where(
            PayoutRow.account_id == funded.account.id,
            PayoutRow.status.not_in(("cancelled",)),
            PayoutRow.withdrawn_at.is_not(None),
        )
    )
    fee = await session.scalar(
        select(func.coalesce(func.sum(OrderRow.total), 0)).where(
            OrderRow.challenge_id == funded.row.id, OrderRow.status == "paid"
        )
    )
    return PayoutCase(
        now=now,
        funded_at=funded.funded_at,
        initial_balance=funded.account.initial_balance,
        balance=live.balance,
        open_positions=len(live.positions),
        daily_profits=await daily_profits(session, funded, since),
        payouts_paid=int(paid[0]),
        last_payout_at=paid[1],
        kyc_status=funded.trader.kyc_status if funded.trader is not None else "approved",
        fee_paid=Decimal(fee or 0),
    )


async def daily_profits(
    session: AsyncSession, funded: FundedAccount, since: datetime | None
) -> list[tuple[date, Decimal]]:
    """Closed profit per trading day of the account's deals after ``since``, oldest first."""
    day = LocalTime.parse(funded.product["trading_day"])
    query = select(AccountEvent.body).where(
        AccountEvent.account_id == funded.account.id, AccountEvent.type == "deal"
    )
    if since is not None:
        query = query.where(AccountEvent.time > since)
    totals: dict[date, Decimal] = defaultdict(Decimal)
    for body in await session.scalars(query.order_by(AccountEvent.seq)):
        deal = decode(body.encode())
        if isinstance(deal, Deal):
            totals[day.day_of(deal.time)] += deal.net
    return sorted(totals.items())


async def live_case(
    runtime: Runtime, tenant: TenantContext, session: AsyncSession, funded: FundedAccount
) -> PayoutCase:
    """The case as it stands now: the platform's balance and positions read this moment."""
    adapter = desk_platform(runtime.host, tenant, funded.platform)
    live = await adapter.account_state(funded.login)
    return await payout_case(session, funded, live, datetime.now(UTC))


def quote_of(funded: FundedAccount, case: PayoutCase) -> Quote:
    """The one eligibility call every path makes."""
    return quote(
        funded.policy, case, product=funded.product, fee_refund_with=funded.fee_refund_with
    )


async def challenge_of_trader(session: AsyncSession, challenge_id: int, email: str) -> None:
    """Refuse a challenge that is not the signed-in trader's (as if it did not exist)."""
    owner = await session.scalar(
        select(ChallengeRow.trader_email).where(ChallengeRow.id == challenge_id)
    )
    if owner is None or owner.lower() != email.lower():
        raise NotFound(f"no challenge {challenge_id} of this trader")
