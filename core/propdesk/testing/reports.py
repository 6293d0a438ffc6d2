"""Desks with real books for the consolidated-report tests. Test support only.

``reports_runtime`` opens a runtime on a database of its own (a report spans every desk, so
no other test's desks may be in it), with the recording platform and ``ScriptedPsp``: a
payment provider whose webhooks are plain JSON ``PaymentEvent`` values, unsigned, so a test
pays, refunds and disputes orders through the core's real webhook path
(``payments.service.receive_webhook``). ``ReportDesk`` buys, refunds, disputes, moves
challenges through their phases and pays a payout through the real payout workflow.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import types
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from propdesk.access import service as access
from propdesk.catalogue.service import publish_files
from propdesk.lifecycle.service import apply_transition
from propdesk.lifecycle.transitions import Transition
from propdesk.orders import service as orders
from propdesk.orders.models import OrderRow
from propdesk.payments.contract import Checkout, PaymentEvent, PaymentProvider, RefundResult
from propdesk.payments.service import order_reference, receive_webhook
from propdesk.payouts import service as payouts
from propdesk.payouts.case import funded_account, live_case
from propdesk.payouts.runner import advance
from propdesk.plugins.markers import hookimpl
from propdesk.runtime import Runtime, open_runtime
from propdesk.settings import Settings
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.directory import load_tenant
from propdesk.tenancy.manifest import TenantManifest
from propdesk.tenancy.service import apply_manifests
from propdesk.testing.payouts import funded_product, open_funded
from propdesk.testing.platform import RecordingPlatform, recording_plugin
from propdesk.testing.services import create_database, drop_database, unique_name
from propdesk.traders import service as traders

ROOT = Path(__file__).resolve().parents[3]
TWO_STEP = ROOT / "tenants/aurora_fx/challenges/two-step.json"
PSP = "scripted"
STAFF_PASSWORD = "correct horse battery staple"  # noqa: S105 - test staff only


class ScriptedPsp:
    """Takes a JSON ``PaymentEvent`` as a verified webhook (tests only: nothing is signed)."""

    code: ClassVar[str] = PSP
    display_name: ClassVar[str] = "Scripted PSP (tests)"
    settings_schema: ClassVar[dict[str, Any]] = {}

    def __init__(self, settings: Mapping[str, Any]) -> None:
        pass

    async def create_checkout(self, request: Any) -> Checkout:
        return Checkout(f"cs_{request.order_reference}", "https://psp.example/checkout")

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: datetime
    ) -> PaymentEvent:
        data = json.loads(body)
        data["occurred_at"] = datetime.fromisoformat(data["occurred_at"])
        if data.get("amount") is not None:
            data["amount"] = Decimal(data["amount"])
        return PaymentEvent(**data)

    async def refund(
        self, payment_reference: str, amount: Decimal, currency: str, reference: str
    ) -> RefundResult:
        return RefundResult(f"re_{reference}", "succeeded", amount)

    async def close(self) -> None:
        return None


def scripted_psp_plugin() -> types.ModuleType:
    module = types.ModuleType("scripted_psp")

    def propdesk_register_payment_providers() -> list[type[PaymentProvider]]:
        return [ScriptedPsp]

    module.propdesk_register_payment_providers = hookimpl(propdesk_register_payment_providers)  # type: ignore[attr-defined]
    return module


@contextlib.asynccontextmanager
async def reports_runtime(
    settings: Settings, server_url: str, redis_url: str
) -> AsyncIterator[Runtime]:
    """A runtime on a new database (dropped afterwards) with ``settings``' rates."""
    name = unique_name("propdesk_reports")
    url = await create_database(server_url, name)
    try:
        async with open_runtime(
            settings.model_copy(update={"queue_name": unique_name("reports_test")}),
            database_url=url,
            redis_url=redis_url,
            require_migrated=False,
            extra_plugins=[("recording", recording_plugin()), (PSP, scripted_psp_plugin())],
        ) as runtime:
            await apply_manifests(runtime, [])  # the shared schema and the group roles' rules
            yield runtime
    finally:
        await drop_database(server_url, name)


async def staff_member(runtime: Runtime, role: str, desk: str | None = None) -> str:
    """A new staff user holding ``role`` (group-wide when ``desk`` is None); their e-mail."""
    email = f"{unique_name(role)}@staff.example".lower()
    async with runtime.db.unit_of_work() as session:
        user = await access.create_user(
            session, email=email, password=STAFF_PASSWORD, actor="test", display_name=role
        )
    async with runtime.db.session() as session:
        tenant = await load_tenant(session, desk) if desk else None
    async with runtime.db.unit_of_work(tenant) as session:
        await access.grant_role(
            session,
            user=await access.get_user(session, user.id),
            role=role,
            tenant_slug=desk,
            actor="test",
            redis_url=runtime.redis_url,
        )
    return email


