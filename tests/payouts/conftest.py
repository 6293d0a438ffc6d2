"""Payout desks on the recording platform, with a counting payout rail that pays like a PSP:
once per idempotency key, and tells how many transfers each payout received."""

from __future__ import annotations

import json
import tempfile
import types
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest_asyncio

from propdesk.catalogue.service import publish_files
from propdesk.embedded import ServiceUrls
from propdesk.payouts.contract import PayoutInstruction, PayoutRefused, RailResult
from propdesk.plugins.markers import hookimpl
from propdesk.runtime import Runtime, open_runtime
from propdesk.settings import Settings
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.manifest import TenantManifest
from propdesk.tenancy.service import apply_manifests, get_tenant, list_tenants, set_status
from propdesk.testing.payouts import funded_product
from propdesk.testing.platform import RecordingPlatform, recording_plugin
from propdesk.testing.services import unique_name


class CountingRail:
    """Pays once per idempotency key (as a PSP does); ``transfers`` counts real payments by
    payout reference, so a second payment of one payout shows as 2."""

    code: ClassVar[str] = "counting"
    display_name: ClassVar[str] = "Counting rail (tests)"
    settings_schema: ClassVar[dict[str, Any]] = {}
    destination_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["account"],
        "properties": {"account": {"type": "string", "pattern": "^acct_"}},
    }
    paid: ClassVar[dict[str, str]] = {}
    transfers: ClassVar[Counter[str]] = Counter()
    refuse: ClassVar[set[str]] = set()

    def __init__(self, settings: Mapping[str, Any]) -> None:
        pass

    async def pay(self, instruction: PayoutInstruction) -> RailResult:
        if instruction.destination.get("account") in self.refuse:
            raise PayoutRefused("the account cannot receive transfers", provider_code="closed")
        known = self.paid.get(instruction.idempotency_key)
        if known is not None:
            return RailResult("paid", known, datetime.now(UTC), replayed=True)
        self.transfers[instruction.reference] += 1
        reference = self.paid[instruction.idempotency_key] = f"tr_{len(self.paid) + 1}"
        return RailResult("paid", reference, datetime.now(UTC))

    async def close(self) -> None:
        return None


def counting_plugin() -> types.ModuleType:
    module = types.ModuleType("counting_rail")

    def propdesk_register_payout_rails() -> list[Any]:
        return [CountingRail]

    module.propdesk_register_payout_rails = hookimpl(propdesk_register_payout_rails)  # type: ignore[attr-defined]
    return module


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def payout_runtime(
    propdesk_runtime: Runtime,
    propdesk_settings: Settings,
    propdesk_urls: ServiceUrls,
    propdesk_database_url: str,
) -> AsyncIterator[Runtime]:
    """A runtime with the recording platform and the counting rail (after the session's
    runtime migrated the database)."""
    settings = propdesk_settings.model_copy(update={"queue_name": unique_name("payout_test")})
    async with open_runtime(
        settings,
        database_url=propdesk_database_url,
        redis_url=propdesk_urls.redis_url,
        extra_plugins=[("recording", recording_plugin()), ("counting", counting_plugin())],
    ) as runtime:
        before = {t.slug for t in await list_tenants(runtime)}
        yield runtime
        for tenant in await list_tenants(runtime):
            if tenant.slug not in before and tenant.status == "active":
                await set_status(runtime, tenant.slug, "suspended", "test")


@dataclass
class PayoutDesk:
    runtime: Runtime
    tenant: TenantContext
    platform: RecordingPlatform

    def profit(self, login: str, amount: str) -> None:
        """Close a trade that made ``amount`` (1 lot of EURUSD: 0.0001 is 10.00)."""
        move = Decimal(amount) / Decimal(100000)
        position = self.platform.open_position(login, "EURUSD", "buy", "1", "1.10000")
        self.platform.close_position(login, position, str(Decimal("1.10000") + move))


async def open_payout_desk(
    runtime: Runtime,
    *,
    payouts: dict[str, Any] | None = None,
    display_name: str | None = None,
    **product: Any,
) -> PayoutDesk:
    slug = unique_name("pay").lower()[:30]
    server = f"payouts-{slug}"
    plugins = {
        "recording": {"server": server},
        "counting": {},
        "propdesk.engine": {"poll_seconds": 0},
        "propdesk.payouts": payouts or {"rails": ["bank", "counting"]},
    }
    names = {"display_name": display_name} if display_name else {}
    await apply_manifests(runtime, [TenantManifest.from_values(slug, plugins=plugins, **names)])
    tenant = await get_tenant(runtime, slug)
    assert tenant is not None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "product.json"
        path.write_text(json.dumps(funded_product(**product)))
        await publish_files(runtime, tenant, [path], actor="test")
    return PayoutDesk(runtime, tenant, RecordingPlatform({"server": server}))
