"""The engine's permissions, per-desk settings and reactions, registered through the contract."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from propdesk.access.permissions import Permission
from propdesk.engine.desk import GAP_TIMEOUT_SECONDS, POLL_SECONDS, STALE_AFTER_SECONDS
from propdesk.engine.store import sql
from propdesk.plugins.markers import hookimpl

if TYPE_CHECKING:
    from propdesk.outbox.events import DomainEvent
    from propdesk.runtime import Runtime
    from propdesk.tenancy.context import TenantContext

ENGINE_PERMISSIONS = [
    Permission(
        "engine",
        "ingest",
        "Send platform events to the engine (bridge services)",
        "tenant",
        ("bridge",),
    ),
    Permission(
        "engine",
        "read",
        "See accounts' timelines, verdicts, data-quality alerts and the near-breach list",
        "tenant",
        ("desk_admin", "risk", "finance", "support"),
    ),
]

SETTINGS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Real-time engine",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "stale_after_seconds": {
            "type": "integer",
            "minimum": 5,
            "default": STALE_AFTER_SECONDS,
            "description": "An account without a platform snapshot for this long raises a "
            "data-quality alert; its time-based rules wait for fresh data.",
        },
        "poll_seconds": {
            "type": "number",
            "minimum": 0,
            "default": POLL_SECONDS,
            "description": "How often the desk's platforms are polled for each trading "
            "account's events; 0 when bridges push every event (POST /api/engine/events).",
        },
        "gap_timeout_seconds": {
            "type": "integer",
            "minimum": 1,
            "default": GAP_TIMEOUT_SECONDS,
            "description": "How long the engine waits for a missing event (a gap in a "
            "source's sequence) before it goes on without it and raises an alert.",
        },
    },
}

#: Operator actions the evaluation itself must know about (the others only move the lifecycle).
EVALUATED_ACTIONS = ("reinstate", "extend")


@hookimpl
def propdesk_register_permissions() -> list[Permission]:
    return ENGINE_PERMISSIONS


@hookimpl
def propdesk_register_settings_schema() -> dict[str, Any]:
    return SETTINGS_SCHEMA


@hookimpl
async def propdesk_on_event(tenant: TenantContext, event: DomainEvent, runtime: Runtime) -> None:
    """Hand operator actions on a challenge's current account to the engine."""
    name = event.name
    if not name.startswith("challenge."):
        return
    action = name.removeprefix("challenge.")
    payload = event.payload
    if action not in (*EVALUATED_ACTIONS, "rebind") or not payload.get("account"):
        return
    from propdesk.engine.ingest import engine_stream

    platform, _, login = str(payload["account"]).partition(":")
    schema = tenant.schema
    async with runtime.db.unit_of_work(tenant) as session:
        account_id = await session.scalar(
            sql(schema, "SELECT id FROM {s}.trading_accounts WHERE platform = :p AND login = :l"),
            {"p": platform, "l": login},
        )
        if account_id is None:
            return
        if action == "rebind":
            # The account is evaluated again, from its first event, under the new version.
            await session.execute(
                sql(schema, "UPDATE {s}.account_state SET version_hash = :v WHERE account_id = :a"),
                {"v": payload["version_hash"], "a": account_id},
            )
            await session.execute(
                sql(schema, "DELETE FROM {s}.evaluation_snapshots WHERE account_id = :a"),
                {"a": account_id},
            )
    stream = engine_stream(runtime)
    if action == "rebind":
        await stream.reload(tenant.slug, [account_id], strict=True)
        return
    fields = {
        "action": action,
        "at": payload["at"],
        "actor": payload.get("actor") or "",
        "reason": payload.get("reason") or "",
    }
    if action == "extend":
        fields["days"] = payload["days"]
    await stream.operator(
        tenant.slug, account_id, str(event.event_id), json.dumps(fields), strict=True
    )
