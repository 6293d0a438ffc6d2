"""Verifying traders: starting a check, taking the provider's verdicts, releasing held accounts.

A webhook only says that something changed for a trader: the verdict is read back from the
provider (``check``), so repeats and deliveries out of order settle on the provider's truth,
and a later rejection revokes an approval. A trader newly approved releases the funded phases
held at the KYC gate: the ``trader.kyc_approved`` event (outbox, at least once) makes the
actions provision them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from propdesk.audit.service import record
from propdesk.errors import NotFound, PropdeskError
from propdesk.kyc.contract import KycCheck, KycEvent, KycSession, KycSubject
from propdesk.kyc.models import KycEventRow
from propdesk.outbox.service import emit
from propdesk.plugins.desk import desk_kyc_provider
from propdesk.traders.models import Trader

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.ext.asyncio import AsyncSession

    from propdesk.runtime import Runtime
    from propdesk.tenancy.context import TenantContext

PREFIX = "trader:"


class KycRequired(PropdeskError):
    """A gate of the product holds the trader until their identity is verified."""

    status = 403
    title = "Identity check required"
    slug = "kyc-required"


def external_id(trader_id: int) -> str:
    return f"{PREFIX}{trader_id}"


def trader_id_of(value: str | None) -> int | None:
    if value and value.startswith(PREFIX) and value[len(PREFIX) :].isdigit():
        return int(value[len(PREFIX) :])
    return None


def subject_of(trader: Trader) -> KycSubject:
    first, _, last = trader.name.partition(" ")
    return KycSubject(external_id(trader.id), trader.email, first, last, trader.country)


async def start_kyc(
    runtime: Runtime, tenant: TenantContext, trader_id: int, provider: str
) -> KycSession:
    """The trader's check with ``provider`` (their applicant made once), and a fresh token."""
    async with runtime.db.session(tenant) as session:
        trader = await session.get(Trader, trader_id)
        if trader is None:
            raise NotFound(f"no trader {trader_id}")
        subject = subject_of(trader)
    made = await desk_kyc_provider(runtime.host, tenant, provider).start(subject)
    async with runtime.db.unit_of_work(tenant) as session:
        trader = await session.get(Trader, trader_id, with_for_update=True)
        assert trader is not None
        if (trader.kyc_provider, trader.kyc_reference) != (provider, made.applicant_reference):
            trader.kyc_provider, trader.kyc_reference = provider, made.applicant_reference
            await record(
                session,
                chain="tenant",
                actor=f"trader:{trader_id}",
                action="trader.kyc_started",
                target=f"trader:{trader_id}",
                after={"provider": provider, "applicant": made.applicant_reference},
            )
    return made


@dataclass(frozen=True, slots=True)
class KycReceived:
    event: KycEvent
    duplicate: bool
    outcome: str


async def receive_kyc_webhook(
    runtime: Runtime,
    tenant: TenantContext,
    provider: str,
    body: bytes,
    headers: Mapping[str, str],
) -> KycReceived:
    """Verify a webhook (``WebhookRejected`` if it does not), read the verdict, record it."""
    adapter = desk_kyc_provider(runtime.host, tenant, provider)
    event = adapter.parse_webhook(body, headers, now=datetime.now(UTC))
    trader_id = trader_id_of(event.external_id)
    async with runtime.db.session(tenant) as session:
        if await _seen(session, provider, event.event_id):
            return KycReceived(event, True, "seen before")
    verdict = await adapter.check(external_id(trader_id)) if trader_id is not None else None
    async with runtime.db.unit_of_work(tenant) as session:
        recorded = await session.scalar(
            insert(KycEventRow)
            .values(
                provider=provider,
                event_id=event.event_id,
                provider_type=event.provider_type,
                trader_id=trader_id,
                occurred_at=event.occurred_at,
                outcome="",
            )
            .on_conflict_do_nothing(index_elements=["provider", "event_id"])
            .returning(KycEventRow.event_id)
        )
        if recorded is None:
            return KycReceived(event, True, "seen before")
        if verdict is None or trader_id is None:
            outcome = f"no trader for {event.external_id!r}"
        else:
            outcome = await _apply(runtime, session, provider, trader_id, verdict)
        row = await session.get(KycEventRow, (provider, event.event_id))
        assert row is not None
        row.outcome = outcome
    return KycReceived(event, False, outcome)


async def _seen(session: AsyncSession, provider: str, event_id: str) -> bool:
    found = await session.scalar(
        select(KycEventRow.event_id).where(
            KycEventRow.provider == provider, KycEventRow.event_id == event_id
        )
    )
    return found is not None


async def _apply(
    runtime: Runtime, session: AsyncSession, provider: str, trader_id: int, verdict: KycCheck
) -> str:
    trader = await session.get(Trader, trader_id, with_for_update=True)
    if trader is None:
        return f"no trader {trader_id}"
    before = trader.kyc_status
    if (before, trader.kyc_reason) == (verdict.status, verdict.reason):
        return f"still {before}"
    trader.kyc_status, trader.kyc_reason = verdict.status, verdict.reason
    trader.kyc_provider = provider
    trader.kyc_reference = verdict.applicant_reference or trader.kyc_reference
    trader.kyc_updated_at = datetime.now(UTC)
    await record(
        session,
        chain="tenant",
        actor=f"{provider}:webhook",
        action="trader.kyc",
        target=f"trader:{trader_id}",
        before={"status": before},
        after={"status": verdict.status, "labels": list(verdict.labels)},
    )
    if verdict.status == "approved" and before != "approved":
        emit(
            session,
            runtime.queue,
            "trader.kyc_approved",
            {"trader_id": trader_id, "email": trader.email},
        )
    return f"{before} -> {verdict.status}"
