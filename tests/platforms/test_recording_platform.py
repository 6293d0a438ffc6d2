"""The recording platform's own behaviour: shared servers, settings, the recorded calls, the
platform's codes, its profit and margin maths, its clock. That it honours the platform contract
is proved by the contract suite (test_platform_contract.py)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from propdesk.platforms import (
    AccountNotFound,
    AccountSpec,
    PlatformAdapter,
    Refused,
    TemporarilyUnavailable,
)
from propdesk.plugins.manager import PluginHost
from propdesk.rules.events import Deal, Snapshot
from propdesk.settings import Settings
from propdesk.tenancy.context import TenantContext
from propdesk.testing.platform import DEFAULT_START, Command, RecordingPlatform, recording_plugin


def spec(reference: str = "acc-1", **changes: Any) -> AccountSpec:
    values: dict[str, Any] = {
        "group": "challenge-100k",
        "leverage": 100,
        "initial_balance": Decimal("100000"),
        "currency": "USD",
        "trader_name": "Ada Trader",
        "trader_email": "ada@example.com",
    }
    return AccountSpec(reference=reference, **{**values, **changes})


@pytest.fixture
def platform() -> RecordingPlatform:
    return RecordingPlatform({"batch_size": 3})


async def opened(platform: RecordingPlatform, reference: str = "acc-1") -> str:
    return (await platform.create_account(spec(reference))).login


# -- identity and registration ----------------------------------------------------------------


def test_it_implements_the_contract_and_stays_out_of_the_registry() -> None:
    assert isinstance(RecordingPlatform(), PlatformAdapter)
    host = PluginHost.load(Settings(load_entrypoints=False))
    assert "recording" not in host.component("propdesk_register_platforms")
    assert "test support only" in (RecordingPlatform.__doc__ or "").lower()


def test_a_test_may_register_it_and_a_desk_enable_it() -> None:
    host = PluginHost.load(Settings(load_entrypoints=False), [("recording", recording_plugin())])
    platforms = host.component("propdesk_register_platforms")
    assert platforms.get("recording") is RecordingPlatform
    desk = TenantContext("acme", plugins={"recording": {"server": "acme-demo"}})
    adapter_class = platforms.for_tenant(desk)["recording"]
    assert "server" in host.settings_schemas()["recording"]["properties"]
    assert adapter_class is RecordingPlatform


@pytest.fixture
def shared() -> Iterator[str]:
    yield "shared-test-server"
    RecordingPlatform.forget("shared-test-server")


async def test_adapters_of_one_server_share_it(shared: str) -> None:
    engine_side = RecordingPlatform({"server": shared})
    test_side = RecordingPlatform({"server": shared})
    login = await opened(engine_side)
    await engine_side.disable_trading(login)
    assert not test_side.trading_enabled(login)
    assert [c.name for c in test_side.commands] == ["create_account", "disable_trading"]
    RecordingPlatform.forget(shared)
    with pytest.raises(AccountNotFound):
        RecordingPlatform({"server": shared}).state(login)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        RecordingPlatform({"batch_size": 0})
    with pytest.raises(ValueError, match="Additional properties"):
        RecordingPlatform({"sever": "typo"})


# -- what a test can assert on (the contract itself: test_platform_contract.py) ---------------


async def test_every_call_is_recorded_with_its_time_and_outcome(
    platform: RecordingPlatform,
) -> None:
    account = await platform.create_account(spec())
    assert (account.login, account.server) == ("100001", "Recording-Demo")
    assert len(account.password) == 12
    platform.drop_next_response(command="deposit")
    with pytest.raises(TemporarilyUnavailable):
        await platform.deposit(account.login, Decimal(10), "dep-1")
    platform.fail_next(2, vendor_code="12")
    for _ in range(2):
        with pytest.raises(TemporarilyUnavailable) as busy:
            await platform.withdraw(account.login, Decimal(10), "wd-1")
        assert busy.value.vendor_code == "12"
    await platform.withdraw(account.login, Decimal(10), "wd-1")
    with pytest.raises(AccountNotFound):
        await platform.account_state("999")
    with pytest.raises(Refused):
        await platform.deposit(account.login, Decimal(20), "dep-1")
    assert platform.commands[0] == Command("create_account", {"spec": spec()}, DEFAULT_START, "ok")
    assert [(c.name, c.outcome) for c in platform.commands[1:]] == [
        ("deposit", "dropped"),
        ("withdraw", "unavailable"),
        ("withdraw", "unavailable"),
        ("withdraw", "ok"),
        ("account_state", "not_found"),
        ("deposit", "refused"),
    ]
    assert platform.calls("withdraw", outcome="ok")[0].args == {
        "login": account.login,
        "amount": Decimal(10),
        "reference": "wd-1",
    }


async def test_refusals_carry_the_platform_codes() -> None:
    platform = RecordingPlatform({"groups": ["challenge-100k"]})
    with pytest.raises(Refused, match="unknown group") as refused:
        await platform.create_account(spec(group="funded"))
    assert refused.value.vendor_code == "unknown_group"
    login = await opened(platform)
    with pytest.raises(Refused) as refused:
        await platform.create_account(spec(leverage=50))  # the reference made another account
    assert refused.value.vendor_code == "reference_reused"
    await platform.deposit(login, Decimal(10), "dep-1")
    with pytest.raises(Refused, match="already moved") as refused:
        await platform.withdraw(login, Decimal(10), "dep-1")
    assert refused.value.vendor_code == "reference_reused"
    with pytest.raises(Refused, match="free margin") as refused:
        await platform.withdraw(login, Decimal(100011), "wd-1")
    assert refused.value.vendor_code == "no_money"
    with pytest.raises(AccountNotFound) as gone:
        await platform.disable_trading("999")
    assert gone.value.vendor_code == "not_found"
    await platform.disable_trading(login)
    with pytest.raises(Refused, match="trading is disabled") as refused:
        platform.open_position(login, "EURUSD", "buy", "1", "1.10000")
    assert refused.value.vendor_code == "trade_disabled"
    with pytest.raises(ValueError, match="positive Decimal"):
        await platform.deposit(login, Decimal(-5), "dep-2")


async def test_a_cursor_not_issued_for_the_account_is_refused(platform: RecordingPlatform) -> None:
    login = await opened(platform)
    batch = await platform.events(login, None)
    assert batch.cursor == f"{login}:1"
    with pytest.raises(ValueError, match="not issued for account"):
        await platform.events(login, "100002:1")
    with pytest.raises(ValueError, match="not issued for account"):
        await platform.events(login, f"{login}:99")


# -- scripted trading: profit and margin maths ------------------------------------------------


async def test_close_all_positions_produces_closing_deals() -> None:
    platform = RecordingPlatform({"contract_sizes": {"XAUUSD": "100"}})
    login = await opened(platform)
    eur = platform.open_position(login, "EURUSD", "buy", "2", "1.10000", commission="-14")
    gold = platform.open_position(login, "XAUUSD", "sell", "0.5", "2000.00")
    platform.advance(minutes=5)
    platform.quote("EURUSD", "1.09500")
    platform.quote("XAUUSD", "1990.00")
    await platform.disable_trading(login)  # a breach disables first, then closes
    closed = await platform.close_all_positions(login)
    assert closed == (eur, gold)
    closing = [e for e in platform.journal(login) if isinstance(e, Deal) and e.entry == "out"]
    assert [(d.position, d.side, d.volume, d.price, d.profit) for d in closing] == [
        (eur, "sell", Decimal(2), Decimal("1.09500"), Decimal("-1000.00")),
        (gold, "buy", Decimal("0.5"), Decimal("1990.00"), Decimal("500.00")),
    ]
    assert all(d.time == platform.now for d in closing)
    state = platform.state(login)
    assert state.positions == () and state.balance == state.equity == Decimal("99486.00")
    assert await platform.close_all_positions(login) == ()  # already flat: nothing to do


async def test_account_state_equity_includes_the_floating_result(
    platform: RecordingPlatform,
) -> None:
    login = await opened(platform)
    platform.open_position(login, "EURUSD", "buy", "1", "1.10000", commission="-7")
    platform.open_position(login, "GBPUSD", "sell", "0.5", "1.27000")
    platform.advance(seconds=30)
    platform.quote("EURUSD", "1.09500")  # -500 on the buy
    platform.quote("GBPUSD", "1.26800")  # +100 on the sell
    state = await platform.account_state(login)
    assert state.balance == Decimal(99993)
    assert [(p.symbol, p.profit, p.current_price) for p in state.positions] == [
        ("EURUSD", Decimal("-500.00"), Decimal("1.09500")),
        ("GBPUSD", Decimal("100.00"), Decimal("1.26800")),
    ]
    assert state.equity == Decimal("99593.00") and state.floating == Decimal("-400.00")
    assert state.margin == Decimal("1735.00")  # 1,100 + 635 at 1:100
    assert state.free_margin == state.equity - state.margin
    assert state.as_of == platform.now and state.trading_enabled
    # Each quote recorded a snapshot of the accounts holding the symbol, floating included.
    snapshots = [e for e in platform.journal(login) if isinstance(e, Snapshot)]
    assert [s.equity for s in snapshots] == [Decimal("99493.00"), Decimal("99593.00")]
    assert platform.calls("account_state")[0].args == {"login": login}


async def test_a_closed_adapter_is_not_used_again(platform: RecordingPlatform) -> None:
    await platform.close()
    await platform.close()
    with pytest.raises(RuntimeError, match="closed"):
        await platform.create_account(spec())


def test_the_clock_never_goes_back(platform: RecordingPlatform) -> None:
    platform.advance(hours=1)
    with pytest.raises(ValueError, match="never goes back"):
        platform.move_to(DEFAULT_START)
    with pytest.raises(ValueError, match="never goes back"):
        platform.advance(seconds=-1)
