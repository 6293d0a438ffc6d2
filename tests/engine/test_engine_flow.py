"""The engine end to end in one process: events journalled, evaluated, decided, acted on, and
every verdict reproducible with ``propdesk replay`` on the account's export."""

from __future__ import annotations

from datetime import timedelta

import pytest
from enginekit import (
    engine_runtime,
    minutes_ago,
    open_account,
    open_desk,
    opened,
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
from propdesk.lifecycle.service import load_challenge
from propdesk.runtime import Runtime
from propdesk.tenancy.naming import quote_schema
from propdesk.testing.platform import RecordingPlatform

__all__ = ["engine_runtime"]
pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_breach_is_committed_with_its_evidence_and_trading_is_disabled(
    engine_runtime: Runtime,
) -> None:
    runtime = engine_runtime
    tenant = await open_desk(runtime, server="flow-breach")
    start = minutes_ago(30)
    async with running_engine(runtime):
        opened = await open_account(
            runtime, tenant, login="5001", opened_at=start, server="flow-breach"
        )
        account = opened.account_id
        await send(
            runtime,
            tenant,
            [
                snapshot("5001", 2, start + timedelta(minutes=1), "98500"),
                snapshot("5001", 3, start + timedelta(minutes=2), "96000"),
                # 94,900 is below the daily floor of 95,000: the daily loss decides.
                snapshot("5001", 4, start + timedelta(minutes=3), "94900"),
                snapshot("5001", 5, start + timedelta(minutes=4), "99000"),
            ],
        )

        async def failed() -> bool:
            return (await state(runtime, tenant, account))["evaluated_seq"] == 5

        await wait_for(failed, what="the engine to evaluate every event")
    row = await state(runtime, tenant, account)
    assert row["status"] == "failed"
    assert row["equity"] == 99000  # later events still move the facts, not the verdict
    [decision] = await verdicts(runtime, tenant, account)
    assert decision["event"] == "breached"
    assert decision["rule"] == "daily_loss"
    assert decision["decided_at"] == start + timedelta(minutes=3)
    assert "95,000.00" in decision["explanation"]

    async with runtime.db.session(tenant) as session:
        _row, challenge = await load_challenge(session, opened.challenge_id)
        inputs = await account_inputs(session, account)
    assert challenge.status == "failed"
    assert challenge.history[-1].rule == "daily_loss"

    # The verdict as committed equals replay on the export, up to the deciding event.
    decided = [e for e in inputs.events if e.time <= decision["decided_at"]]
    again = replay(
        inputs.product,
        inputs.phase,
        decided[:4],
        rule_families(runtime.host, tenant),
        size=inputs.size,
        addons=inputs.addons,
    )
    assert again["status"] == decision["verdict"]["status"] == "failed"
    assert again["input_sha256"] == decision["input_sha256"]
    assert again["objectives"] == decision["verdict"]["objectives"]

    platform = RecordingPlatform({"server": "flow-breach"})

    async def disabled() -> bool:
        return bool(platform.calls("disable_trading"))

    await wait_for(disabled, what="trading to be disabled on the platform")


async def test_an_event_an_account_cannot_take_stops_that_account_only(
    engine_runtime: Runtime,
) -> None:
    """A bridge sends a second opening for one account in the delivery that breaches another:
    the breach is still decided and acted on, and the bad account says why it stopped."""
    runtime = engine_runtime
    tenant = await open_desk(runtime, server="flow-bad")
    start = minutes_ago(30)
    async with running_engine(runtime):
        bad = await open_account(runtime, tenant, login="5101", opened_at=start, server="flow-bad")
        good = await open_account(runtime, tenant, login="5102", opened_at=start, server="flow-bad")
        await send(
            runtime,
            tenant,
            [
                snapshot("5101", 2, start + timedelta(minutes=1), "99000"),
                {**opened("5101", start + timedelta(minutes=2)), "seq": 3},
                snapshot("5101", 4, start + timedelta(minutes=3), "90000"),
                snapshot("5102", 2, start + timedelta(minutes=1), "94000"),
            ],
        )

        async def decided() -> bool:
            return bool(await verdicts(runtime, tenant, good.account_id))

        await wait_for(decided, what="the other account's breach")
        platform = RecordingPlatform({"server": "flow-bad"})

        async def disabled() -> bool:
            return [c.args["login"] for c in platform.calls("disable_trading")] == ["5102"]

        await wait_for(disabled, what="trading to be disabled on the breached account")
        schema = quote_schema(tenant.schema)

        async def alerted() -> list[str]:
            async with runtime.db.session(tenant) as session:
                rows = await session.execute(
                    text(
                        f"SELECT detail FROM {schema}.data_quality_alerts "
                        "WHERE kind = 'bad_event' AND account_id = :a AND closed_at IS NULL"
                    ),
                    {"a": bad.account_id},
                )
                return [r[0] for r in rows.all()]

        [detail] = await wait_for(alerted, what="the bad account's alert")
    assert "event seq 3" in detail and "account_opened twice" in detail
    row = await state(runtime, tenant, bad.account_id)
    assert row["evaluated_seq"] == 2 and row["status"] == "active"
    assert await verdicts(runtime, tenant, bad.account_id) == []
