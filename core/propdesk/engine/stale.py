"""Stale data: an account whose platform stopped sending snapshots raises a data-quality alert.

Staleness never decides anything by itself. While an account is stale the engine holds its
time-based rules (day boundaries, deadlines) until fresh data arrives, and equity rules only
ever decide on snapshots the platform actually sent.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from propdesk.engine import store
from propdesk.outbox.service import emit

if TYPE_CHECKING:
    from propdesk.engine.desk import Desk
    from propdesk.runtime import Runtime

log = structlog.get_logger(__name__)

TRADING = ("active", "paused")
#: Account ids named in one ``engine.data_stale`` event at most (the alerts hold them all).
STALE_EVENT_IDS = 1_000


async def mark_stale(runtime: Runtime, desk: Desk) -> list[int]:
    """Flag the desk's trading accounts without a snapshot for ``stale_after`` seconds."""
    now = time.monotonic()
    in_memory = [
        slot
        for slot in desk.slots.values()
        if not slot.stale
        and slot.live.status in TRADING
        and slot.snapshot_received_at is not None
        and now - slot.snapshot_received_at > desk.stale_after
    ]
    cutoff = datetime.now(UTC) - timedelta(seconds=desk.stale_after)
    schema = desk.schema
    flagged: list[int] = []
    async with runtime.db.unit_of_work(desk.tenant) as session:
        for slot in in_memory:
            slot.stale = True
        ids = [slot.live.account_id for slot in in_memory]
        # Accounts the engine has not loaded since it started: judge by what was persisted.
        persisted = await session.scalars(
            store.sql(
                schema,
                "SELECT account_id FROM {s}.account_state "
                "WHERE NOT stale AND status IN ('active', 'paused') AND last_received_at < :cutoff",
            ),
            {"cutoff": cutoff},
        )
        ids += [i for i in persisted if i not in desk.slots]
        rows = await session.execute(
            store.sql(
                schema,
                "UPDATE {s}.account_state SET stale = true "
                "WHERE NOT stale AND account_id = ANY(CAST(:ids AS bigint[])) RETURNING account_id",
            ),
            {"ids": ids},
        )
        flagged = [r[0] for r in rows.all()]
        detail = f"no snapshot for more than {desk.stale_after:g} s: rules wait for fresh data"
        opened = await store.open_alerts(
            session, schema, "stale", [(account_id, detail) for account_id in flagged]
        )
        if opened:
            # One event per sweep, not per account: a bridge that stops takes a desk with it.
            emit(
                session,
                runtime.queue,
                "engine.data_stale",
                {
                    "count": len(opened),
                    "account_ids": sorted(opened)[:STALE_EVENT_IDS],
                    "stale_after_seconds": desk.stale_after,
                },
            )
    if flagged:
        log.warning("engine.stale", tenant=desk.tenant.slug, accounts=len(flagged))
    return flagged
