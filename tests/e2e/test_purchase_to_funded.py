"""Purchase to active, across the plugins and their simulators, over HTTP as a trader would go:
register → buy a challenge with a coupon (Idempotency-Key) → pay on the Stripe simulator's
checkout → its signed webhook pays the order → the outbox provisions the account on the MT5
simulator → the identity check is approved on the Sumsub simulator → the challenge is active,
the ledger balanced; finance then refunds it from the back office and the account closes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from propdesk.catalogue.service import publish_files
from propdesk.ledger import service as ledger
from propdesk.orders.models import CouponRow
from propdesk.outbox.models import OutboxEvent
from propdesk.outbox.service import dispatch
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.testing.pytest_plugin import MakeTenant
from propdesk.testing.services import unique_name
from propdesk.testing.simulators import eventually, serving_app
from propdesk_kyc_sumsub.simulator import SimulatorConfig as SumsubConfig
from propdesk_kyc_sumsub.simulator import running_simulator as sumsub_simulator
from propdesk_mt5.simulator import SimulatorConfig as MT5Config
from propdesk_mt5.simulator import running_simulator as mt5_simulator
from propdesk_psp_stripe.simulator import running_simulator as stripe_simulator

pytestmark = pytest.mark.asyncio(loop_scope="session")
ROOT = Path(__file__).resolve().parents[2]
PRODUCT = "tenants/aurora_fx/challenges/two-step.json"
PHASE1 = "demo\\aurora\\two-step\\phase1"


@pytest.fixture
def sims() -> Any:
    with (
        mt5_simulator(MT5Config(groups=(PHASE1,))) as mt5,
        stripe_simulator() as stripe,
        sumsub_simulator(SumsubConfig()) as sumsub,
    ):
        yield mt5, stripe, sumsub


@pytest.fixture
async def desk(
    propdesk_runtime: Runtime, make_tenant: MakeTenant, sims: Any, monkeypatch: pytest.MonkeyPatch
) -> TenantContext:
    mt5, stripe, sumsub = sims
    secrets = {
        "E2E_MT5": mt5.manager[1],
        "E2E_STRIPE_KEY": stripe.secret_key,
        "E2E_STRIPE_HOOK": stripe.webhook_secret,
        "E2E_SUMSUB_TOKEN": sumsub.app_token,
        "E2E_SUMSUB_SECRET": sumsub.secret_key,
        "E2E_SUMSUB_HOOK": sumsub.webhook_secret,
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    plugins = {
        "mt5": {
            "server": mt5.url,
            "manager_login": mt5.manager[0],
            "password": {"env": "E2E_MT5"},
            "server_timezone": "+02:00",
            "server_name": "Propdesk-Demo",
        },
        "psp_stripe": {
            "api_key": {"env": "E2E_STRIPE_KEY"},
            "webhook_secret": {"env": "E2E_STRIPE_HOOK"},
            "api_base": stripe.url,
        },
        "kyc_sumsub": {
            "base_url": sumsub.url,
            "app_token": {"env": "E2E_SUMSUB_TOKEN"},
            "secret_key": {"env": "E2E_SUMSUB_SECRET"},
            "webhook_secret": {"env": "E2E_SUMSUB_HOOK"},
        },
        "propdesk.engine": {"poll_seconds": 0},
    }
    tenant = await make_tenant(unique_name("e2e").lower()[:30], plugins=plugins)
    await publish_files(propdesk_runtime, tenant, [ROOT / PRODUCT], actor="test")
    async with propdesk_runtime.db.unit_of_work(tenant) as session:
        session.add(
            CouponRow(
                code="WELCOME10",
                kind="percent",
                value=Decimal(10),
                active=True,
                partner_code="AFF-3",
            )
        )
    return tenant


async def deliver_outbox(runtime: Runtime, tenant: TenantContext) -> int:
    """What the worker does: dispatch every event not dispatched yet."""
    async with runtime.db.session(tenant) as session:
        pending = list(
            await session.scalars(
                select(OutboxEvent.event_id)
                .where(OutboxEvent.dispatched_at.is_(None))
                .order_by(OutboxEvent.id)
            )
        )
    for event_id in pending:
        await dispatch(runtime, tenant, event_id)
    return len(pending)


async def test_a_trader_goes_from_registration_to_an_active_challenge(
    propdesk_runtime: Runtime, desk: TenantContext, sims: Any, make_staff: Any
) -> None:
    runtime, (mt5, stripe, sumsub) = propdesk_runtime, sims
    async with (
        serving_app(runtime) as base,
        httpx.AsyncClient(base_url=base, headers={"X-Propdesk-Tenant": desk.slug}) as web,
    ):
        await stripe.control.add_endpoint(f"{base}/api/payments/stripe/webhook/{desk.slug}")
        await sumsub.control.add_webhook(f"{base}/api/kyc/sumsub/webhook/{desk.slug}")

        joined = await web.post(
            "/api/traders",
            json={
                "email": "ana@traders.example",
                "password": "correct horse battery",
                "name": "Ana Trader",
                "country": "DE",
                "accept_terms": True,
            },
        )
        assert joined.status_code == 201, joined.text
        auth = {"Authorization": f"Bearer {joined.json()['token']}"}

        order = {
            "product_code": "two-step",
            "size": "100k",
            "currency": "USD",
            "coupon": "WELCOME10",
            "provider": "stripe",
            "success_url": f"{base}/paid",
            "cancel_url": f"{base}/cancelled",
        }
        missing = await web.post("/api/orders", json=order, headers=auth)
        assert missing.status_code == 422 and "Idempotency-Key" in missing.text
        placed = await web.post(
            "/api/orders", json=order, headers={**auth, "Idempotency-Key": "buy-1"}
        )
        again = await web.post(
            "/api/orders", json=order, headers={**auth, "Idempotency-Key": "buy-1"}
        )
        assert placed.status_code == 201, placed.text
        assert again.content == placed.content and again.headers["Idempotent-Replayed"] == "true"
        bought = placed.json()
        assert (Decimal(bought["total"]), bought["status"]) == (
            Decimal("535.50"),
            "pending_payment",
        )

        # The trader pays on the hosted checkout page (the simulator's form).
        page = await web.get(bought["checkout_url"])
        assert page.status_code == 200
        session_id = bought["checkout_url"].rstrip("/").rsplit("/", 1)[-1]
        await stripe.control.pay(session_id)
        await stripe.control.wait_idle()
        paid = await eventually(lambda: _order(web, auth, "paid"), "the payment")
        assert paid["challenge_id"] is not None

        # The worker's outbox delivery provisions the account on the MT5 simulator.
        await deliver_outbox(runtime, desk)
        login = await eventually(lambda: _login(mt5), "the MT5 account")
        account = await mt5.control.account(login)
        assert Decimal(account["user"]["Balance"]) == Decimal("100000")
        assert account["user"]["Group"] == PHASE1

        kyc = await web.post("/api/traders/me/kyc", json={"provider": "sumsub"}, headers=auth)
        assert kyc.status_code == 200, kyc.text
        await sumsub.control.submit(kyc.json()["applicant"])
        await sumsub.control.review(kyc.json()["applicant"], "GREEN")
        await eventually(lambda: _kyc(web, auth, "approved"), "the identity check")
        await deliver_outbox(runtime, desk)
        async with runtime.db.session(desk) as session:
            from propdesk.lifecycle.service import load_challenge

            _, active = await load_challenge(session, paid["challenge_id"])
            assert active.status == "active" and active.account == f"mt5:{login}"

        # Finance refunds it from the back office: the webhook reverses the money and closes
        # the challenge, and the actions stop trading on the MT5 account.
        finance = await make_staff(("finance", desk.slug))
        signed = await web.post(
            "/api/auth/login", json={"email": finance.email, "password": finance.password}
        )
        staff = {"Cookie": f"propdesk_session={signed.cookies['propdesk_session']}"}
        web.cookies.clear()
        refund_url = f"/api/orders/{paid['id']}/refunds"
        refused = await web.post(refund_url, json={"reason": "goodwill"}, headers=auth)
        assert refused.status_code in (401, 403)
        refunded = await web.post(
            refund_url,
            json={"reason": "goodwill"},
            headers={**staff, "Idempotency-Key": "refund-1"},
        )
        assert refunded.status_code == 202, refunded.text
        await stripe.control.wait_idle()
        await eventually(lambda: _order(web, auth, "refunded"), "the refund")
        await deliver_outbox(runtime, desk)
        assert not (await mt5.control.account(login))["can_trade"]

    async with runtime.db.session(desk) as session:
        from propdesk.lifecycle.service import load_challenge

        _, state = await load_challenge(session, paid["challenge_id"])
        assert (state.status, state.history[-1].event) == ("cancelled", "refunded")
        assert await ledger.totals(session) == {"USD": Decimal(0)}
        balances = {b.account: b.natural for b in await ledger.balances(session)}
        assert balances == {
            "cash_at_psp": Decimal(0),
            "fee_revenue": Decimal("535.50"),
            "refunds": Decimal("535.50"),
        }


async def _order(web: httpx.AsyncClient, auth: dict[str, str], status: str) -> Any:
    orders = (await web.get("/api/traders/me/orders", headers=auth)).json()
    return orders[0] if orders and orders[0]["status"] == status else None


async def _kyc(web: httpx.AsyncClient, auth: dict[str, str], status: str) -> bool:
    return bool((await web.get("/api/traders/me", headers=auth)).json()["kyc_status"] == status)


async def _login(mt5: Any) -> str | None:
    logins = await mt5.control.accounts()
    return str(logins[0]) if logins else None
