"""Desks for the trader portal's page tests: a desk on the recording platform with an
evaluation product and a funded one, traders who sign up through the portal's own form, and
accounts as the engine leaves them (journal, state, days).

Imported by ``test_portal*.py`` (not a conftest: the other areas' web tests have theirs).
"""

from __future__ import annotations

import re
import types
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import httpx
import pytest_asyncio

from propdesk.catalogue.families import rule_families
from propdesk.catalogue.product import content_hash
from propdesk.catalogue.service import publish_content
from propdesk.embedded import ServiceUrls
from propdesk.engine.models import AccountDay, AccountEvent, AccountState, TradingAccount
from propdesk.errors import WebhookRejected
from propdesk.http.app import create_app
from propdesk.http.testing import BASE_URL, app_client
from propdesk.lifecycle.service import apply_transition, open_challenge
from propdesk.lifecycle.transitions import Paid, Provisioned
from propdesk.payments.contract import (
    Checkout,
    CheckoutRequest,
    PaymentEvent,
    PaymentRefused,
    RefundResult,
)
from propdesk.plugins.markers import hookimpl
from propdesk.rules.events import canonical, canonical_json, parse_event
from propdesk.runtime import Runtime, open_runtime
from propdesk.settings import Settings
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.manifest import TenantManifest
from propdesk.tenancy.service import apply_manifests, get_tenant, list_tenants, set_status
from propdesk.testing.payouts import funded_product
from propdesk.testing.platform import RecordingPlatform, recording_plugin
from propdesk.testing.services import unique_name

PASSWORD = "correct horse battery"
#: Form posts come from the site's own pages (the area routers check the Origin).
ORIGIN = {"Origin": BASE_URL}
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EVALUATION = "eval-2step"
FUNDED = "funded-payouts"
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')

#: Two phases on the recording platform: 5% daily loss, 10% max loss, a 10% target, 3 days.
EVALUATION_PRODUCT: dict[str, Any] = {
    "code": EVALUATION,
    "name": "Portal Two-Step",
    "description": "Two phases, then a **funded** account.",
    "currency": "USD",
    "trading_day": {"time": "00:00", "timezone": "Europe/Prague"},
    "sizes": [
        {"code": "10k", "balance": "10000", "prices": {"USD": "99.00", "EUR": "92.00"}},
        {"code": "100k", "balance": "100000", "prices": {"USD": "540.00", "EUR": "499.00"}},
    ],
    "addons": [
        {
            "code": "split-90",
            "name": "90% split",
            "prices": {"USD": "59.00", "EUR": "55.00"},
            "effects": [{"op": "set_payout", "payout": {"split_percent": "90"}}],
        }
    ],
    "payout": {"split_percent": "80", "first_after_days": 14, "cadence": "biweekly"},
    "phases": [
        {
            "code": "phase1",
            "name": "Phase 1",
            "kind": "evaluation",
            "platform": "recording",
            "group": "demo\\portal\\phase1",
            "leverage": 100,
            "rules": [
                {
                    "family": "daily_loss",
                    "params": {"amount": {"percent": "5", "of": "initial_balance"}},
                },
                {
                    "family": "max_loss",
                    "params": {"amount": {"percent": "10", "of": "initial_balance"}},
                },
                {
                    "family": "profit_target",
                    "params": {"amount": {"percent": "10", "of": "initial_balance"}},
                },
                {"family": "min_trading_days", "params": {"count": 3}},
            ],
        },
        {
            "code": "funded",
            "name": "Funded",
            "kind": "funded",
            "platform": "recording",
            "group": "real\\portal\\funded",
            "leverage": 30,
            "rules": [
                {
                    "family": "max_loss",
                    "params": {"amount": {"percent": "10", "of": "initial_balance"}},
                }
            ],
        },
    ],
}


