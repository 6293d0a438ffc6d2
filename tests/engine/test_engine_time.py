"""Time in the engine: dues are decided at their instant with no event (scheduled), they are
journalled so replay agrees, and stale data raises an alert without deciding anything."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from enginekit import (
    PRODUCT,
    engine_runtime,
    open_account,
    open_desk,
    running_engine,
    send,
    snapshot,
    state,
    verdicts,
    wait_for,
)
from sqlalchemy import text

from propdesk.catalogue.families import rule_families
from propdesk.engine.export import account_inputs
from propdesk.engine.replay import replay
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.manifest import TenantManifest
from propdesk.tenancy.naming import quote_schema
from propdesk.tenancy.service import apply_manifests, get_tenant

__all__ = ["engine_runtime"]
pytestmark = pytest.mark.asyncio(loop_scope="session")


def _limited() -> dict:
    product = copy.deepcopy(PRODUCT)
    product["code"] = "engine-time"
    product["trading_day"] = {"time": "00:00", "timezone": "UTC"}
    product["phases"][0]["rules"].append({"family": "time_limit", "params": {"days": 2}})
    return product


async def test_a_deadline_passes_with_no_event_and_replay_agrees(engine_runtime: Runtime) -> None:
    runtime = engine_runtime
    product = _limited()
    tenant = await open_desk(runtime, server=None, product=product)
    opened_at = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
    async with running_engine(runtime):
        account = await open_account(
            runtime, tenant, login="7101", opened_at=opened_at, product=product
        )
        await send(runtime, tenant, [snapshot("7101", 2, opened_at + timedelta(hours=1), "100500")])

        async def expired() -> bool:
            return (await state(runtime, tenant, account.account_id))["status"] == "expired"

        await wait_for(expired, what="the time limit to expire the account")
    [decision] = await verdicts(runtime, tenant, account.account_id)
    assert decision["event"] == "expired"
    assert decision["rule"] == "time_limit"
    assert decision["decided_at"] == opened_at + timedelta(days=2)

    schema = quote_schema(tenant.schema)
    async with runtime.db.session(tenant) as session:
        clock = await session.scalar(
            text(f"SELECT count(*) FROM {schema}.account_engine_events WHERE type = 'clock'")
        )
        inputs = await account_inputs(session, account.account_id)
    assert clock >= 1, "the deadline was reached by a scheduled clock event"
    again = replay(
        inputs.product,
        inputs.phase,
        inputs.events,
        rule_families(runtime.host, tenant),
        size=inputs.size,
        addons=inputs.addons,
        until=inputs.until,
    )
    assert again["status"] == "expired"
    assert again["decided_at"] == decision["verdict"]["decided_at"]
    assert again["objectives"] == decision["verdict"]["objectives"]


async def _stale_desk(runtime: Runtime) -> TenantContext:
    desk = await open_desk(runtime, server=None)
    manifest = TenantManifest.from_values(
        desk.slug, plugins={"propdesk.engine": {"poll_seconds": 0, "stale_after_seconds": 5}}
    )
    await apply_manifests(runtime, [manifest])
    tenant = await get_tenant(runtime, desk.slug)
    assert tenant is not None
    return tenant


async def test_stale_data_raises_an_alert_and_decides_nothing(engine_runtime: Runtime) -> None:
    runtime = engine_runtime
    tenant = await _stale_desk(runtime)
    now = datetime.now(UTC).replace(microsecond=0)
    schema = quote_schema(tenant.schema)
    async with running_engine(runtime):
        account = await open_account(
            runtime, tenant, login="7201", opened_at=now - timedelta(minutes=5)
        )
        await send(runtime, tenant, [snapshot("7201", 2, now - timedelta(minutes=1), "99000")])

        async def alerted() -> bool:
            return bool((await state(runtime, tenant, account.account_id))["stale"])

        await wait_for(alerted, what="the stale-data alert", timeout=30)
        async with runtime.db.session(tenant) as session:
            alert = (
                await session.execute(
                    text(f"SELECT kind, closed_at, detail FROM {schema}.data_quality_alerts")
                )
            ).one()
        assert alert.kind == "stale" and alert.closed_at is None
        assert "no snapshot for more than 5 s" in alert.detail
        assert (await state(runtime, tenant, account.account_id))["status"] == "active"

        await send(runtime, tenant, [snapshot("7201", 3, datetime.now(UTC), "99100")])

        async def fresh() -> bool:
            return not (await state(runtime, tenant, account.account_id))["stale"]

        await wait_for(fresh, what="fresh data to clear the alert")
    async with runtime.db.session(tenant) as session:
        closed = await session.scalar(
            text(f"SELECT closed_at FROM {schema}.data_quality_alerts WHERE kind = 'stale'")
        )
    assert closed is not None
    assert await verdicts(runtime, tenant, account.account_id) == []
