"""The ledger over HTTP: balances per account and the transactions with their entries."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec
from litestar import get
from sqlalchemy import select

from propdesk.access.permissions import requires
from propdesk.errors import FieldProblem, InvalidInput
from propdesk.http.deps import SessionDep
from propdesk.ledger import service
from propdesk.ledger.models import LedgerTransaction

TAGS = ["ledger"]
READ = requires("ledger", "read")
MAX_PAGE = 500


class BalanceView(msgspec.Struct):
    account: str
    kind: str
    currency: str
    #: On the account's normal side: what a revenue or a liability holds is positive.
    balance: Decimal
    #: Debits minus credits.
    net: Decimal


class LedgerView(msgspec.Struct):
    balances: list[BalanceView]
    #: Debits minus credits over the whole ledger per currency: zero for a sound ledger.
    totals: dict[str, Decimal]


class EntryView(msgspec.Struct):
    account: str
    amount: Decimal


class TransactionView(msgspec.Struct):
    id: int
    reference: str
    kind: str
    currency: str
    description: str
    occurred_at: datetime
    actor: str
    reverses: int | None
    entries: list[EntryView]


@get("/api/ledger", opt=READ, operation_id="getLedger", tags=TAGS)
async def get_ledger(session: SessionDep) -> LedgerView:
    """Every account's balance per currency, and the ledger's totals (zero when sound)."""
    balances = [
        BalanceView(b.account, b.kind, b.currency, b.natural, b.net)
        for b in await service.balances(session)
    ]
    return LedgerView(balances, await service.totals(session))


@get("/api/ledger/transactions", opt=READ, operation_id="listLedgerTransactions", tags=TAGS)
async def list_transactions(
    session: SessionDep, limit: int = 50, before: int | None = None
) -> list[TransactionView]:
    """The newest transactions first (``before`` an id to page back), with their entries."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("bad page", problems=[FieldProblem("limit", f"1 to {MAX_PAGE}")])
    query = select(LedgerTransaction).order_by(LedgerTransaction.id.desc()).limit(limit)
    if before is not None:
        query = query.where(LedgerTransaction.id < before)
    views = []
    for tx in await session.scalars(query):
        lines = await service.entries(session, tx.id)
        views.append(
            TransactionView(
                tx.id,
                tx.reference,
                tx.kind,
                tx.currency,
                tx.description,
                tx.occurred_at,
                tx.actor,
                tx.reverses,
                [EntryView(x.account, x.amount) for x in lines],
            )
        )
    return views


ROUTES = [get_ledger, list_transactions]