class HostedCheckout:
    """A payment provider whose checkout is a made-up page: each checkout asked for is kept
    (``made``), one per idempotency key as a PSP does; payments never arrive."""

    code: ClassVar[str] = "hosted"
    display_name: ClassVar[str] = "Hosted checkout (tests)"
    settings_schema: ClassVar[dict[str, Any]] = {}
    made: ClassVar[dict[str, CheckoutRequest]] = {}

    def __init__(self, settings: Mapping[str, Any]) -> None:
        pass

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        self.made.setdefault(request.idempotency_key, request)
        return Checkout(request.idempotency_key, f"https://pay.example/{request.idempotency_key}")

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: datetime
    ) -> PaymentEvent:
        raise WebhookRejected("the test provider sends no webhooks")

    async def refund(
        self, payment_reference: str, amount: Decimal, currency: str, reference: str
    ) -> RefundResult:
        raise PaymentRefused("the test provider refunds nothing")

    async def close(self) -> None:
        return None


def hosted_plugin() -> types.ModuleType:
    module = types.ModuleType("hosted_checkout")

    def propdesk_register_payment_providers() -> list[Any]:
        return [HostedCheckout]

    module.propdesk_register_payment_providers = hookimpl(propdesk_register_payment_providers)  # type: ignore[attr-defined]
    return module


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def portal_runtime(
    propdesk_runtime: Runtime,
    propdesk_settings: Settings,
    propdesk_urls: ServiceUrls,
    propdesk_database_url: str,
) -> AsyncIterator[Runtime]:
    """A runtime with the recording platform and the test checkout; its desks are suspended
    when the module ends."""
    settings = propdesk_settings.model_copy(update={"queue_name": unique_name("portal")})
    async with open_runtime(
        settings,
        database_url=propdesk_database_url,
        redis_url=propdesk_urls.redis_url,
        extra_plugins=[("recording", recording_plugin()), ("hosted", hosted_plugin())],
    ) as runtime:
        yield runtime
        for tenant in await list_tenants(runtime):
            if tenant.slug.startswith("portal") and tenant.status == "active":
                await set_status(runtime, tenant.slug, "suspended", "test")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def web(portal_runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app; it keeps no cookies between calls (each call says who is signed in)."""
    async with app_client(create_app(portal_runtime)) as client:
        yield client


@dataclass
class Desk:
    runtime: Runtime
    tenant: TenantContext
    platform: RecordingPlatform

    @property
    def header(self) -> dict[str, str]:
        return {"X-Propdesk-Tenant": self.tenant.slug}

    async def sign_up(
        self, http: httpx.AsyncClient, email: str, name: str = "Ana Trader"
    ) -> Trader:
        """A trader signed up through the portal's form, signed in."""
        form = {
            "email": email,
            "password": PASSWORD,
            "name": name,
            "country": "de",
            "accept_terms": "on",
        }
        made = await http.post("/signup", data=form, headers={**self.header, **ORIGIN})
        assert made.status_code == 303, made.text
        cookie = made.cookies["propdesk_trader"]
        http.cookies.clear()
        return Trader(email, name, {**self.header, "Cookie": f"propdesk_trader={cookie}"})

    def profit(self, login: str, amount: str) -> None:
        """Close a trade that made ``amount`` (1 lot of EURUSD: 0.0001 is 10.00)."""
        move = Decimal(amount) / Decimal(100000)
        position = self.platform.open_position(login, "EURUSD", "buy", "1", "1.10000")
        self.platform.close_position(login, position, str(Decimal("1.10000") + move))

    async def challenge(self, email: str, *, product: str = EVALUATION, size: str = "100k") -> int:
        """A paid challenge of the trader, its account opened (``mt5:<id>``)."""
        async with self.runtime.db.unit_of_work(self.tenant) as session:
            made = await open_challenge(
                session,
                None,
                product_code=product,
                size=size,
                addons=[],
                trader_email=email,
                trader_name="Trader",
                actor="test",
            )
            await apply_transition(session, None, made.id, Paid(at=START), actor="test")
            return int(made.id)


@dataclass(frozen=True)
class Trader:
    email: str
    name: str
    #: The headers of a request the trader makes (desk and session cookie).
    headers: dict[str, str]

    @property
    def posts(self) -> dict[str, str]:
        return {**self.headers, **ORIGIN}


async def open_desk(runtime: Runtime, *, name: str = "Portal FX", **payouts: Any) -> Desk:
    """A desk of its own on the recording platform, both products published."""
    slug = unique_name("portal").lower()[:30]
    server = f"portal-{slug}"
    plugins = {
        "recording": {"server": server},
        "hosted": {},
        "propdesk.engine": {"poll_seconds": 0},
        "propdesk.payouts": {"rails": ["bank"]},
    }
    await apply_manifests(
        runtime, [TenantManifest.from_values(slug, plugins=plugins, display_name=name)]
    )
    tenant = await get_tenant(runtime, slug)
    assert tenant is not None
    families = rule_families(runtime.host, tenant)
    async with runtime.db.unit_of_work(tenant) as session:
        for product in (EVALUATION_PRODUCT, funded_product(**payouts)):
            await publish_content(session, runtime.queue, families, product, "test")
    return Desk(runtime, tenant, RecordingPlatform({"server": server}))


def reading(at: datetime, balance: str, equity: str) -> dict[str, str]:
    return {"type": "snapshot", "time": at.isoformat(), "balance": balance, "equity": equity}


async def evaluated_account(
    desk: Desk,
    challenge_id: int,
    login: str,
    readings: list[dict[str, str]],
    *,
    days: Mapping[date, tuple[str, str]] = {},
) -> int:
    """Phase 1's account of the challenge as the engine leaves it: opened at ``START`` with
    100,000, then ``readings``, all evaluated; ``days`` gives the recorded (daily, max-loss)
    floors by trading day."""
    version = content_hash(EVALUATION_PRODUCT)
    events = [{"type": "account_opened", "time": START.isoformat(), "balance": "100000"}]
    events += readings
    async with desk.runtime.db.unit_of_work(desk.tenant) as session:
        await apply_transition(
            session,
            None,
            challenge_id,
            Provisioned(at=START, account=f"recording:{login}"),
            actor="test",
        )
        account = TradingAccount(
            challenge_id=challenge_id,
            phase=0,
            attempt=1,
            phase_code="phase1",
            platform="recording",
            login=login,
            product_code=EVALUATION,
            version_hash=version,
            size="100k",
            addons=[],
            currency="USD",
            initial_balance=Decimal("100000.00"),
            opened_at=START,
        )
        session.add(account)
        await session.flush()
        for seq, data in enumerate(events, start=1):
            event = parse_event(data)
            session.add(
                AccountEvent(
                    account_id=account.id,
                    seq=seq,
                    event_key=f"e{seq}",
                    type=event.type,
                    time=event.time,
                    body=canonical_json(canonical(event)),
                )
            )
        last = parse_event(events[-1])
        session.add(
            AccountState(
                account_id=account.id,
                evaluated_seq=len(events),
                evaluated_until=last.time,
                status="active",
                balance=Decimal(str(events[-1]["balance"])),
                equity=Decimal(str(events[-1].get("equity", events[-1]["balance"]))),
                version_hash=version,
            )
        )
        for day, (daily, max_loss) in days.items():
            session.add(
                AccountDay(
                    account_id=account.id,
                    day=day,
                    start_balance=Decimal(100000),
                    start_equity=Decimal(100000),
                    min_equity=Decimal(100000),
                    max_equity=Decimal(100000),
                    close_balance=Decimal(100000),
                    close_equity=Decimal(100000),
                    daily_floor=Decimal(daily),
                    max_loss_floor=Decimal(max_loss),
                )
            )
        return int(account.id)


def form_key(page: str, action: str) -> str:
    """The idempotency key of the form posting to ``action`` on ``page``."""
    start = page.index(f'action="{action}"')
    match = KEY.search(page, start)
    assert match is not None, f"no key in the form of {action}"
    return match.group(1)


def later(**delta: float) -> datetime:
    return START + timedelta(**delta)
