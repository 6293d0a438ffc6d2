"""The ledger: the database refuses an unbalanced transaction, rows are never changed, a reference
posts once, reversals mirror, and the whole ledger sums to zero."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from propdesk.errors import Conflict, InvalidInput
from propdesk.ledger import service
from propdesk.ledger.chart import credit, debit
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.naming import quote_schema
from propdesk.testing.pytest_plugin import MakeTenant
from propdesk.testing.services import unique_name

pytestmark = pytest.mark.asyncio(loop_scope="session")
FEE = Decimal("155.00")


@pytest.fixture
async def desk(make_tenant: MakeTenant) -> TenantContext:
    return await make_tenant(unique_name("ledger").lower()[:30])


def sale(amount: Decimal = FEE) -> list:
    return [debit("cash_at_psp", amount), credit("fee_revenue", amount)]


async def test_a_payment_posts_once_and_the_ledger_balances(
    propdesk_runtime: Runtime, desk: TenantContext
) -> None:
    async with propdesk_runtime.db.unit_of_work(desk) as session:
        first = await service.post(
            session,
            reference="stripe:evt_1",
            kind="payment",
            currency="USD",
            lines=sale(),
            description="order 1 paid",
            actor="test",
        )
    async with propdesk_runtime.db.unit_of_work(desk) as session:
        again = await service.post(
            session,
            reference="stripe:evt_1",
            kind="payment",
            currency="USD",
            lines=list(reversed(sale())),
            description="the same webhook, delivered again",
            actor="test",
        )
        assert (again.id, again.created, first.created) == (first.id, False, True)
        with pytest.raises(Conflict, match="stripe:evt_1"):
            await service.post(
                session,
                reference="stripe:evt_1",
                kind="payment",
                currency="USD",
                lines=sale(Decimal("99.00")),
                description="another amount under the same reference",
                actor="test",
            )
    async with propdesk_runtime.db.session(desk) as session:
        balances = {b.account: b for b in await service.balances(session)}
        assert balances["cash_at_psp"].natural == FEE
        assert balances["fee_revenue"].natural == FEE  # a credit, shown on its normal side
        assert balances["fee_revenue"].net == -FEE
        assert await service.totals(session) == {"USD": Decimal(0)}


@pytest.mark.parametrize(
    ("lines", "where"),
    [
        ([debit("cash_at_psp", FEE)], "lines"),
        ([debit("cash_at_psp", FEE), credit("fee_revenue", Decimal("154.99"))], "lines"),
        ([debit("cash_at_psp", FEE), credit("nowhere", FEE)], "lines/1/account"),
        (
            [debit("cash_at_psp", Decimal("0.001")), credit("fee_revenue", Decimal("0.001"))],
            "lines/0/amount",
        ),
    ],
)
async def test_an_unbalanced_transaction_is_refused_before_the_database(
    propdesk_runtime: Runtime, desk: TenantContext, lines: list, where: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        async with propdesk_runtime.db.unit_of_work(desk) as session:
            await service.post(
                session,
                reference="bad",
                kind="payment",
                currency="USD",
                lines=lines,
                description="unbalanced",
                actor="test",
            )
    assert where in [p.field for p in refused.value.problems]
    async with propdesk_runtime.db.session(desk) as session:
        assert await service.totals(session) == {}, "nothing was written"


async def test_the_database_refuses_an_unbalanced_transaction_at_commit(
    propdesk_runtime: Runtime, desk: TenantContext
) -> None:
    """Whatever writes the rows (a bug, a script), the commit fails and nothing stays."""
    schema = quote_schema(desk.schema)
    with pytest.raises(DBAPIError, match="unbalanced"):
        async with propdesk_runtime.db.unit_of_work(desk) as session:
            tx = await session.scalar(
                text(
                    f"INSERT INTO {schema}.ledger_transactions (reference, kind, currency, "
                    "description, occurred_at, actor) VALUES ('raw', 'payment', 'USD', 'raw', "
                    "now(), 'script') RETURNING id"
                )
            )
            await session.execute(
                text(
                    f"INSERT INTO {schema}.ledger_entries (transaction_id, account, amount) "
                    "VALUES (:t, 'cash_at_psp', 100), (:t, 'fee_revenue', -99.99)"
                ),
                {"t": tx},
            )
    with pytest.raises(DBAPIError, match="unbalanced"):
        async with propdesk_runtime.db.unit_of_work(desk) as session:
            await session.execute(
                text(
                    f"INSERT INTO {schema}.ledger_transactions (reference, kind, currency, "
                    "description, occurred_at, actor) VALUES ('empty', 'payment', 'USD', 'x', "
                    "now(), 'script')"
                )
            )
    async with propdesk_runtime.db.session(desk) as session:
        count = await session.scalar(text(f"SELECT count(*) FROM {schema}.ledger_transactions"))
        assert count == 0


async def test_entries_are_never_changed_and_a_reversal_mirrors_once(
    propdesk_runtime: Runtime, desk: TenantContext
) -> None:
    schema = quote_schema(desk.schema)
    async with propdesk_runtime.db.unit_of_work(desk) as session:
        await service.post(
            session,
            reference="stripe:evt_9",
            kind="payment",
            currency="USD",
            lines=sale(),
            description="order 9 paid",
            actor="test",
        )
    with pytest.raises(DBAPIError, match="append-only"):
        async with propdesk_runtime.db.unit_of_work(desk) as session:
            await session.execute(text(f"UPDATE {schema}.ledger_entries SET amount = amount * 2"))
    with pytest.raises(DBAPIError, match="append-only"):
        async with propdesk_runtime.db.unit_of_work(desk) as session:
            await session.execute(text(f"DELETE FROM {schema}.ledger_transactions"))
    async with propdesk_runtime.db.unit_of_work(desk) as session:
        reversal = await service.reverse(
            session, "stripe:evt_9", actor="test", description="refunded in full"
        )
        again = await service.reverse(session, "stripe:evt_9", actor="test", description="again")
        assert again.id == reversal.id and not again.created
        assert sorted(
            (x.account, x.amount) for x in await service.entries(session, reversal.id)
        ) == [
            ("cash_at_psp", -FEE),
            ("fee_revenue", FEE),
        ]
    async with propdesk_runtime.db.session(desk) as session:
        assert all(b.net == 0 for b in await service.balances(session))
        assert await service.totals(session) == {"USD": Decimal(0)}
        audited = await session.scalar(
            text(f"SELECT count(*) FROM {schema}.audit_log WHERE action = 'ledger.posted'")
        )
        assert audited == 2
