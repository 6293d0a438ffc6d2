"""End to end on the MT5 simulator: a paid challenge is provisioned there (the trader's password
arrives by e-mail and opens the account), the engine polls it, the trader's position loses more
than the daily limit on a price move, the engine fails the challenge, and trading is disabled on
the simulator. Prints the time from the breaching price move to trading disabled."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from mt5kit import GROUP, PASSWORD_ENV, Wire, adapter_settings
from sqlalchemy import text

from propdesk.catalogue.service import publish_files
from propdesk.engine.poller import poll_account
from propdesk.engine.provisioning import provision_account
from propdesk.engine.runner import Engine, EngineConfig
from propdesk.lifecycle.service import apply_transition, load_challenge, open_challenge
from propdesk.lifecycle.transitions import Paid
from propdesk.platforms.contract import PlatformError
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.manifest import TenantManifest
from propdesk.tenancy.naming import quote_schema
from propdesk.tenancy.service import apply_manifests, get_tenant, set_status
from propdesk.testing.services import unique_name
from propdesk.testing.simulators import eventually
from propdesk.testing.smtp import SmtpServer
from propdesk_mt5.protocol import Rights
from propdesk_mt5.simulator import RunningSimulator

pytestmark = pytest.mark.asyncio(loop_scope="session")

#: How often waits poll: the breach-to-disabled latency printed below is measured by one.
POLL = 0.01
TRADER = "ana@traders.example"
PRODUCT: dict[str, Any] = {
    "code": "mt5-two-step",
    "name": "Two-step on MT5",
    "currency": "USD",
    "trading_day": {"time": "00:00", "timezone": "Europe/Prague"},
    "sizes": [{"code": "100k", "balance": "100000", "prices": {"USD": "540.00"}}],
    "payout": {"split_percent": "80", "cadence": "on_demand"},
    "phases": [
        {
            "code": "phase1",
            "name": "Phase 1",
            "kind": "evaluation",
            "platform": "mt5",
            "group": GROUP,
            "leverage": 100,
            "rules": [
                {
                    "family": "daily_loss",
                    "params": {"amount": {"percent": "5", "of": "initial_balance"}},
                },
                {
                    "family": "max_loss",
                    "params": {"amount": {"percent": "10", "of": "initial_balance"}},
                },
                {
                    "family": "profit_target",
                    "params": {"amount": {"percent": "10", "of": "initial_balance"}},
                },
            ],
        }
    ],
}


@contextlib.asynccontextmanager
async def running_engine(runtime: Runtime, slug: str) -> AsyncIterator[Engine]:
    engine = Engine(runtime, EngineConfig(desks=frozenset({slug}), poll_tick_seconds=0.05))
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        await eventually(
            lambda: _now(engine.ready.is_set()), "the engine to be ready", interval=POLL
        )
        yield engine
    finally:
        stop.set()
        await task
        await engine.close()


async def _now(value: bool) -> bool:
    return value


async def mt5_desk(runtime: Runtime, sim: RunningSimulator, smtp_port: int) -> TenantContext:
    slug = unique_name("mt5e2e").lower()[:30]
    plugins = {
        "mt5": adapter_settings(sim),
        "propdesk.engine": {"poll_seconds": 0.1},
        "propdesk.email": {
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
            "from_address": "desk@aurora.example",
        },
    }
    await apply_manifests(runtime, [TenantManifest.from_values(slug, plugins=plugins)])
    tenant = await get_tenant(runtime, slug)
    assert tenant is not None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "product.json"
        path.write_text(json.dumps(PRODUCT))
        await publish_files(runtime, tenant, [path], actor="test")
    return tenant


async def paid_challenge(runtime: Runtime, tenant: TenantContext) -> int:
    async with runtime.db.unit_of_work(tenant) as session:
        challenge = await open_challenge(
            session,
            runtime.queue,
            product_code=PRODUCT["code"],
            size="100k",
            addons=[],
            trader_email=TRADER,
            trader_name="Ana Trader",
            actor="test",
        )
        await apply_transition(
            session, runtime.queue, challenge.id, Paid(at=datetime.now(UTC)), actor="test"
        )
        return int(challenge.id)


async def status(runtime: Runtime, tenant: TenantContext, challenge_id: int) -> str:
    async with runtime.db.session(tenant) as session:
        _, challenge = await load_challenge(session, challenge_id)
        return str(challenge.status)


async def test_a_daily_loss_breach_on_the_simulator_disables_trading_there(
    propdesk_runtime: Runtime,
    sim: RunningSimulator,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime, smtp_port = propdesk_runtime, smtp_server.port
    monkeypatch.setenv(PASSWORD_ENV, sim.manager[1])
    await sim.control.set_prices({"EURUSD": "1.10000"})
    tenant = await mt5_desk(runtime, sim, smtp_port)
    try:
        challenge_id = await paid_challenge(runtime, tenant)
        provisioned = await provision_account(runtime, tenant, challenge_id)
        assert provisioned is not None and provisioned.account.startswith("mt5:")
        login = provisioned.account.split(":", 1)[1]
        assert await status(runtime, tenant, challenge_id) == "active"

        # The trader got the password, once, and it opens the account on the server.
        [mail] = smtp_server.inbox.to(TRADER)
        body = mail.get_body(("plain",))
        letter = body.get_content() if body is not None else ""
        found = re.search(r"Password:\s+(\S+)", letter)
        assert found is not None and login in letter
        wire = Wire(sim.url)
        await wire.login()
        checked = await wire.get(
            "user/check_password", login=login, type="main", password=found.group(1)
        )
        await wire.aclose()
        assert checked["retcode"] == "0 Done"
        account = await sim.control.account(login)
        assert Decimal(account["user"]["Balance"]) == Decimal("100000")

        async with running_engine(runtime, tenant.slug):
            # The engine polls the account: its opening reaches the journal.
            await eventually(
                lambda: _journalled(runtime, tenant, provisioned.account_id),
                "the account's opening in the journal",
                interval=POLL,
            )
            # The trader buys 10 lots; a 60-pip fall costs 6,000 (6%) against a 5% daily limit.
            filled = await sim.control.open_order(int(login), "EURUSD", "buy", "10")
            assert filled["retcode"].startswith("10009")
            await eventually(
                lambda: _journalled(runtime, tenant, provisioned.account_id, "deal"),
                "the deal",
                interval=POLL,
            )
            moved = time.perf_counter()
            await sim.control.set_prices({"EURUSD": "1.09400"})
            await eventually(
                lambda: _disabled(sim, login), "trading disabled on the simulator", interval=POLL
            )
            latency_ms = (time.perf_counter() - moved) * 1000
            print(f"\nbreaching price move to trading disabled on MT5: {latency_ms:.0f} ms")

        assert await status(runtime, tenant, challenge_id) == "failed"
        async with runtime.db.session(tenant) as session:
            rule = await session.scalar(
                text(
                    f"SELECT rule FROM {quote_schema(tenant.schema)}.account_verdicts "
                    "WHERE account_id = :a AND event = 'breached'"
                ),
                {"a": provisioned.account_id},
            )
        assert rule == "daily_loss"
        refused = await sim.control.open_order(int(login), "EURUSD", "buy", "1")
        assert refused["retcode"].startswith("10017")  # Trade disabled
    finally:
        await set_status(runtime, tenant.slug, "suspended", "test")


async def _journalled(
    runtime: Runtime, tenant: TenantContext, account_id: int, kind: str | None = None
) -> bool:
    """Whether the account's journal holds an event (of type ``kind``, if given)."""
    async with runtime.db.session(tenant) as session:
        found = await session.scalar(
            text(
                f"SELECT count(*) FROM {quote_schema(tenant.schema)}.account_events "
                "WHERE account_id = :a AND (CAST(:k AS text) IS NULL OR type = :k)"
            ),
            {"a": account_id, "k": kind},
        )
    return bool(found)