@dataclass
class ReportDesk:
    runtime: Runtime
    tenant: TenantContext
    currency: str
    platform: RecordingPlatform
    _events: int = 0

    @classmethod
    async def open(cls, runtime: Runtime, name: str, currency: str, **manifest: Any) -> ReportDesk:
        """A desk selling the two-step challenge and an instant-funded account in
        ``currency``, paying out through the bank rail."""
        slug = unique_name("rep").lower()[:30]
        server = f"reports-{slug}"
        plugins = {
            "recording": {"server": server},
            PSP: {},
            "propdesk.engine": {"poll_seconds": 0},
            "propdesk.payouts": {"rails": ["bank"]},
        }
        values = {"display_name": name, "base_currency": currency, "plugins": plugins}
        await apply_manifests(runtime, [TenantManifest.from_values(slug, **values, **manifest)])
        async with runtime.db.session() as session:
            tenant = await load_tenant(session, slug)
        assert tenant is not None
        funded = funded_product()
        funded["currency"] = currency
        funded["sizes"][0]["prices"] = {currency: "540.00"}
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "funded.json"
            path.write_text(json.dumps(funded))
            await publish_files(runtime, tenant, [TWO_STEP, path], actor="test")
        return cls(runtime, tenant, currency, RecordingPlatform({"server": server}))

    async def webhook(self, kind: str, **fields: Any) -> str:
        self._events += 1
        event = PaymentEvent(
            event_id=f"evt_{self._events}",
            kind=kind,  # type: ignore[arg-type]
            occurred_at=fields.pop("at", None) or datetime.now(UTC),
            provider_type=kind,
            **fields,
        )
        body = json.dumps(asdict(event), default=str).encode()
        received = await receive_webhook(self.runtime, self.tenant, PSP, body, {})
        return received.outcome

    async def buy(self, size: str, *, at: datetime | None = None, email: str = "") -> int:
        """A paid order of the two-step challenge in ``size``; the challenge's id."""
        email = email or f"{unique_name('t')}@traders.example"
        async with self.runtime.db.unit_of_work(self.tenant) as session:
            trader = await traders.register(
                session,
                email=email,
                password=STAFF_PASSWORD,
                name="Ana Trader",
                country="DE",
                accept_terms=True,
            )
            order = await orders.place_order(
                session,
                trader_id=trader.id,
                kind="purchase",
                product_code="two-step",
                size=size,
                addons=[],
                currency=self.currency,
            )
        outcome = await self.webhook(
            "payment.succeeded",
            at=at,
            order_reference=order_reference(order.id),
            payment_reference=f"pi_{order.id}",
            amount=order.total,
            currency=order.currency,
        )
        assert outcome == "paid", outcome
        return order.id

    async def refund(self, order_id: int, amount: str) -> str:
        return await self.webhook(
            "refund.succeeded",
            order_reference=order_reference(order_id),
            amount=Decimal(amount),
            currency=self.currency,
            refund_reference=f"re_{order_id}_{self._events}",
        )

    async def chargeback(self, order_id: int, amount: str, *, won: bool = False) -> None:
        dispute = f"dp_{order_id}"
        ref = {"order_reference": order_reference(order_id), "dispute_reference": dispute}
        money = {"amount": Decimal(amount), "currency": self.currency}
        await self.webhook("dispute.funds_withdrawn", **ref, **money)
        if won:
            await self.webhook("dispute.closed", **ref, **money, dispute_outcome="won")

    async def challenge_of(self, order_id: int) -> int:
        async with self.runtime.db.session(self.tenant) as session:
            order = await session.get(OrderRow, order_id)
            assert order is not None and order.challenge_id is not None
            return order.challenge_id

    async def move(self, challenge_id: int, transitions: Sequence[Transition]) -> None:
        async with self.runtime.db.unit_of_work(self.tenant) as session:
            for transition in transitions:
                await apply_transition(session, None, challenge_id, transition, actor="test")

    async def pay_out(self, profit: str) -> int:
        """An instant-funded account that made ``profit`` and got its payout paid by bank
        transfer (requested, approved and confirmed); the payout's id."""
        challenge_id, account = await open_funded(
            self.runtime, self.tenant, trader_email=f"{unique_name('f')}@traders.example"
        )
        login = account.split(":")[1]
        move = Decimal(profit) / Decimal(100000)
        position = self.platform.open_position(login, "EURUSD", "buy", "1", "1.10000")
        self.platform.close_position(login, position, str(Decimal("1.10000") + move))
        runtime, tenant = self.runtime, self.tenant
        async with runtime.db.unit_of_work(tenant) as session:
            funded = await funded_account(session, tenant.schema, challenge_id)
            case = await live_case(runtime, tenant, session, funded)
            payout = await payouts.request_payout(
                session,
                None,
                funded,
                case,
                rail="bank",
                destination={"account_holder": "Ana Trader", "iban": "DE89370400440532013000"},
                second_approval_above=None,
                actor="trader:1",
            )
        assert await advance(runtime, tenant, payout.id) == "pending_review"
        async with runtime.db.unit_of_work(tenant) as session:
            funded = await funded_account(session, tenant.schema, challenge_id, trading=False)
            await payouts.approve(
                session,
                None,
                payout.id,
                funded,
                approver="user:finance",
                kyc_status="approved",
                now=datetime.now(UTC),
            )
        assert await advance(runtime, tenant, payout.id) == "paying"
        async with runtime.db.unit_of_work(tenant) as session:
            await payouts.confirm(
                session,
                None,
                payout.id,
                actor="user:finance",
                reference=f"BANK-{payout.id}",
                now=datetime.now(UTC),
            )
        return payout.id
