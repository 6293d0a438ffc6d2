"""Telling people about an outbox event once per recipient, however often it is delivered."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from propdesk.notifications.channels import desk_channels
from propdesk.notifications.message import (
    Notification,
    PermanentDeliveryError,
    idempotency_key,
)
from propdesk.outbox.models import OutboxDelivery

if TYPE_CHECKING:
    from collections.abc import Iterable

    from propdesk.notifications.templates import Message
    from propdesk.outbox.events import DomainEvent
    from propdesk.runtime import Runtime
    from propdesk.tenancy.context import TenantContext

log = structlog.get_logger(__name__)


def mail_step(address: str) -> str:
    """The step of one recipient's e-mail (addresses are long; their digest is not)."""
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:20]
    return f"mail:{digest}"


async def sent_steps(
    runtime: Runtime, tenant: TenantContext, event: DomainEvent, plugin: str
) -> set[str]:
    """The steps ``plugin`` recorded for ``event`` (as ``<plugin>#<step>`` deliveries)."""
    async with runtime.db.session(tenant) as session:
        rows = await session.scalars(
            select(OutboxDelivery.plugin).where(
                OutboxDelivery.event_id == event.event_id,
                OutboxDelivery.plugin.startswith(f"{plugin}#"),
            )
        )
        return {name.removeprefix(f"{plugin}#") for name in rows}


async def mark_step(session: object, event: DomainEvent, plugin: str, step: str) -> bool:
    """Record ``step`` in ``session``'s transaction; False if it was recorded already."""
    inserted = await session.scalar(  # type: ignore[attr-defined]
        insert(OutboxDelivery)
        .values(event_id=event.event_id, plugin=f"{plugin}#{step}")
        .on_conflict_do_nothing()
        .returning(OutboxDelivery.plugin)
    )
    return inserted is not None


async def notify_once(
    runtime: Runtime,
    tenant: TenantContext,
    event: DomainEvent,
    *,
    plugin: str,
    recipients: Iterable[str],
    message: Message | None,
    done: set[str] | None = None,
) -> None:
    """E-mail ``message`` to each recipient on its own, once per event and recipient.

    A sent mail is recorded among the event's deliveries; ``done`` (the steps already recorded,
    read when absent) is updated. A repeat after a crash between sending and recording reuses
    the Message-ID, so the recipient's mail system can tell.
    """
    if message is None:
        return
    if done is None:
        done = set() if event.first_delivery else await sent_steps(runtime, tenant, event, plugin)
    pending = [r for r in dict.fromkeys(recipients) if r and mail_step(r) not in done]
    if not pending:
        return
    channel = desk_channels(runtime.host, tenant).get("email")
    if channel is None:
        log.info(
            "notifications.not_sent",
            reason="the desk has no e-mail channel",
            event_name=event.name,
        )
        return
    for address in pending:
        notification = Notification(
            tenant=tenant.slug,
            kind=event.name,
            recipients=(address,),
            subject=message.subject,
            text=message.text,
            idempotency_key=idempotency_key(event.event_id, address),
        )
        try:
            await channel.send(notification)
        except PermanentDeliveryError as exc:
            log.error("notifications.refused", event_name=event.name, error=str(exc))
        async with runtime.db.unit_of_work(tenant) as session:
            await mark_step(session, event, plugin, mail_step(address))
        done.add(mail_step(address))