async def _disabled(sim: RunningSimulator, login: str) -> bool:
    rights = int((await sim.control.account(login))["rights"])
    return bool(rights & Rights.TRADE_DISABLED)


async def test_the_poller_resumes_from_its_cursor_through_dropped_connections(
    propdesk_runtime: Runtime,
    sim: RunningSimulator,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The core's poller against the simulator, with the connection cut mid-poll in several
    ways: every deal reaches the journal once, with consecutive seqs."""
    runtime, smtp_port = propdesk_runtime, smtp_server.port
    monkeypatch.setenv(PASSWORD_ENV, sim.manager[1])
    await sim.control.set_prices({"EURUSD": "1.10000"})
    tenant = await mt5_desk(runtime, sim, smtp_port)
    try:
        challenge_id = await paid_challenge(runtime, tenant)
        provisioned = await provision_account(runtime, tenant, challenge_id)
        assert provisioned is not None
        login = provisioned.account.split(":", 1)[1]
        faults = [
            ("/api/deal/get_batch", "drop_after"),
            ("/api/user/account/get", "drop_before"),
            ("/api/deal/get_batch", "retcode"),
            ("/api/deal/get_batch", "drop_before"),
            ("/api/user/account/get", "drop_after"),
        ]
        for round_, (path, action) in enumerate(faults):
            ticket = await sim.control.open_order(int(login), "EURUSD", "buy", "0.5")
            await sim.control.set_prices({"EURUSD": f"1.{10000 + 7 * round_:05d}"})
            await sim.control.close_position(int(login), ticket["position"])
            await sim.control.add_fault(path, action, retcode="10 No connection")
            for _ in range(3):  # the poller's next rounds
                with contextlib.suppress(PlatformError):
                    await poll_account(runtime, tenant, provisioned.account_id, "mt5", login)
        async with runtime.db.session(tenant) as session:
            rows = (
                await session.execute(
                    text(
                        f"SELECT seq, type, body FROM {quote_schema(tenant.schema)}.account_events"
                        " WHERE account_id = :a ORDER BY seq"
                    ),
                    {"a": provisioned.account_id},
                )
            ).all()
        journalled = [json.loads(r.body)["id"] for r in rows if r.type == "deal"]
        on_server = [
            str(d["Deal"])
            for d in (await sim.control.snapshot())["deals"]
            if str(d["Login"]) == login and d["Action"] in ("0", "1")
        ]
        assert sorted(journalled, key=int) == sorted(on_server, key=int)
        assert len(on_server) == 2 * len(faults)
        assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
        faulted = [r for r in await sim.control.requests() if r.get("fault")]
        assert len(faulted) == len(faults), "every injected fault was met"
    finally:
        await set_status(runtime, tenant.slug, "suspended", "test")
