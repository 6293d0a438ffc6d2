"""Traders register; orders are priced from the pinned product version with coupons counted
fairly; a paid order opens its challenge and posts to the ledger exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text

from propdesk.catalogue.service import publish_files
from propdesk.errors import Conflict, InvalidInput
from propdesk.ledger import service as ledger
from propdesk.lifecycle.service import apply_transition, load_challenge
from propdesk.lifecycle.transitions import Breached, Provisioned
from propdesk.orders import service
from propdesk.orders.models import CouponRow, OrderRow
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.testing.pytest_plugin import MakeTenant
from propdesk.testing.services import unique_name
from propdesk.traders import service as traders

pytestmark = pytest.mark.asyncio(loop_scope="session")
ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ROOT / "tenants/aurora_fx/challenges/two-step.json"


@pytest.fixture
async def desk(propdesk_runtime: Runtime, make_tenant: MakeTenant) -> TenantContext:
    tenant = await make_tenant(unique_name("orders").lower()[:30])
    await publish_files(propdesk_runtime, tenant, [PRODUCT], actor="test")
    return tenant


async def register(runtime: Runtime, desk: TenantContext, email: str, country: str = "DE") -> int:
    async with runtime.db.unit_of_work(desk) as session:
        trader = await traders.register(
            session,
            email=email,
            password="correct horse battery",
            name="Ana Trader",
            country=country,
            accept_terms=True,
        )
        return trader.id


async def order(runtime: Runtime, desk: TenantContext, trader_id: int, **values) -> OrderRow:
    fields = {
        "kind": "purchase",
        "product_code": "two-step",
        "size": "100k",
        "addons": [],
        "currency": "USD",
        **values,
    }
    async with runtime.db.unit_of_work(desk) as session:
        return await service.place_order(session, trader_id=trader_id, **fields)


async def pay(
    runtime: Runtime, desk: TenantContext, placed: OrderRow, ref: str = "pi_1"
) -> OrderRow:
    async with runtime.db.unit_of_work(desk) as session:
        return await service.mark_paid(
            session,
            None,
            placed.id,
            provider="stripe",
            payment_reference=ref,
            amount=placed.total,
            currency=placed.currency,
            at=datetime.now(UTC),
            actor="stripe:webhook",
        )


async def test_registration_names_every_problem_and_refuses_a_second_account(
    propdesk_runtime: Runtime, desk: TenantContext
) -> None:
    async with propdesk_runtime.db.unit_of_work(desk) as session:
        with pytest.raises(InvalidInput) as refused:
            await traders.register(
                session,
                email="not-mail",
                password="short",
                name=" ",
                country="Germany",
                accept_terms=False,
            )
    fields = {p.field for p in refused.value.problems}
    assert fields == {"email", "password", "name", "country", "accept_terms"}
    await register(propdesk_runtime, desk, "Ana@Traders.example", country="de")
    with pytest.raises(Conflict) as taken:
        await register(propdesk_runtime, desk, "ana@traders.EXAMPLE")
    assert taken.value.problems[0].field == "email"
    async with propdesk_runtime.db.session(desk) as session:
        found = await traders.find(session, "ANA@traders.example")
        assert found is not None and found.country == "DE"
        assert found.password_hash.startswith("$argon2")


async def test_a_paid_order_opens_its_challenge_and_posts_the_fee_once(
    propdesk_runtime: Runtime, desk: TenantContext
) -> None:
    trader = await register(propdesk_runtime, desk, "bo@traders.example")
    placed = await order(propdesk_runtime, desk, trader, addons=["split-90"])
    assert (placed.status, placed.total) == ("pending_payment", Decimal("654.00"))
    paid = await pay(propdesk_runtime, desk, placed)
    again = await pay(propdesk_runtime, desk, placed)  # the webhook, delivered again
    assert paid.challenge_id is not None and again.challenge_id == paid.challenge_id
    with pytest.raises(Conflict, match="paid by pi_1"):
        await pay(propdesk_runtime, desk, placed, ref="pi_2")
    async with propdesk_runtime.db.session(desk) as session:
        row, state = await load_challenge(session, paid.challenge_id)
        assert (state.status, row.version_hash, row.addons) == (
            "provisioning",
            placed.version_hash,
            ["split-90"],
        )
        challenges = await session.scalar(text(f'SELECT count(*) FROM "{desk.schema}".challenges'))
        assert challenges == 1
        balances = {b.account: b.natural for b in await ledger.balances(session)}
        assert balances == {"cash_at_psp": Decimal("654.00"), "fee_revenue": Decimal("654.00")}
        assert await ledger.totals(session) == {"USD": Decimal(0)}


async def test_a_payment_of_another_amount_is_refused_and_changes_nothing(
    propdesk_runtime: Runtime, desk: TenantContext
) -> None:
    trader = await register(propdesk_runtime, desk, "cy@traders.example")
    placed = await order(propdesk_runtime, desk, trader)
    with pytest.raises(Conflict, match=r"costs 595\.00 USD"):
        async with propdesk_runtime.db.unit_of_work(desk) as session:
            await service.mark_paid(
                session,
                None,
                placed.id,
                provider="stripe",
                payment_reference="pi_9",
                amount=Decimal("1.00"),
                currency="USD",
                at=datetime.now(UTC),
                actor="t",
            )
    async with propdesk_runtime.db.session(desk) as session:
        assert (await session.get(OrderRow, placed.id)).status == "pending_payment"
        assert await ledger.totals(session) == {}


async def test_a_coupon_is_counted_once_per_order_even_when_orders_race(
    propdesk_runtime: Runtime, desk: TenantContext
) -> None:
    async with propdesk_runtime.db.unit_of_work(desk) as session:
        session.add(
            CouponRow(
                code="LAUNCH",
                kind="percent",
                value=Decimal(100),
                max_uses=2,
                max_uses_per_trader=1,
                partner_code="IB-7",
                active=True,
            )
        )
    traders_ = [await register(propdesk_runtime, desk, f"t{i}@traders.example") for i in range(4)]
    results = await asyncio.gather(
        *(order(propdesk_runtime, desk, t, coupon_code="LAUNCH") for t in traders_),
        return_exceptions=True,
    )
    placed = [r for r in results if isinstance(r, OrderRow)]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert len(placed) == 2 and len(refused) == 2
    assert all("2 times" in r.problems[0].message for r in refused)
    free = placed[0]
    assert (free.total, free.partner_code) == (Decimal("0.00"), "IB-7")
    with pytest.raises(InvalidInput, match="LAUNCH"):
        await order(
            propdesk_runtime,
            desk,
            traders_[0] if free.trader_id != traders_[0] else traders_[1],
            coupon_code="LAUNCH",
        )
    paid = await pay(propdesk_runtime, desk, free, ref="free-1")
    assert paid.status == "paid"
    async with propdesk_runtime.db.session(desk) as session:
        assert await ledger.totals(session) == {}, "a free order moves no money"


async def test_a_reset_is_sold_for_a_failed_challenge_and_restarts_it(
    propdesk_runtime: Runtime, desk: TenantContext
) -> None:
    trader = await register(propdesk_runtime, desk, "di@traders.example")
    paid = await pay(propdesk_runtime, desk, await order(propdesk_runtime, desk, trader))
    with pytest.raises(InvalidInput, match="only a failed or expired"):
        await order(propdesk_runtime, desk, trader, kind="reset", of_challenge=paid.challenge_id)
    now = datetime.now(UTC)
    async with propdesk_runtime.db.unit_of_work(desk) as session:
        await apply_transition(
            session, None, paid.challenge_id, Provisioned(at=now, account="mt5:500001"), actor="t"
        )
        await apply_transition(
            session,
            None,
            paid.challenge_id,
            Breached(at=now + timedelta(seconds=1), rule="daily_loss", explanation="below"),
            actor="t",
        )
    reset = await order(
        propdesk_runtime, desk, trader, kind="reset", of_challenge=paid.challenge_id
    )
    assert (reset.total, reset.product_code) == (Decimal("99.00"), "two-step")
    await pay(propdesk_runtime, desk, reset, ref="pi_reset")
    async with propdesk_runtime.db.session(desk) as session:
        _, state = await load_challenge(session, paid.challenge_id)
        assert (state.status, state.attempt) == ("provisioning", 2)
        rows = (await session.scalars(select(OrderRow).order_by(OrderRow.id))).all()
        assert [r.kind for r in rows] == ["purchase", "reset"]
        assert await ledger.totals(session) == {"USD": Decimal(0)}
