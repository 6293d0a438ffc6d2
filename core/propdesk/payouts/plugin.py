"""Payouts' permissions, per-desk settings, bank rail, jobs and reactions (core plugin
``propdesk.payouts``).

Reactions to ``payout.<event>``: the worker's steps (``runner.advance``) for the events that
leave it something to do, and the trader's e-mail for every step they care about.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog

from propdesk.access.permissions import Permission
from propdesk.notifications.once import notify_once
from propdesk.payouts.bank import BankTransfer
from propdesk.payouts.messages import payout_message
from propdesk.plugins.markers import hookimpl
from propdesk.worker.jobs import JobDefinition

if TYPE_CHECKING:
    from propdesk.outbox.events import DomainEvent
    from propdesk.payouts.contract import PayoutRail
    from propdesk.runtime import Runtime
    from propdesk.tenancy.context import TenantContext
    from propdesk.worker.decorators import JobContext

log = structlog.get_logger(__name__)

PLUGIN = "propdesk.payouts"
#: Events after which the worker has a step to take.
#: Payouts the sweep moves on at once, and how long one may take.
SWEEP_CONCURRENCY = 8
SWEEP_STEP_SECONDS = 30.0
DRIVING = frozenset({"requested", "approved", "retried", "rejected", "submitted", "paid"})

PAYOUT_PERMISSIONS = [
    Permission(
        "payouts",
        "read",
        "See payouts, their quotes, timelines and statements",
        "tenant",
        ("desk_admin", "finance", "risk", "support"),
    ),
    Permission(
        "payouts",
        "approve",
        "Approve or reject payouts under review, retry a failed payment",
        "tenant",
        ("desk_admin", "finance"),
    ),
    Permission(
        "payouts",
        "pay",
        "Confirm a bank transfer made for a payout",
        "tenant",
        ("finance",),
    ),
]

SETTINGS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Payouts",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "second_approval_above": {
            "type": "string",
            "pattern": r"^\d+(\.\d{1,2})?$",
            "description": "Payouts above this amount need a second approver (a different "
            "person); absent: one approval is enough.",
        },
        "rails": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
            "uniqueItems": True,
            "minItems": 1,
            "default": ["bank"],
            "description": "The payout rails traders may choose, by code (bank: the core's "
            "bank transfer; stripe: Stripe Connect transfers from the Stripe plugin).",
        },
    },
}


def second_approval_above(tenant: TenantContext) -> Decimal | None:
    value = tenant.settings_for(PLUGIN).get("second_approval_above")
    return Decimal(str(value)) if value is not None else None


def offered_rails(tenant: TenantContext) -> list[str]:
    return list(tenant.settings_for(PLUGIN).get("rails") or ["bank"])


@hookimpl
def propdesk_register_permissions() -> list[Permission]:
    return PAYOUT_PERMISSIONS


@hookimpl
def propdesk_register_settings_schema() -> dict[str, Any]:
    return SETTINGS_SCHEMA


@hookimpl
def propdesk_register_payout_rails() -> list[type[PayoutRail]]:
    return [BankTransfer]


async def sweep_payouts(ctx: JobContext) -> dict[str, int]:
    """Move on every payout the worker owes a step (after a crash, a lost job, an outage).

    Payouts go side by side, each within a time limit: one whose platform or rail hangs, or a
    desk whose services are down, does not hold up the others."""
    from propdesk.payouts.runner import STALE_AFTER, advance, owed
    from propdesk.tenancy.service import list_tenants
    from propdesk.worker.decorators import job_runtime

    runtime = job_runtime(ctx)
    stale = min(STALE_AFTER, timedelta(seconds=runtime.settings.payout_sweep_seconds))
    gate = asyncio.Semaphore(SWEEP_CONCURRENCY)
    moved: dict[str, int] = {}

    async def one(tenant: TenantContext, payout_id: int) -> None:
        async with gate:
            try:
                await asyncio.wait_for(advance(runtime, tenant, payout_id), SWEEP_STEP_SECONDS)
                moved[tenant.slug] = moved.get(tenant.slug, 0) + 1
            except Exception:
                log.warning("payouts.sweep_step_failed", payout_id=payout_id, exc_info=True)

    work = []
    for tenant in await list_tenants(runtime):
        if tenant.status != "active":
            continue
        try:
            work += [one(tenant, p) for p in await owed(runtime, tenant, older_than=stale)]
        except Exception:
            log.exception("payouts.sweep_failed", tenant=tenant.slug)
    await asyncio.gather(*work)
    return moved


@hookimpl
def propdesk_register_jobs() -> list[JobDefinition]:
    from propdesk.settings import get_settings
    from propdesk.worker.settings import every

    seconds = get_settings().payout_sweep_seconds
    return [JobDefinition("sweep_payouts", sweep_payouts, cron=every(seconds), timeout_seconds=45)]


@hookimpl
async def propdesk_on_event(tenant: TenantContext, event: DomainEvent, runtime: Runtime) -> None:
    if not event.name.startswith("payout."):
        return
    step = event.name.removeprefix("payout.")
    if step in DRIVING:
        from propdesk.payouts.runner import advance

        await advance(runtime, tenant, int(event.payload["payout_id"]))
    desk = tenant.display_name or tenant.slug
    await notify_once(
        runtime,
        tenant,
        event,
        plugin=PLUGIN,
        recipients=[str(event.payload.get("trader_email") or "")],
        message=payout_message(step, event.payload, desk),
    )
