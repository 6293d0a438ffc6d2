"""The Web API client against the simulator: the handshake, refusals as the server words them,
sessions re-established transparently, pings, the server's clock, and polling that survives
dropped connections without losing or repeating a deal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from mt5kit import PASSWORD_ENV, MT5Harness, adapter_settings

from propdesk.platforms.contract import TemporarilyUnavailable
from propdesk.rules.events import AccountOpened, Deal
from propdesk_mt5.adapter import MT5Platform
from propdesk_mt5.client import MT5Client
from propdesk_mt5.errors import AuthError, ConnectionLost, NotFound
from propdesk_mt5.protocol import password_hash, rand_answer
from propdesk_mt5.simulator import RunningSimulator


@pytest.fixture
async def client(sim: RunningSimulator) -> AsyncIterator[MT5Client]:
    login, password = sim.manager
    made = MT5Client(sim.url, login, password, sessions=1)
    yield made
    await made.close()


@pytest.fixture
async def harness(
    sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[MT5Harness]:
    monkeypatch.setenv(PASSWORD_ENV, sim.manager[1])
    made = MT5Harness(sim, MT5Platform(adapter_settings(sim)))
    await made.set_price(made.symbol, made.price)
    yield made
    await made.aclose()


async def test_a_wrong_manager_password_is_refused_as_the_server_refuses_it(
    sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    login, _ = sim.manager
    wrong = MT5Client(sim.url, login, "Not-the-password#1", sessions=1)
    with pytest.raises(AuthError) as refused:
        await wrong.server_time()
    await wrong.close()
    assert (refused.value.command, refused.value.code, refused.value.text) == (
        "auth/answer",
        1001,
        "Invalid account",
    )
    answers = [r["retcode"] for r in await sim.control.requests("/api/auth/answer")]
    assert answers == ["1001 Invalid account"]
    # Through the adapter it is a platform error keeping the server's code, and it says what
    # to check.
    monkeypatch.setenv(PASSWORD_ENV, "Not-the-password#1")
    adapter = MT5Platform(adapter_settings(sim))
    with pytest.raises(TemporarilyUnavailable, match="API password") as mapped:
        await adapter.account_state("500000")
    await adapter.close()
    assert mapped.value.vendor_code == "1001"


async def test_the_client_checks_that_the_server_knows_the_password() -> None:
    """An impostor that does not know the password cannot answer ``cli_rand``: refused."""

    def impostor(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/auth/start":
            body = {"retcode": "0 Done", "version_access": "1290", "srv_rand": "00" * 16}
        else:
            guess = rand_answer(password_hash("guess"), request.url.params["cli_rand"])
            body = {"retcode": "0 Done", "cli_rand_answer": guess}
        return httpx.Response(200, content=json.dumps(body))

    client = MT5Client(
        "https://mt5.example", 1000, "Manager#1", transport=httpx.MockTransport(impostor)
    )
    with pytest.raises(AuthError) as refused:
        await client.server_time()
    await client.close()
    assert refused.value.code == 1008


async def test_an_expired_session_is_re_established_transparently(
    sim: RunningSimulator, client: MT5Client
) -> None:
    before = await client.server_time()
    assert client.logins == 1
    assert await sim.control.expire_sessions() >= 1
    assert await client.server_time() >= before
    assert client.logins == 2
    log = await sim.control.requests("/api/time/server")
    # The server refused the forgotten session once, as it refuses one never authenticated.
    assert [r["retcode"].split()[0] for r in log] == ["0", "8", "0"]


async def test_a_dropped_connection_is_reopened_and_a_read_repeated(
    sim: RunningSimulator, client: MT5Client
) -> None:
    await client.server_time()
    await sim.control.add_fault("/api/time/server", "drop_before")
    await client.server_time()
    assert client.logins == 2  # a new connection is a new session: authenticated again


async def test_a_command_whose_answer_was_lost_is_not_repeated_blindly(
    sim: RunningSimulator, client: MT5Client, harness: MT5Harness
) -> None:
    opened = await harness.adapter.create_account(harness.spec("lost-answer"))
    await sim.control.add_fault("/api/trade/balance", "drop_after")
    with pytest.raises(ConnectionLost):
        await client.balance(opened.login, Decimal("10"), "pd:manual")
    account = await sim.control.account(opened.login)
    assert Decimal(account["user"]["Balance"]) == Decimal("100010")  # applied once, not twice


async def test_unknown_records_are_not_found(client: MT5Client) -> None:
    with pytest.raises(NotFound):
        await client.user_get(999999999)


async def test_idle_sessions_are_pinged(sim: RunningSimulator) -> None:
    login, password = sim.manager
    client = MT5Client(sim.url, login, password, sessions=1, ping_seconds=0.2)
    await client.server_time()
    await asyncio.sleep(0.8)
    await client.close()
    assert len(await sim.control.requests("/api/test/access")) >= 1
    assert client.logins == 1


async def test_the_server_time_zone_is_measured_when_not_configured(
    sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, sim.manager[1])
    settings = adapter_settings(sim)
    del settings["server_timezone"]
    adapter = MT5Platform(settings)
    clock = await adapter.client().clock()
    assert clock.offset(datetime.now(UTC)) == timedelta(hours=2)  # the simulator's +02:00
    opened = await adapter.create_account(MT5Harness(sim, adapter).spec("tz-measured"))
    batch = await adapter.events(opened.login, None)
    await adapter.close()
    first = batch.events[0]
    assert isinstance(first, AccountOpened)
    assert abs(first.time - datetime.now(UTC)) < timedelta(seconds=30)


async def test_polling_through_dropped_connections_loses_and_repeats_no_deal(
    sim: RunningSimulator, harness: MT5Harness
) -> None:
    adapter, login = (
        harness.adapter,
        (await harness.adapter.create_account(harness.spec("poll-drops"))).login,
    )
    faults = ["drop_before", "drop_after", None, "drop_after", "drop_before", None]
    paths = ["/api/deal/get_batch", "/api/user/account/get"]
    stored: str | None = None  # the poller's durable cursor: kept only once a batch is journalled
    handed: list[str] = []
    for round_, fault in enumerate(faults):
        opened_ = await harness.open_position(login, "buy", Decimal("0.1"))
        await harness.set_price(harness.symbol, harness.price + Decimal("0.0001") * round_)
        await harness.close_position(login, opened_)
        if fault is not None:
            await sim.control.add_fault(paths[round_ % 2], fault)
        while True:
            try:
                batch = await adapter.events(login, stored)
            except TemporarilyUnavailable:
                continue  # the next poll asks again from the stored cursor
            handed += [e.id for e in batch.events if isinstance(e, Deal)]
            stored = batch.cursor
            if not batch.more:
                break
    on_server = [
        str(d["Deal"])
        for d in (await sim.control.snapshot())["deals"]
        if str(d["Login"]) == login and d["Action"] in ("0", "1")
    ]
    assert len(handed) == len(set(handed)) == 2 * len(faults)
    assert sorted(handed, key=int) == sorted(on_server, key=int)
    assert adapter.client().logins > 1  # the drops really cut the connection
