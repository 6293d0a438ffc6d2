"""A desk taking payments through the Stripe simulator, end to end over HTTP: an order with a
coupon is checked out and paid; the signed webhooks, delivered five times each and shuffled,
pay it once (one challenge, one ledger entry); a forged one is refused and changes nothing; a
refund reverses the money. The ledger sums to zero throughout."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from propdesk.catalogue.service import publish_files
from propdesk.ledger import service as ledger
from propdesk.lifecycle.models import ChallengeRow
from propdesk.lifecycle.service import apply_transition, load_challenge
from propdesk.lifecycle.transitions import Provisioned
from propdesk.orders import service as orders
from propdesk.orders.models import CouponRow, OrderRow
from propdesk.payments.models import PaymentEventRow
from propdesk.payments.service import start_checkout
from propdesk.risk.models import RiskCase
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.testing.pytest_plugin import MakeTenant
from propdesk.testing.services import unique_name
from propdesk.testing.simulators import eventually, serving_app
from propdesk.traders import service as traders
from propdesk_psp_stripe.simulator import RunningSimulator

pytestmark = pytest.mark.asyncio(loop_scope="session")
PRODUCT = Path(__file__).resolve().parents[3] / "tenants/aurora_fx/challenges/two-step.json"
KEY_ENV, HOOK_ENV = "PROPDESK_TEST_STRIPE_KEY", "PROPDESK_TEST_STRIPE_WHSEC"


@pytest.fixture
async def desk(
    propdesk_runtime: Runtime,
    make_tenant: MakeTenant,
    sim: RunningSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> TenantContext:
    monkeypatch.setenv(KEY_ENV, sim.secret_key)
    monkeypatch.setenv(HOOK_ENV, sim.webhook_secret)
    settings = {
        "api_key": {"env": KEY_ENV},
        "webhook_secret": {"env": HOOK_ENV},
        "api_base": sim.url,
    }
    tenant = await make_tenant(unique_name("pay").lower()[:30], plugins={"psp_stripe": settings})
    await publish_files(propdesk_runtime, tenant, [PRODUCT], actor="test")
    async with propdesk_runtime.db.unit_of_work(tenant) as session:
        session.add(
            CouponRow(
                code="FALL20", kind="percent", value=Decimal(20), partner_code="IB-7", active=True
            )
        )
    return tenant


async def count(runtime: Runtime, tenant: TenantContext, what: Any) -> int:
    async with runtime.db.session(tenant) as session:
        return int(await session.scalar(select(func.count()).select_from(what)) or 0)


async def order_row(runtime: Runtime, tenant: TenantContext, order_id: int) -> OrderRow:
    async with runtime.db.session(tenant) as session:
        found = await session.get(OrderRow, order_id)
        assert found is not None
        return found


async def trader_order(
    runtime: Runtime, desk: TenantContext, email: str, size: str, coupon: str | None = None
) -> OrderRow:
    """A registered trader's pending order of ``two-step`` in ``size``."""
    async with runtime.db.unit_of_work(desk) as session:
        trader = await traders.register(
            session,
            email=email,
            password="correct horse battery",
            name="Test Trader",
            country="DE",
            accept_terms=True,
        )
        return await orders.place_order(
            session,
            trader_id=trader.id,
            kind="purchase",
            product_code="two-step",
            size=size,
            addons=[],
            currency="USD",
            coupon_code=coupon,
        )


