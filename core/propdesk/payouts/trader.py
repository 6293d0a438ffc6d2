"""The trader's side of payouts: the quote as it stands this moment, the request under it, and
their payouts. The API and the portal both come through here, so a page and a JSON client get
the same answer from the same numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from propdesk.errors import FieldProblem, InvalidInput, NotFound
from propdesk.payouts import service
from propdesk.payouts.case import FundedAccount, funded_account, live_case, quote_of
from propdesk.payouts.eligibility import PayoutCase, Quote
from propdesk.payouts.models import PayoutRow
from propdesk.payouts.plugin import offered_rails, second_approval_above
from propdesk.plugins.desk import desk_payout_rail

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from propdesk.runtime import Runtime
    from propdesk.tenancy.context import TenantContext


@dataclass(frozen=True, slots=True)
class QuoteNow:
    funded: FundedAccount
    case: PayoutCase
    quote: Quote


async def quote_now(
    runtime: Runtime, tenant: TenantContext, session: AsyncSession, challenge_id: int
) -> QuoteNow:
    """What the funded challenge could pay now, read from the platform this moment.

    :raises NotPayable: the challenge is not on a funded account now.
    """
    funded = await funded_account(session, tenant.schema, challenge_id)
    case = await live_case(runtime, tenant, session, funded)
    return QuoteNow(funded, case, quote_of(funded, case))


def destination_schema(runtime: Runtime, tenant: TenantContext, rail: str) -> Mapping[str, Any]:
    """What a trader gives to be paid through ``rail`` (the rail's JSON Schema)."""
    return desk_payout_rail(runtime.host, tenant, rail).destination_schema


async def request_now(
    runtime: Runtime,
    tenant: TenantContext,
    session: AsyncSession,
    challenge_id: int,
    *,
    rail: str,
    destination: Mapping[str, Any],
    actor: str,
) -> PayoutRow:
    """Request the payout the quote gives now, through one of the desk's rails.

    :raises InvalidInput: a rail the desk does not offer, or a destination it cannot pay to.
    :raises NotEligible: the quote refuses (with every refusal and its numbers).
    """
    rails = offered_rails(tenant)
    if rail not in rails:
        raise InvalidInput(
            f"the desk pays through {', '.join(rails)}, not {rail!r}",
            problems=[FieldProblem("rail", f"one of {', '.join(rails)}")],
        )
    service.check_destination(destination_schema(runtime, tenant, rail), destination, rail)
    funded = await funded_account(session, tenant.schema, challenge_id)
    case = await live_case(runtime, tenant, session, funded)
    return await service.request_payout(
        session,
        runtime.queue,
        funded,
        case,
        rail=rail,
        destination=destination,
        second_approval_above=second_approval_above(tenant),
        actor=actor,
    )


async def trader_payouts(session: AsyncSession, email: str) -> list[PayoutRow]:
    """The trader's payouts, newest first."""
    rows = await session.scalars(
        select(PayoutRow)
        .where(func.lower(PayoutRow.trader_email) == email.lower())
        .order_by(PayoutRow.id.desc())
    )
    return list(rows)


async def trader_payout(session: AsyncSession, email: str, payout_id: int) -> PayoutRow:
    """One of the trader's payouts; another trader's is not there (NotFound, the same words)."""
    payout = await session.get(PayoutRow, payout_id)
    if payout is None or payout.trader_email.lower() != email.lower():
        raise NotFound(f"no payout {payout_id} of this trader")
    return payout
