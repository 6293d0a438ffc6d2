"""A desk verifying traders through the Sumsub simulator, over HTTP: a product that asks for KYC
before purchase holds an unverified trader and says what to do; the signed webhooks (repeated,
or with a bad digest) settle the trader on Sumsub's verdict; an approval is announced once, and
a later rejection closes the gate again."""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from propdesk.catalogue.service import publish_files
from propdesk.kyc.models import KycEventRow
from propdesk.kyc.service import KycRequired, start_kyc
from propdesk.orders import service as orders
from propdesk.outbox.models import OutboxEvent
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.testing.pytest_plugin import MakeTenant
from propdesk.testing.services import unique_name
from propdesk.testing.simulators import eventually, serving_app
from propdesk.traders import service as traders
from propdesk.traders.models import Trader
from propdesk_kyc_sumsub.simulator import RunningSimulator

pytestmark = pytest.mark.asyncio(loop_scope="session")
ROOT = Path(__file__).resolve().parents[3]
ENV = {
    "app_token": "T_SUMSUB_TOKEN",
    "secret_key": "T_SUMSUB_SECRET",
    "webhook_secret": "T_SUMSUB_HOOK",
}


@pytest.fixture
async def desk(
    propdesk_runtime: Runtime,
    make_tenant: MakeTenant,
    sim: RunningSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[TenantContext]:
    for name, env in ENV.items():
        monkeypatch.setenv(env, getattr(sim, name))
    settings = {"base_url": sim.url, **{name: {"env": env} for name, env in ENV.items()}}
    tenant = await make_tenant(unique_name("kyc").lower()[:30], plugins={"kyc_sumsub": settings})
    product = json.loads((ROOT / "tenants/aurora_fx/challenges/two-step.json").read_text())
    product.update(code="two-step-kyc", kyc={"before_purchase": True})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "product.json"
        path.write_text(json.dumps(product))
        await publish_files(propdesk_runtime, tenant, [path], actor="test")
    yield tenant


async def buy(runtime: Runtime, tenant: TenantContext, trader_id: int) -> Any:
    async with runtime.db.unit_of_work(tenant) as session:
        return await orders.place_order(
            session,
            trader_id=trader_id,
            kind="purchase",
            product_code="two-step-kyc",
            size="10k",
            addons=[],
            currency="USD",
        )


async def kyc_status(runtime: Runtime, tenant: TenantContext, trader_id: int) -> str:
    async with runtime.db.session(tenant) as session:
        trader = await session.get(Trader, trader_id)
        assert trader is not None
        return trader.kyc_status


async def count(runtime: Runtime, tenant: TenantContext, query: Any) -> int:
    async with runtime.db.session(tenant) as session:
        return int(await session.scalar(query) or 0)


async def test_the_gate_holds_until_sumsub_approves_and_closes_on_a_later_rejection(
    propdesk_runtime: Runtime, desk: TenantContext, sim: RunningSimulator
) -> None:
    runtime = propdesk_runtime
    async with runtime.db.unit_of_work(desk) as session:
        trader = await traders.register(
            session,
            email="ana@traders.example",
            password="correct horse battery",
            name="Ana Trader",
            country="DE",
            accept_terms=True,
        )
    with pytest.raises(KycRequired, match="verify your identity"):
        await buy(runtime, desk, trader.id)

    async with serving_app(runtime) as base:
        await sim.control.add_webhook(f"{base}/api/kyc/sumsub/webhook/{desk.slug}")
        started = await start_kyc(runtime, desk, trader.id, "sumsub")
        await sim.control.set_delivery_mode(duplicates=3)
        await sim.control.submit(started.applicant_reference)
        await eventually(lambda: _is(runtime, desk, trader.id, "pending"), "pending")
        await sim.control.review(started.applicant_reference, "GREEN")
        await eventually(lambda: _is(runtime, desk, trader.id, "approved"), "the approval")
        await sim.control.wait_deliveries()
        assert (await buy(runtime, desk, trader.id)).status == "pending_payment"

        # A forged delivery is refused and changes nothing.
        await sim.control.set_delivery_mode(duplicates=0, bad_digest=1)
        before = await count(runtime, desk, select(func.count()).select_from(KycEventRow))
        await sim.control.review(
            started.applicant_reference, "RED", reject_type="FINAL", labels=["FORGERY"]
        )
        await eventually(lambda: _refused(sim), "the bad digest to be refused")
        assert await kyc_status(runtime, desk, trader.id) == "approved"
        assert await count(runtime, desk, select(func.count()).select_from(KycEventRow)) == before

    # Sumsub retries; the genuine delivery then revokes the approval.
    async with serving_app(runtime) as base:
        await sim.control.clear_webhooks()
        await sim.control.add_webhook(f"{base}/api/kyc/sumsub/webhook/{desk.slug}")
        await sim.control.review(
            started.applicant_reference,
            "RED",
            reject_type="FINAL",
            labels=["FORGERY"],
            moderation_comment="Document forged.",
        )
        await eventually(lambda: _is(runtime, desk, trader.id, "rejected_final"), "the rejection")
    with pytest.raises(KycRequired, match="contact support"):
        await buy(runtime, desk, trader.id)
    approvals = (
        select(func.count())
        .select_from(OutboxEvent)
        .where(OutboxEvent.name == "trader.kyc_approved")
    )
    assert await count(runtime, desk, approvals) == 1  # duplicates announced it once


async def _is(runtime: Runtime, tenant: TenantContext, trader_id: int, status: str) -> bool:
    return await kyc_status(runtime, tenant, trader_id) == status


async def _refused(sim: RunningSimulator) -> bool:
    deliveries = await sim.control.deliveries()
    return any(a.get("status") == 400 for d in deliveries for a in d["attempts"])
