"""Desks for the back office's page tests: a desk on the recording platform with a funded
product, staff of each role signed in over HTTP, traders, and payouts waiting for review.

Imported by ``test_backoffice*.py`` (not a conftest: the web tests of other areas have theirs).
"""

from __future__ import annotations

import json
import tempfile
import types
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest_asyncio

from propdesk.access import service as access
from propdesk.catalogue.service import publish_files
from propdesk.embedded import ServiceUrls
from propdesk.http.app import create_app
from propdesk.http.testing import BASE_URL, app_client
from propdesk.orders import service as orders
from propdesk.payments.contract import RefundResult
from propdesk.payouts import trader as payouts_of_trader
from propdesk.payouts.models import PayoutRow
from propdesk.payouts.runner import advance
from propdesk.plugins.markers import hookimpl
from propdesk.runtime import Runtime, open_runtime
from propdesk.settings import Settings
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.manifest import TenantManifest
from propdesk.tenancy.service import apply_manifests, get_tenant, list_tenants, set_status
from propdesk.testing.payouts import funded_product, open_funded
from propdesk.testing.platform import RecordingPlatform, recording_plugin
from propdesk.testing.services import unique_name
from propdesk.traders import service as traders

PASSWORD = "correct horse battery staple"
BANK = {"account_holder": "Ana Trader", "iban": "DE89370400440532013000"}
#: Form posts come from the site's own pages.
ORIGIN = {"Origin": BASE_URL}


class RefundingProvider:
    """A payment provider that only refunds, and remembers what it was asked (by key)."""

    code: ClassVar[str] = "fakepay"
    display_name: ClassVar[str] = "Fake payments (tests)"
    settings_schema: ClassVar[dict[str, Any]] = {}
    refunds: ClassVar[dict[str, Decimal]] = {}

    def __init__(self, settings: Mapping[str, Any]) -> None:
        pass

    async def create_checkout(self, request: Any) -> Any:
        raise NotImplementedError

    def parse_webhook(self, body: bytes, headers: Mapping[str, str], *, now: datetime) -> Any:
        raise NotImplementedError

    async def refund(
        self, payment_reference: str, amount: Decimal, currency: str, reference: str
    ) -> RefundResult:
        self.refunds.setdefault(reference, amount)
        return RefundResult(f"re_{len(self.refunds)}", "pending", amount)

    async def close(self) -> None:
        return None


def _payments_plugin() -> types.ModuleType:
    module = types.ModuleType("fakepay")

    def propdesk_register_payment_providers() -> list[Any]:
        return [RefundingProvider]

    module.propdesk_register_payment_providers = hookimpl(propdesk_register_payment_providers)  # type: ignore[attr-defined]
    return module


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def desk_runtime(
    propdesk_runtime: Runtime,
    propdesk_settings: Settings,
    propdesk_urls: ServiceUrls,
    propdesk_database_url: str,
) -> AsyncIterator[Runtime]:
    """A runtime with the recording platform (after the session's runtime migrated)."""
    settings = propdesk_settings.model_copy(update={"queue_name": unique_name("backoffice")})
    async with open_runtime(
        settings,
        database_url=propdesk_database_url,
        redis_url=propdesk_urls.redis_url,
        extra_plugins=[("recording", recording_plugin()), ("fakepay", _payments_plugin())],
    ) as runtime:
        before = {t.slug for t in await list_tenants(runtime)}
        yield runtime
        for tenant in await list_tenants(runtime):
            if tenant.slug not in before and tenant.status == "active":
                await set_status(runtime, tenant.slug, "suspended", "test")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def http(desk_runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(desk_runtime)) as client:
        yield client


