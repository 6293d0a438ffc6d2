"""Provisioning: a paid or passed challenge gets its phase's account on the platform, once.

A desk on the recording platform and a real SMTP server; the lifecycle service moves the
challenge, and the outbox events it emits are delivered to the actions plugin (sometimes
twice, as the outbox may).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from enginekit import PRODUCT, Inbox, engine_runtime, open_mail_desk, smtp
from sqlalchemy import select, text

from propdesk.engine.actions import PLUGIN
from propdesk.engine.models import AccountState, PlatformCursor, TradingAccount
from propdesk.lifecycle.service import apply_transition, load_challenge, open_challenge
from propdesk.lifecycle.transitions import Paid, Passed
from propdesk.outbox.events import DomainEvent
from propdesk.outbox.models import OutboxEvent
from propdesk.platforms.contract import TemporarilyUnavailable
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.naming import quote_schema
from propdesk.testing.platform import RecordingPlatform

__all__ = ["engine_runtime", "smtp"]
pytestmark = pytest.mark.asyncio(loop_scope="session")

TRADER = "ana@traders.example"


@dataclass
class Desk:
    runtime: Runtime
    tenant: TenantContext
    platform: RecordingPlatform

    async def paid(self) -> int:
        async with self.runtime.db.unit_of_work(self.tenant) as session:
            challenge = await open_challenge(
                session,
                self.runtime.queue,
                product_code=PRODUCT["code"],
                size="100k",
                addons=[],
                trader_email=TRADER,
                trader_name="Ana Trader",
                actor="test",
            )
            await apply_transition(
                session, self.runtime.queue, challenge.id, Paid(at=datetime.now(UTC)), actor="t"
            )
            return int(challenge.id)

    async def event(self, name: str, challenge_id: int) -> DomainEvent:
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

    async def accounts(self, challenge_id: int) -> list[TradingAccount]:
        async with self.runtime.db.session(self.tenant) as session:
            rows = await session.scalars(
                select(TradingAccount)
                .where(TradingAccount.challenge_id == challenge_id)
                .order_by(TradingAccount.phase, TradingAccount.attempt)
            )
            return list(rows)


async def open_desk(runtime: Runtime, *, smtp_port: int | None = None) -> Desk:
    tenant, platform = await open_mail_desk(
        runtime,
        prefix="prov",
        server_prefix="provisioning",
        smtp_port=smtp_port,
        from_address="accounts@desk.example",
        recording={"groups": [p["group"] for p in PRODUCT["phases"]]},
    )
    return Desk(runtime, tenant, platform)


async def test_a_paid_challenge_gets_one_account_and_the_trader_its_password_once(
    engine_runtime: Runtime, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    desk = await open_desk(engine_runtime, smtp_port=port)
    challenge_id = await desk.paid()
    paid = await desk.event("challenge.paid", challenge_id)

    await desk.deliver(paid)
    await desk.deliver(paid)

    [created] = desk.platform.calls("create_account")
    spec = created.args["spec"]
    assert spec.group == "demo\\engine\\phase1"
    assert spec.initial_balance == Decimal("100000")
    assert spec.reference == f"c{challenge_id}p0a1"
    login = desk.platform.login_for(spec.reference)
    assert login is not None
    [account] = await desk.accounts(challenge_id)
    assert (account.platform, account.login, account.phase, account.attempt) == (
        "recording",
        login,
        0,
        1,
    )
    assert account.initial_balance == Decimal("100000") and account.currency == "USD"
    async with engine_runtime.db.session(desk.tenant) as session:
        state = await session.get(AccountState, account.id)
        cursor = await session.get(PlatformCursor, account.id)
        _row, challenge = await load_challenge(session, challenge_id)
    assert state is not None and state.status == "not_opened"
    assert state.version_hash == challenge.version_hash
    assert cursor is not None and cursor.cursor is None
    assert challenge.status == "active"
    assert challenge.account == f"recording:{login}"

    [mail] = inbox.to(TRADER)
    body = mail.get_content()
    password = desk.platform._platform.accounts[login].password  # what the platform set
    assert login in body and password in body
    assert f"provisioning-{desk.tenant.slug}" in body  # the server the terminal connects to
    # The password went to the trader and nowhere else.
    schema = quote_schema(desk.tenant.schema)
    async with engine_runtime.db.session(desk.tenant) as session:
        for table in ("trading_accounts", "audit_log", "outbox", "challenge_history"):
            dump = await session.scalar(
                text(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM {schema}.{table} t")
            )
            assert password not in dump, table


async def test_a_lost_answer_is_retried_into_the_same_account(engine_runtime: Runtime) -> None:
    desk = await open_desk(engine_runtime)  # no e-mail channel: provisioning still happens
    challenge_id = await desk.paid()
    paid = await desk.event("challenge.paid", challenge_id)
    desk.platform.drop_next_response(command="create_account")
    with pytest.raises(TemporarilyUnavailable):
        await desk.deliver(paid)
    assert await desk.accounts(challenge_id) == []
    await desk.deliver(paid)  # the outbox's retry

    assert [c.outcome for c in desk.platform.calls("create_account")] == ["dropped", "ok"]
    [account] = await desk.accounts(challenge_id)
    assert account.login == desk.platform.login_for(f"c{challenge_id}p0a1")


async def test_a_pass_stops_the_account_and_provisions_the_next_phase(
    engine_runtime: Runtime, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    desk = await open_desk(engine_runtime, smtp_port=port)
    challenge_id = await desk.paid()
    await desk.deliver(await desk.event("challenge.paid", challenge_id))
    [first] = await desk.accounts(challenge_id)

    async with engine_runtime.db.unit_of_work(desk.tenant) as session:
        await apply_transition(
            session,
            engine_runtime.queue,
            challenge_id,
            Passed(at=datetime.now(UTC), explanation="profit 10,250.00 met the target"),
            actor="engine",
        )
    passed = await desk.event("challenge.passed", challenge_id)
    await desk.deliver(passed)
    await desk.deliver(passed)
    await desk.deliver(await desk.event("challenge.next_phase", challenge_id))

    assert desk.platform.trading_enabled(first.login) is False
    created = [c.args["spec"] for c in desk.platform.calls("create_account")]
    assert [s.group for s in created] == ["demo\\engine\\phase1", "real\\engine\\funded"]
    assert created[1].initial_balance == Decimal("100000")
    phase1, funded = await desk.accounts(challenge_id)
    assert (funded.phase, funded.attempt, funded.phase_code) == (1, 1, "funded")
    async with engine_runtime.db.session(desk.tenant) as session:
        _row, challenge = await load_challenge(session, challenge_id)
    assert challenge.status == "funded" and challenge.phase == 1
    assert challenge.account == f"recording:{funded.login}"
    assert [h.event for h in challenge.history][-3:] == ["passed", "next_phase", "provisioned"]

    subjects = [str(m["Subject"]) for m in inbox.to(TRADER)]
    assert len(subjects) == 3  # phase 1 credentials, the pass, funded credentials
    assert "passed" in subjects[1]
    assert funded.login in subjects[2]
    assert phase1.login != funded.login


async def test_a_funded_phase_waits_for_the_traders_identity_check(
    engine_runtime: Runtime,
) -> None:
    """The product asks for KYC before funded (the default): a registered trader who is not
    verified gets no funded account until approved; the approval releases it."""
    from propdesk.engine.actions import release_held
    from propdesk.traders import service as traders
    from propdesk.traders.models import Trader

    desk = await open_desk(engine_runtime)
    async with engine_runtime.db.unit_of_work(desk.tenant) as session:
        await traders.register(
            session,
            email=TRADER,
            password="correct horse battery",
            name="Ana Trader",
            country="DE",
            accept_terms=True,
        )
    challenge_id = await desk.paid()
    await desk.deliver(await desk.event("challenge.paid", challenge_id))  # phase 1: no gate
    async with engine_runtime.db.unit_of_work(desk.tenant) as session:
        await apply_transition(
            session,
            engine_runtime.queue,
            challenge_id,
            Passed(at=datetime.now(UTC), explanation="target met"),
            actor="engine",
        )
    await desk.deliver(await desk.event("challenge.passed", challenge_id))
    await desk.deliver(await desk.event("challenge.next_phase", challenge_id))
    assert len(await desk.accounts(challenge_id)) == 1, "the funded account waits"
    async with engine_runtime.db.session(desk.tenant) as session:
        _row, held = await load_challenge(session, challenge_id)
    assert (held.status, held.phase) == ("provisioning", 1)

    assert await release_held(engine_runtime, desk.tenant, TRADER) == []  # still unverified
    async with engine_runtime.db.unit_of_work(desk.tenant) as session:
        trader = await traders.find(session, TRADER)
        assert isinstance(trader, Trader)
        trader.kyc_status = "approved"
    assert await release_held(engine_runtime, desk.tenant, TRADER) == [challenge_id]
    _, funded = await desk.accounts(challenge_id)
    assert funded.phase_code == "funded"
    async with engine_runtime.db.session(desk.tenant) as session:
        _row, challenge = await load_challenge(session, challenge_id)
    assert challenge.status == "funded"
