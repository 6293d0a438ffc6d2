"""The recording platform honours the platform contract: idempotent money moves, events with a
cursor, trading rights, closing positions, equity with the floating result, faults."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from propdesk.platforms import (
    AccountNotFound,
    AccountSpec,
    PlatformAdapter,
    PlatformEvent,
    Refused,
    TemporarilyUnavailable,
)
from propdesk.plugins.manager import PluginHost
from propdesk.rules.events import AccountOpened, BalanceOperation, Deal, Snapshot
from propdesk.settings import Settings
from propdesk.tenancy.context import TenantContext
from propdesk.testing.platform import DEFAULT_START, RecordingPlatform, recording_plugin


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


async def drain(
    platform: RecordingPlatform, login: str, cursor: str | None = None
) -> tuple[list[PlatformEvent], str | None]:
    """Every event after ``cursor``, batch by batch, as the poller reads them."""
    events: list[PlatformEvent] = []
    while True:
        batch = await platform.events(login, cursor)
        events.extend(batch.events)
        cursor = batch.cursor
        if not batch.more:
            return events, cursor


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


# -- accounts ---------------------------------------------------------------------------------


async def test_create_account_opens_the_event_stream_with_the_initial_balance(
    platform: RecordingPlatform,
) -> None:
    account = await platform.create_account(spec())
    assert account.login == "100001" and account.server == "Recording-Demo"
    assert len(account.password) == 12
    assert platform.journal(account.login) == (AccountOpened(DEFAULT_START, Decimal(100000)),)
    state = platform.state(account.login)
    assert (state.balance, state.equity, state.free_margin) == (Decimal(100000),) * 3
    (command,) = platform.commands
    assert (command.name, command.args, command.time, command.outcome) == (
        "create_account",
        {"spec": spec()},
        DEFAULT_START,
        "ok",
    )


async def test_create_account_retried_after_a_lost_answer_creates_one_account(
    platform: RecordingPlatform,
) -> None:
    platform.drop_next_response(command="create_account")
    with pytest.raises(TemporarilyUnavailable):
        await platform.create_account(spec())
    again = await platform.create_account(spec())
    assert platform.login_for("acc-1") == again.login == "100001"
    assert platform.journal(again.login) == (AccountOpened(DEFAULT_START, Decimal(100000)),)
    assert [c.outcome for c in platform.calls("create_account")] == ["dropped", "ok"]
    other = await platform.create_account(spec("acc-2"))
    assert other.login == "100002"
    with pytest.raises(Refused) as refused:
        await platform.create_account(spec("acc-2", leverage=50))
    assert refused.value.vendor_code == "reference_reused"


async def test_a_group_the_platform_does_not_know_is_refused() -> None:
    platform = RecordingPlatform({"groups": ["challenge-100k"]})
    with pytest.raises(Refused, match="unknown group") as refused:
        await platform.create_account(spec(group="funded"))
    assert refused.value.vendor_code == "unknown_group"
    assert platform.calls(outcome="refused")[0].name == "create_account"


async def test_an_unknown_login_is_account_not_found(platform: RecordingPlatform) -> None:
    with pytest.raises(AccountNotFound) as gone:
        await platform.account_state("999")
    assert gone.value.vendor_code == "not_found"
    assert platform.calls("account_state", outcome="not_found")


# -- money ------------------------------------------------------------------------------------


async def test_deposit_retried_after_a_dropped_response_applies_once(
    platform: RecordingPlatform,
) -> None:
    login = await opened(platform)
    platform.drop_next_response(command="deposit")
    with pytest.raises(TemporarilyUnavailable):
        await platform.deposit(login, Decimal("2500.50"), "dep-7")
    retried = await platform.deposit(login, Decimal("2500.50"), "dep-7")
    assert retried.already_applied and retried.amount == Decimal("2500.50")
    assert platform.state(login).balance == Decimal("102500.50")
    balance_events = [e for e in platform.journal(login) if isinstance(e, BalanceOperation)]
    assert balance_events == [BalanceOperation(DEFAULT_START, Decimal("2500.50"), "dep-7")]
    assert [(c.name, c.outcome) for c in platform.commands[1:]] == [
        ("deposit", "dropped"),
        ("deposit", "ok"),
    ]


async def test_a_failed_call_applies_nothing_and_a_retry_applies(
    platform: RecordingPlatform,
) -> None:
    login = await opened(platform)
    platform.fail_next(2, vendor_code="12")
    for _ in range(2):
        with pytest.raises(TemporarilyUnavailable) as busy:
            await platform.withdraw(login, Decimal(1000), "wd-1")
        assert busy.value.vendor_code == "12"
    assert platform.state(login).balance == Decimal(100000)
    result = await platform.withdraw(login, Decimal(1000), "wd-1")
    assert result.amount == Decimal(-1000) and not result.already_applied
    assert platform.state(login).balance == Decimal(99000)
    assert [c.outcome for c in platform.calls("withdraw")] == ["unavailable", "unavailable", "ok"]


async def test_a_reference_moves_one_amount_only(platform: RecordingPlatform) -> None:
    login = await opened(platform)
    await platform.deposit(login, Decimal(10), "dep-1")
    with pytest.raises(Refused, match="already moved") as reused:
        await platform.withdraw(login, Decimal(10), "dep-1")
    assert reused.value.vendor_code == "reference_reused"
    with pytest.raises(ValueError, match="positive Decimal"):
        await platform.deposit(login, Decimal(-5), "dep-2")


async def test_a_withdrawal_over_the_free_margin_is_refused(platform: RecordingPlatform) -> None:
    login = await opened(platform)
    platform.open_position(login, "EURUSD", "buy", "10", "1.10000")  # margin 11,000 at 1:100
    with pytest.raises(Refused, match="free margin") as refused:
        await platform.withdraw(login, Decimal(89001), "wd-1")
    assert refused.value.vendor_code == "no_money"
    await platform.withdraw(login, Decimal(89000), "wd-2")
    assert platform.state(login).free_margin == Decimal(0)


# -- events -----------------------------------------------------------------------------------


async def test_events_come_in_order_and_the_cursor_resumes_without_loss_or_repeat(
    platform: RecordingPlatform,
) -> None:
    login = await opened(platform)
    seen: list[PlatformEvent] = []
    cursor: str | None = None
    for step in range(5):
        platform.advance(minutes=1)
        position = platform.open_position(login, "EURUSD", "buy", "1", "1.10000")
        platform.quote("EURUSD", f"1.10{step + 1}00")
        platform.close_position(login, position)
        await platform.deposit(login, Decimal(1), f"dep-{step}")
        batch = await platform.events(login, cursor)  # at most 3: the poller falls behind
        seen.extend(batch.events)
        cursor = batch.cursor
        assert batch.more
    rest, cursor = await drain(platform, login, cursor)
    seen.extend(rest)
    assert seen == list(platform.journal(login))
    assert len(seen) == 1 + 5 * 4
    assert [e.time for e in seen] == sorted(e.time for e in seen)
    deal_ids = [e.id for e in seen if isinstance(e, Deal)]
    assert len(deal_ids) == len(set(deal_ids)) == 10
    # Caught up: nothing new, same cursor.
    empty = await platform.events(login, cursor)
    assert (empty.events, empty.cursor, empty.more) == ((), cursor, False)


async def test_an_old_cursor_returns_the_same_events_again(platform: RecordingPlatform) -> None:
    login = await opened(platform)
    platform.quote("EURUSD", "1.1")
    platform.open_position(login, "EURUSD", "sell", "2")
    first = await platform.events(login, None)
    again = await platform.events(login, None)  # the engine crashed before storing the cursor
    assert first == again
    with pytest.raises(ValueError, match="not issued for account"):
        await platform.events(login, "100002:1")
    with pytest.raises(ValueError, match="not issued for account"):
        await platform.events(login, f"{login}:99")


# -- trading rights and positions -------------------------------------------------------------


async def test_after_disable_trading_a_scripted_order_is_refused(
    platform: RecordingPlatform,
) -> None:
    login = await opened(platform)
    position = platform.open_position(login, "EURUSD", "buy", "1", "1.10000")
    await platform.disable_trading(login)
    await platform.disable_trading(login)  # idempotent
    assert not platform.state(login).trading_enabled
    with pytest.raises(Refused, match="trading is disabled") as refused:
        platform.open_position(login, "EURUSD", "buy", "1", "1.10000")
    assert refused.value.vendor_code == "trade_disabled"
    with pytest.raises(Refused):
        platform.close_position(login, position)
    assert [p.id for p in platform.state(login).positions] == [position]  # left open
    await platform.enable_trading(login)
    platform.close_position(login, position)
    assert platform.state(login).positions == ()


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


async def test_close_all_positions_retried_after_a_lost_answer_closes_once(
    platform: RecordingPlatform,
) -> None:
    login = await opened(platform)
    platform.open_position(login, "EURUSD", "buy", "1", "1.10000")
    platform.drop_next_response()
    with pytest.raises(TemporarilyUnavailable):
        await platform.close_all_positions(login)
    assert await platform.close_all_positions(login) == ()
    outs = [e for e in platform.journal(login) if isinstance(e, Deal) and e.entry == "out"]
    assert len(outs) == 1


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
