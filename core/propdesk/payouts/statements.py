"""A payout's statement, gathered from its row, timeline and product: what the trader keeps."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.engine.models import TradingAccount
from propdesk.engine.store import product_content
from propdesk.payouts.models import PayoutRow, PayoutStep
from propdesk.payouts.statement import Statement, StatementEvent, StatementLine
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.models import Tenant


async def statement_of(
    session: AsyncSession, tenant: TenantContext, payout: PayoutRow
) -> Statement:
    account = await session.get(TradingAccount, payout.account_id)
    assert account is not None
    product = await product_content(session, tenant.schema, payout.version_hash)
    steps = await session.scalars(
        select(PayoutStep).where(PayoutStep.payout_id == payout.id).order_by(PayoutStep.seq)
    )
    previous = await session.scalar(
        select(PayoutRow.withdrawn_at)
        .where(
            PayoutRow.account_id == payout.account_id,
            PayoutRow.id < payout.id,
            PayoutRow.withdrawn_at.is_not(None),
        )
        .order_by(PayoutRow.id.desc())
        .limit(1)
    )
    theme = await session.scalar(select(Tenant.theme).where(Tenant.slug == tenant.slug))
    lines = [StatementLine("Profit on the account", payout.profit)]
    if payout.counted != payout.profit:
        lines.append(
            StatementLine("Profit counted this cycle", payout.counted, "after the profit cap")
        )
    lines += [
        StatementLine(
            "Your share", payout.trader_share, f"{payout.split_percent.normalize()}% split"
        ),
        StatementLine("The firm's share", payout.firm_share),
    ]
    if payout.fee_refund:
        lines.append(StatementLine("Challenge fee refunded", payout.fee_refund))
    return Statement(
        desk_name=tenant.display_name or tenant.slug,
        desk_color=str((theme or {}).get("primary_color") or ""),
        payout_id=payout.id,
        payout_number=payout.number,
        status=payout.status,
        currency=payout.currency,
        trader_name=payout.trader_name,
        trader_email=payout.trader_email,
        challenge_id=payout.challenge_id,
        product_name=str(product.get("name") or product.get("code")),
        account=f"{account.platform}:{account.login}",
        period_start=(previous or account.opened_at).date(),
        period_end=(payout.withdrawn_at or payout.requested_at).date(),
        lines=tuple(lines),
        amount=payout.amount,
        rail=payout.rail,
        rail_reference=payout.rail_reference,
        notes=tuple(payout.quote.get("quote", {}).get("notes", [])),
        events=tuple(StatementEvent(s.at, s.detail, s.actor) for s in steps),
        issued_at=datetime.now(UTC),
    )