async def test_a_paid_checkout_opens_one_challenge_whatever_the_deliveries(
    propdesk_runtime: Runtime, desk: TenantContext, sim: RunningSimulator
) -> None:
    runtime = propdesk_runtime
    placed = await trader_order(runtime, desk, "ana@traders.example", "100k", coupon="FALL20")
    assert placed.total == Decimal("476.00")
    async with serving_app(runtime) as base:
        await sim.control.add_endpoint(f"{base}/api/payments/stripe/webhook/{desk.slug}")
        checkout = await start_checkout(
            runtime,
            desk,
            placed.id,
            provider="stripe",
            success_url=f"{base}/paid",
            cancel_url=f"{base}/cancelled",
        )
        # Every event five times, held and then released in shuffled order.
        await sim.control.set_webhook_mode(duplicates=5, shuffle=True)
        await sim.control.pay(checkout.reference)
        await sim.control.release()
        await sim.control.wait_idle()
        paid = await eventually(
            lambda: _status(runtime, desk, placed.id, "paid"), "the order to be paid"
        )
        assert paid.payment_reference and paid.payment_reference.startswith("pi_")
        deliveries = await sim.control.deliveries()
        assert all(d["status"] == 200 for d in deliveries if d["succeeded"])
        assert await count(runtime, desk, ChallengeRow) == 1
        events = await count(runtime, desk, PaymentEventRow)
        assert events == len({d["event"] for d in deliveries})
        assert len(deliveries) >= 5 * events

        # A forged delivery is refused (400) and records nothing.
        before = await count(runtime, desk, PaymentEventRow)
        await sim.control.set_webhook_mode()
        first = deliveries[0]["event"]
        await sim.control.redeliver(first, bad_signature=True)
        await sim.control.wait_idle()
        forged = [d for d in await sim.control.deliveries(event=first) if d["bad_signature"]]
        assert forged and all(d["status"] == 400 for d in forged)
        assert await count(runtime, desk, PaymentEventRow) == before

        # A refund from Stripe comes back by webhook and reverses the money.
        from propdesk.plugins.desk import desk_payment_provider

        provider = desk_payment_provider(runtime.host, desk, "stripe")
        await provider.refund(paid.payment_reference, Decimal("476.00"), "USD", "order-1-full")
        await eventually(lambda: _status(runtime, desk, placed.id, "refunded"), "the refund")
    async with runtime.db.session(desk) as session:
        balances = {b.account: b.natural for b in await ledger.balances(session)}
        assert balances == {
            "cash_at_psp": Decimal(0),
            "fee_revenue": Decimal("476.00"),
            "refunds": Decimal("476.00"),
        }
        assert await ledger.totals(session) == {"USD": Decimal(0)}
        # The refund closed the challenge: its account stops trading (the actions react).
        _, state = await load_challenge(session, paid.challenge_id)
        assert (state.status, state.history[-1].event) == ("cancelled", "refunded")


async def test_a_dispute_freezes_the_account_and_its_outcome_settles_it(
    propdesk_runtime: Runtime, desk: TenantContext, sim: RunningSimulator
) -> None:
    runtime = propdesk_runtime
    placed = await trader_order(runtime, desk, "bo@traders.example", "10k")
    async with serving_app(runtime) as base:
        await sim.control.add_endpoint(f"{base}/api/payments/stripe/webhook/{desk.slug}")
        checkout = await start_checkout(
            runtime, desk, placed.id, provider="stripe", success_url=base, cancel_url=base
        )
        await sim.control.pay(checkout.reference)
        paid = await eventually(lambda: _status(runtime, desk, placed.id, "paid"), "payment")
        async with runtime.db.unit_of_work(desk) as session:
            await apply_transition(
                session,
                None,
                paid.challenge_id,
                Provisioned(at=datetime.now(UTC), account="mt5:500777"),
                actor="test",
            )
        dispute = await sim.control.open_dispute(payment_intent=paid.payment_reference)
        await eventually(
            lambda: _challenge_status(runtime, desk, paid.challenge_id, "paused"), "the freeze"
        )
        async with runtime.db.session(desk) as session:
            [case] = (await session.scalars(select(RiskCase))).all()
        assert (case.kind, case.status, case.order_id) == ("dispute", "open", placed.id)
        assert case.reference == f"stripe:{dispute['id']}"
        await sim.control.close_dispute(dispute["id"], "won")
        await eventually(
            lambda: _challenge_status(runtime, desk, paid.challenge_id, "active"), "the thaw"
        )
    async with runtime.db.session(desk) as session:
        _, state = await load_challenge(session, paid.challenge_id)
        assert [h.event for h in state.history][-2:] == ["paused", "resumed"]
        assert state.history[-2].rule == "dispute"
        [closed] = (await session.scalars(select(RiskCase))).all()
        assert (closed.status, closed.outcome) == ("closed", "won")
        assert await ledger.totals(session) == {"USD": Decimal(0)}
        balances = {b.account: b.natural for b in await ledger.balances(session)}
        assert balances.get("cash_at_psp") == Decimal("169.00"), balances  # withdrawn, returned


async def _challenge_status(
    runtime: Runtime, tenant: TenantContext, challenge_id: int, status: str
) -> bool:
    async with runtime.db.session(tenant) as session:
        _, state = await load_challenge(session, challenge_id)
    return state.status == status


async def _status(runtime: Runtime, tenant: TenantContext, order_id: int, status: str) -> Any:
    found = await order_row(runtime, tenant, order_id)
    return found if found.status == status else None
