"""Posting to the ledger: balanced, idempotent by reference, audited; reversals for corrections.

Every money event (a payment captured, a refund, a chargeback, a payout...) is posted once
under the reference of what caused it (``stripe:evt_…``, ``refund:42``): posting the same
reference again returns the first transaction, and posting it with other entries is a
conflict. The database checks the balance at commit, whatever writes the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.audit.service import record
from propdesk.errors import Conflict, NotFound
from propdesk.ledger.chart import ACCOUNTS, DEBIT_NORMAL, Line, check_lines, same_lines
from propdesk.ledger.models import LedgerEntry, LedgerTransaction


@dataclass(frozen=True, slots=True)
class Posted:
    id: int
    reference: str
    #: False when the reference had been posted before (nothing was written now).
    created: bool


async def post(
    session: AsyncSession,
    *,
    reference: str,
    kind: str,
    currency: str,
    lines: Sequence[Line],
    description: str,
    actor: str,
    occurred_at: datetime | None = None,
    reverses: int | None = None,
) -> Posted:
    """Post a balanced transaction in the session's unit of work (``check_lines`` rules).

    :raises InvalidInput: the lines do not balance (nothing is written).
    :raises Conflict: ``reference`` was posted before with other entries.
    """
    checked = check_lines(lines)
    inserted = await session.scalar(
        pg_insert(LedgerTransaction)
        .values(
            reference=reference,
            kind=kind,
            currency=currency,
            description=description,
            occurred_at=occurred_at or datetime.now(UTC),
            actor=actor,
            reverses=reverses,
        )
        .on_conflict_do_nothing(index_elements=["reference"])
        .returning(LedgerTransaction.id)
    )
    if inserted is None:
        existing = await _by_reference(session, reference)
        before = await entries(session, existing.id)
        if (existing.kind, existing.currency) != (kind, currency) or not same_lines(
            before, checked
        ):
            raise Conflict(
                f"ledger reference {reference!r} was posted before with other entries "
                f"(transaction {existing.id})"
            )
        return Posted(existing.id, reference, created=False)
    await session.execute(
        insert(LedgerEntry),
        [{"transaction_id": inserted, "account": x.account, "amount": x.amount} for x in checked],
    )
    await record(
        session,
        chain="tenant",
        actor=actor,
        action="ledger.posted",
        target=f"ledger:{inserted}",
        after={
            "reference": reference,
            "kind": kind,
            "currency": currency,
            "reverses": reverses,
            "lines": [{"account": x.account, "amount": x.amount} for x in checked],
        },
    )
    return Posted(inserted, reference, created=True)


async def reverse(session: AsyncSession, reference: str, *, actor: str, description: str) -> Posted:
    """Post the mirror image of the transaction ``reference`` (once: a second call returns the
    same reversal)."""
    original = await _by_reference(session, reference)
    mirrored = [Line(x.account, -x.amount) for x in await entries(session, original.id)]
    return await post(
        session,
        reference=f"reversal:{reference}",
        kind=f"{original.kind}.reversal",
        currency=original.currency,
        lines=mirrored,
        description=description,
        actor=actor,
        reverses=original.id,
    )


async def entries(session: AsyncSession, transaction_id: int) -> list[Line]:
    rows = await session.execute(
        select(LedgerEntry.account, LedgerEntry.amount)
        .where(LedgerEntry.transaction_id == transaction_id)
        .order_by(LedgerEntry.id)
    )
    return [Line(account, amount) for account, amount in rows.all()]


async def _by_reference(session: AsyncSession, reference: str) -> LedgerTransaction:
    found = await session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.reference == reference)
    )
    if found is None:
        raise NotFound(f"no ledger transaction {reference!r}")
    return found


@dataclass(frozen=True, slots=True)
class Balance:
    account: str
    kind: str
    currency: str
    #: Debits minus credits.
    net: Decimal

    @property
    def natural(self) -> Decimal:
        """The balance as staff read it: positive on the account's normal side."""
        return self.net if self.account in DEBIT_NORMAL else -self.net


async def balances(session: AsyncSession) -> list[Balance]:
    """Each account's balance per currency (accounts without entries are left out)."""
    rows = await session.execute(
        select(LedgerEntry.account, LedgerTransaction.currency, func.sum(LedgerEntry.amount))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .group_by(LedgerEntry.account, LedgerTransaction.currency)
        .order_by(LedgerEntry.account, LedgerTransaction.currency)
    )
    return [Balance(a, ACCOUNTS.get(a, "asset"), c, Decimal(n)) for a, c, n in rows.all()]


async def totals(session: AsyncSession) -> dict[str, Decimal]:
    """Debits minus credits over the whole ledger, per currency: zero when it is sound."""
    rows = await session.execute(
        select(LedgerTransaction.currency, func.sum(LedgerEntry.amount))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .group_by(LedgerTransaction.currency)
    )
    return {currency: Decimal(total) for currency, total in rows.all()}