@dataclass
class Desk:
    runtime: Runtime
    tenant: TenantContext
    platform: RecordingPlatform

    @property
    def header(self) -> dict[str, str]:
        return {"X-Propdesk-Tenant": self.tenant.slug}

    async def staff(self, http: httpx.AsyncClient, role: str) -> dict[str, str]:
        """Headers of a new staff member holding ``role`` on this desk, signed in."""
        email = f"{unique_name(role)}@desk.example".lower()
        async with self.runtime.db.unit_of_work() as session:
            user = await access.create_user(session, email=email, password=PASSWORD, actor="t")
        async with self.runtime.db.unit_of_work(self.tenant) as session:
            await access.grant_role(
                session,
                user=await access.get_user(session, user.id),
                role=role,
                tenant_slug=self.tenant.slug,
                actor="test",
                redis_url=self.runtime.redis_url,
            )
        signed = await http.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        http.cookies.clear()
        return {**self.header, "Cookie": f"propdesk_session={signed.cookies['propdesk_session']}"}

    async def trader(self, email: str, name: str, country: str = "DE") -> int:
        async with self.runtime.db.unit_of_work(self.tenant) as session:
            made = await traders.register(
                session,
                email=email,
                password="correct horse battery",
                name=name,
                country=country,
                accept_terms=True,
            )
            return int(made.id)

    def profit(self, login: str, amount: str) -> None:
        """Close a trade that made ``amount`` (1 lot of EURUSD: 0.0001 is 10.00)."""
        move = Decimal(amount) / Decimal(100000)
        position = self.platform.open_position(login, "EURUSD", "buy", "1", "1.10000")
        self.platform.close_position(login, position, str(Decimal("1.10000") + move))

    async def pending_payout(self, email: str, name: str, profit: str = "1250") -> PayoutRow:
        """A funded challenge of the trader with ``profit`` made, its payout requested and
        withdrawn: waiting for review."""
        challenge_id, account = await open_funded(
            self.runtime, self.tenant, trader_email=email, trader_name=name
        )
        self.profit(account.split(":")[1], profit)
        async with self.runtime.db.unit_of_work(self.tenant) as session:
            payout = await payouts_of_trader.request_now(
                self.runtime,
                self.tenant,
                session,
                challenge_id,
                rail="bank",
                destination=BANK,
                actor="trader:test",
            )
            payout_id = payout.id
        await advance(self.runtime, self.tenant, payout_id)
        return await self.payout(payout_id)

    async def paid_order(self, trader_id: int) -> int:
        """An order of the trader, paid through the fake provider (its challenge opened)."""
        async with self.runtime.db.unit_of_work(self.tenant) as session:
            order = await orders.place_order(
                session,
                trader_id=trader_id,
                kind="purchase",
                product_code="funded-payouts",
                size="100k",
                addons=[],
                currency="USD",
            )
            await orders.mark_paid(
                session,
                None,
                order.id,
                provider="fakepay",
                payment_reference=f"pay_{order.id}",
                amount=order.total,
                currency=order.currency,
                at=datetime.now(UTC),
                actor="test",
            )
            return int(order.id)

    async def payout(self, payout_id: int) -> PayoutRow:
        async with self.runtime.db.session(self.tenant) as session:
            found = await session.get(PayoutRow, payout_id)
            assert found is not None
            return found


async def open_desk(runtime: Runtime, *, name: str = "Aurora FX", **product: Any) -> Desk:
    """A desk of its own on the recording platform with the funded product published."""
    slug = unique_name("bo").lower()[:30]
    server = f"backoffice-{slug}"
    plugins = {
        "recording": {"server": server},
        "fakepay": {},
        "propdesk.engine": {"poll_seconds": 0},
        "propdesk.payouts": {"rails": ["bank"]},
    }
    await apply_manifests(
        runtime, [TenantManifest.from_values(slug, plugins=plugins, display_name=name)]
    )
    tenant = await get_tenant(runtime, slug)
    assert tenant is not None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "product.json"
        path.write_text(json.dumps(funded_product(**product)))
        await publish_files(runtime, tenant, [path], actor="test")
    return Desk(runtime, tenant, RecordingPlatform({"server": server}))
