"""What follows a breach, a pause, a resume: the platform acts once, the people hear once.

Each test runs a desk on the recording platform and a real SMTP server, moves a challenge
through the lifecycle service, and delivers the resulting outbox event to the actions plugin,
sometimes twice, as the outbox may.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from enginekit import PRODUCT, Inbox, engine_runtime, open_mail_desk, smtp
from sqlalchemy import select

from propdesk.audit.service import list_records
from propdesk.engine.actions import PLUGIN
from propdesk.lifecycle.service import apply_transition, load_challenge, open_challenge
from propdesk.lifecycle.transitions import Breached, Paid, Paused, Provisioned, Resumed, Transition
from propdesk.outbox.events import DomainEvent
from propdesk.outbox.models import OutboxEvent
from propdesk.platforms.contract import TemporarilyUnavailable
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.testing.platform import RecordingPlatform

__all__ = ["engine_runtime", "smtp"]
pytestmark = pytest.mark.asyncio(loop_scope="session")

TRADER = "ana@traders.example"


# -- a desk and its challenges -------------------------------------------------------------------
@dataclass
class Desk:
    runtime: Runtime
    tenant: TenantContext
    platform: RecordingPlatform

    async def buy(self, trader: str = TRADER) -> int:
        async with self.runtime.db.unit_of_work(self.tenant) as session:
            challenge = await open_challenge(
                session,
                self.runtime.queue,
                product_code=PRODUCT["code"],
                size="100k",
                addons=[],
                trader_email=trader,
                trader_name="Ana Trader",
                actor="test",
            )
            return int(challenge.id)

    async def apply(self, challenge_id: int, transition: Transition) -> None:
        async with self.runtime.db.unit_of_work(self.tenant) as session:
            await apply_transition(
                session, self.runtime.queue, challenge_id, transition, actor="test"
            )

    async def event(self, name: str, challenge_id: int) -> DomainEvent:
        """The latest outbox event ``name`` of the challenge."""
        async with self.runtime.db.session(self.tenant) as session:
            rows = (
                await session.scalars(select(OutboxEvent).where(OutboxEvent.name == name))
            ).all()
        mine = [r for r in rows if r.payload.get("challenge_id") == challenge_id]
        assert mine, f"no {name} event for challenge {challenge_id}"
        row = max(mine, key=lambda r: r.id)
        return DomainEvent(row.name, row.payload, row.event_id, row.occurred_at)

    async def deliver(self, event: DomainEvent) -> None:
        await self.runtime.host.deliver_event(PLUGIN, self.tenant, event, self.runtime)

    async def trading(self, login: str, trader: str = TRADER) -> int:
        """A challenge of ``trader`` trading on ``recording:<login>`` (opened on the platform)."""
        self.platform.bulk_open([login], Decimal("100000"))
        challenge_id = await self.buy(trader)
        now = datetime.now(UTC)
        await self.apply(challenge_id, Paid(at=now))
        await self.apply(challenge_id, Provisioned(at=now, account=f"recording:{login}"))
        return challenge_id

    async def emitted(self, name: str) -> list[dict[str, Any]]:
        async with self.runtime.db.session(self.tenant) as session:
            rows = await session.scalars(
                select(OutboxEvent).where(OutboxEvent.name == name).order_by(OutboxEvent.id)
            )
            return [r.payload for r in rows]


async def open_desk(
    runtime: Runtime, *, smtp_port: int | None = None, product: dict[str, Any] = PRODUCT
) -> Desk:
    tenant, platform = await open_mail_desk(
        runtime,
        prefix="act",
        server_prefix="actions",
        smtp_port=smtp_port,
        from_address="risk@desk.example",
        product=product,
    )
    return Desk(runtime, tenant, platform)


def without_closing(product: dict[str, Any]) -> dict[str, Any]:
    changed = json.loads(json.dumps(product))
    changed["phases"][0]["on_breach"] = {"close_positions": False}
    return changed


# -- the tests -----------------------------------------------------------------------------------
async def test_a_breach_disables_trading_and_closes_positions_once_and_tells_trader_and_risk(
    engine_runtime: Runtime, smtp: tuple[int, Inbox], make_staff: Any
) -> None:
    port, inbox = smtp
    desk = await open_desk(engine_runtime, smtp_port=port)
    risk = await make_staff(("risk", desk.tenant.slug))
    support = await make_staff(("support", desk.tenant.slug))
    other = await open_desk(engine_runtime, smtp_port=port)
    elsewhere = await make_staff(("risk", other.tenant.slug))
    challenge_id = await desk.trading("710001")
    desk.platform.open_position("710001", "EURUSD", "buy", "1", "1.10000")
    await desk.apply(
        challenge_id,
        Breached(
            at=datetime.now(UTC),
            rule="daily_loss",
            explanation="equity 94,900.00 fell below the daily floor of 95,000.00",
        ),
    )
    breached = await desk.event("challenge.breached", challenge_id)

    await desk.deliver(breached)
    await desk.deliver(breached)  # the outbox delivers at least once

    assert len(desk.platform.calls("disable_trading")) == 1
    assert len(desk.platform.calls("close_all_positions")) == 1
    state = desk.platform.state("710001")
    assert state.trading_enabled is False
    assert state.positions == ()
    [disabled] = await desk.emitted("account.trading_disabled")
    assert disabled["account"] == "recording:710001"
    [closed] = await desk.emitted("account.positions_closed")
    assert closed["positions"] == ["P1"]

    [to_trader] = inbox.to(TRADER)
    assert "has failed" in str(to_trader["Subject"])
    assert "95,000.00" in to_trader.get_content()
    [to_risk] = inbox.to(risk.email)
    assert "recording:710001" in str(to_risk["Subject"])
    assert TRADER in to_risk.get_content()
    assert inbox.to(support.email) == [] and inbox.to(elsewhere.email) == []
    assert to_trader["Message-ID"] != to_risk["Message-ID"]

    async with engine_runtime.db.session(desk.tenant) as session:
        audited = await list_records(session, "tenant", action="account.trading_disabled")
    assert [r.target for r in audited] == ["account:recording:710001"]


async def test_a_phase_that_keeps_positions_open_only_disables_trading(
    engine_runtime: Runtime,
) -> None:
    desk = await open_desk(engine_runtime, product=without_closing(PRODUCT))  # and no e-mail
    challenge_id = await desk.trading("720001")
    desk.platform.open_position("720001", "EURUSD", "sell", "2", "1.10000")
    await desk.apply(
        challenge_id, Breached(at=datetime.now(UTC), rule="max_loss", explanation="below floor")
    )
    await desk.deliver(await desk.event("challenge.breached", challenge_id))

    assert len(desk.platform.calls("disable_trading")) == 1
    assert desk.platform.calls("close_all_positions") == []
    state = desk.platform.state("720001")
    assert state.trading_enabled is False
    assert [p.side for p in state.positions] == ["sell"]


async def test_a_pause_disables_and_the_resume_enables_trading_again(
    engine_runtime: Runtime, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    desk = await open_desk(engine_runtime, smtp_port=port)
    challenge_id = await desk.trading("730001")
    now = datetime.now(UTC)
    await desk.apply(challenge_id, Paused(at=now, rule="daily_loss", explanation="soft floor"))
    await desk.deliver(await desk.event("challenge.paused", challenge_id))
    assert desk.platform.trading_enabled("730001") is False
    assert desk.platform.calls("close_all_positions") == []

    await desk.apply(challenge_id, Resumed(at=now, rule="daily_loss"))
    resumed = await desk.event("challenge.resumed", challenge_id)
    await desk.deliver(resumed)
    await desk.deliver(resumed)
    assert desk.platform.trading_enabled("730001") is True
    assert len(desk.platform.calls("enable_trading")) == 1
    subjects = [str(m["Subject"]) for m in inbox.to(TRADER)]
    assert len(subjects) == 2
    assert "paused" in subjects[0] and "trade again" in subjects[1]


async def test_a_late_pause_does_not_undo_a_resume_that_came_first(
    engine_runtime: Runtime,
) -> None:
    desk = await open_desk(engine_runtime)
    challenge_id = await desk.trading("740001")
    now = datetime.now(UTC)
    await desk.apply(challenge_id, Paused(at=now, rule="daily_loss", explanation="soft floor"))
    paused = await desk.event("challenge.paused", challenge_id)
    await desk.apply(challenge_id, Resumed(at=now, rule="daily_loss"))
    await desk.deliver(await desk.event("challenge.resumed", challenge_id))
    await desk.deliver(paused)  # retried after the resume was handled

    assert desk.platform.calls("disable_trading") == []
    assert desk.platform.trading_enabled("740001") is True


async def test_an_unavailable_platform_is_retried_and_a_refusal_is_recorded_not_retried(
    engine_runtime: Runtime,
) -> None:
    desk = await open_desk(engine_runtime)
    challenge_id = await desk.trading("750001")
    desk.platform.fail_next(command="disable_trading")
    await desk.apply(
        challenge_id, Breached(at=datetime.now(UTC), rule="max_loss", explanation="below floor")
    )
    breached = await desk.event("challenge.breached", challenge_id)
    with pytest.raises(TemporarilyUnavailable):
        await desk.deliver(breached)
    await desk.deliver(breached)  # the outbox's retry
    assert [c.outcome for c in desk.platform.calls("disable_trading")] == ["unavailable", "ok"]
    assert desk.platform.trading_enabled("750001") is False

    # An account the platform does not have: refused for good, said once, not retried.
    gone = await desk.buy("bo@traders.example")
    now = datetime.now(UTC)
    await desk.apply(gone, Paid(at=now))
    await desk.apply(gone, Provisioned(at=now, account="recording:759999"))
    await desk.apply(gone, Breached(at=now, rule="max_loss", explanation="below floor"))
    event = await desk.event("challenge.breached", gone)
    await desk.deliver(event)
    await desk.deliver(event)
    refused = await desk.emitted("account.action_refused")
    assert [r["command"] for r in refused] == ["disable_trading", "close_all_positions"]
    assert {r["account"] for r in refused} == {"recording:759999"}
    assert len(desk.platform.calls(outcome="not_found")) == 2  # not tried again

    async with engine_runtime.db.session(desk.tenant) as session:
        _row, challenge = await load_challenge(session, gone)
    assert challenge.status == "failed"
